/**
 * A handler's answer with its status. It is a class of its own so that no value a handler returns
 * as data (an array such as `[201, 404]` included) is ever read as a status.
 */
export class HttpReply<Body = unknown> {
  constructor(
    readonly status: number,
    readonly body?: Body,
  ) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`reply(${String(status)}, ...): the status must be an integer from 100 to 599`);
    }
  }
}

/** `return reply(201, created)` from a route handler answers with that status and body. */
export function reply<Body>(status: number, body?: Body): HttpReply<Body> {
  return new HttpReply(status, body);
}
