import { AsyncLocalStorage } from 'node:async_hooks';
import type { Log } from '../../lifecycle/log';
import { RequestContextError } from './errors';

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

/**
 * Whether AsyncLocalStorage rests on async hooks here. It does on Node 20 and 22 and with
 * `--no-async-context-frame`: once in use, a hook runs for every promise of the process, a cost each
 * request pays whether or not anything reads the id. From Node 24 it rides on AsyncContextFrame,
 * which costs nothing measurable per request. Told apart by shape, not by version, so that the flag
 * either way is honoured: only the hook-based class has `_propagate`, the hook it installs.
 */
const contextNeedsAsyncHooks = '_propagate' in AsyncLocalStorage.prototype;

/** On from the start where it is cheap; elsewhere off until something needs it. */
let requestScope: AsyncLocalStorage<string> | undefined = contextNeedsAsyncHooks
  ? undefined
  : new AsyncLocalStorage<string>();

/**
 * Whether the request context is on in this process without `enableRequestContext()`: on Node
 * versions whose AsyncLocalStorage no longer uses async hooks (24 and later by default).
 */
export const requestContextByDefault = !contextNeedsAsyncHooks;

/**
 * Makes `currentRequestId()` work inside requests served from now on, where it is not on by
 * default. HttpClientResource calls it when it is created, to pass the id on; call it at startup
 * if your own code reads the id and must run on Node 20 or 22.
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
    throw new RequestContextError(
      `currentRequestId() needs the request context, which is off by default on Node ${process.versions.node}: no HttpClientResource was created; call enableRequestContext() at startup`,
    );
  }
  return requestScope.getStore();
}

/** The current request's id when the request context is on; never throws. */
export function contextRequestId(): string | undefined {
  return requestScope?.getStore();
}
