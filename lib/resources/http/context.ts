import { AsyncLocalStorage } from 'node:async_hooks';
import type { RouterContext } from '@koa/router';
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

export type HttpContext = RouterContext<HttpState>;

/**
 * What a route handler returns: a body, `[status, body]` (tomodachi's style), or nothing when it
 * sets `ctx.body` itself.
 */
export type HttpHandler = (ctx: HttpContext) => unknown;

const requestScope = new AsyncLocalStorage<string>();

/** Runs `work` with `requestId` as the id HttpClientResource propagates from inside it. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestScope.run(requestId, work);
}

/** The id of the HTTP request being served by the calling code, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore();
}
