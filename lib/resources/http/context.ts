import type { Log } from '../../lifecycle/log';

/** What the default middleware puts in `ctx.state` for every request. */
export interface HttpState {
  /** From the `x-request-id` header, or generated; echoed in the response. */
  readonly requestId: string;
  /** The server's logger with `request_id` bound. */
  readonly log: Log;
  /** The request body: parsed JSON for a JSON content type, text for `text/*`, bytes otherwise. */
  body?: unknown;
}

export type { HttpContext } from './contracts/types';
import type { HttpContext } from './contracts/types';

/**
 * What a route handler returns: a body, `reply(status, body)`, or nothing: 204 unless it
 * set `ctx.body` or `ctx.status` itself.
 */
export type HttpHandler = (ctx: HttpContext) => unknown;
