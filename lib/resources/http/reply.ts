/**
 * A handler's answer with its status. It is a class of its own so that no value a handler returns
 * as data (an array such as `[201, 404]` included) is ever read as a status.
 */
export class HttpReply<Body = unknown, Status extends number = number> {
  constructor(
    readonly status: Status,
    readonly body?: Body,
  ) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`reply(${String(status)}, ...): the status must be an integer from 100 to 599`);
    }
  }
}

/**
 * `return reply(201, created)` from a route handler answers with that status and body; the status
 * is kept as its literal type, so a route's declared `responses` check the pair.
 */
export function reply<const Status extends number, Body = undefined>(
  status: Status,
  body?: Body,
): HttpReply<Body, Status> {
  return new HttpReply(status, body);
}
