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
 * What a route handler returns: a body, `reply(status, body)`, or nothing: 204 unless it
 * set `ctx.body` or `ctx.status` itself.
 */
export type HttpHandler = (ctx: HttpContext) => unknown;

/**
 * Off until something needs it: on Node 20 an AsyncLocalStorage in use puts async hooks on every
 * promise of the process, a cost each request pays whether or not anything reads the id.
 */
let requestScope: AsyncLocalStorage<string> | undefined;

/**
 * Makes `currentRequestId()` work inside requests served from now on. HttpClientResource calls it
 * when it is created, to pass the id on; call it at startup if your own code reads the id.
 */
export function enableRequestContext(): void {
  requestScope ??= new AsyncLocalStorage<string>();
}

/** Runs `work` with `requestId` as what `currentRequestId()` returns from inside it, once enabled. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestScope === undefined ? work() : requestScope.run(requestId, work);
}

/**
 * The id of the HTTP request being served by the calling code; undefined outside a request.
 * Throws while the request context is off, rather than answer "no request" for every request.
 */
export function currentRequestId(): string | undefined {
  if (requestScope === undefined) {
    throw new Error(
      'currentRequestId() needs the request context, which is off: no HttpClientResource was created; call enableRequestContext() at startup',
    );
  }
  return requestScope.getStore();
}

/** The current request's id when the request context is on; never throws. */
export function contextRequestId(): string | undefined {
  return requestScope?.getStore();
}
