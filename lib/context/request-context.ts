import { AsyncLocalStorage } from 'node:async_hooks';
import { KeelError } from '../errors';

/** `currentRequestId()` called while the request context is off (Node 20 and 22 by default). */
export class RequestContextError extends KeelError {
  override readonly name = 'RequestContextError';
  readonly code = 'REQUEST_CONTEXT_OFF';
}

/**
 * A typed slot of the request context, for what a feature keeps per request (a trace context, a
 * tenant): `withContextValue(key, value, work)` sets it for `work`, `contextValue(key)` reads it.
 * Keys are compared by identity, so two features never see each other's values.
 */
export class ContextKey<T> {
  /** Only carries `T` for the type checker. */
  declare readonly valueType?: T;

  constructor(readonly description: string) {}

  toString(): string {
    return `ContextKey(${this.description})`;
  }
}

/**
 * What travels with the work of one request through its awaits, timers and callbacks: the request
 * id, and the values features set under their keys. Immutable: setting a value makes a new one, so
 * work that started before sees what it saw.
 */
export class RequestContext {
  static readonly EMPTY = new RequestContext(undefined, undefined);

  private constructor(
    /** The id of the request (or message) the work belongs to. */
    readonly requestId: string | undefined,
    private readonly values: ReadonlyMap<ContextKey<unknown>, unknown> | undefined,
  ) {}

  get<T>(key: ContextKey<T>): T | undefined {
    return this.values?.get(key) as T | undefined;
  }

  withRequestId(requestId: string): RequestContext {
    return new RequestContext(requestId, this.values);
  }

  /** This context with `value` under `key`; with `requestId`, also with that request id (one context made, not two). */
  with<T>(key: ContextKey<T>, value: T, requestId = this.requestId): RequestContext {
    const values = new Map(this.values);
    values.set(key, value);
    return new RequestContext(requestId, values);
  }
}

/**
 * Whether AsyncLocalStorage rests on async hooks here. It does on Node 20 and 22 and with
 * `--no-async-context-frame`: once in use, a hook runs for every promise of the process, a cost each
 * request pays whether or not anything reads the context. From Node 24 it rides on
 * AsyncContextFrame, which costs nothing measurable per request. Told apart by shape, not by
 * version, so that the flag either way is honoured: only the hook-based class has `_propagate`,
 * the hook it installs.
 */
const contextNeedsAsyncHooks = '_propagate' in AsyncLocalStorage.prototype;

/**
 * Whether the request context is on in this process without anything switching it on: on Node
 * versions whose AsyncLocalStorage no longer uses async hooks (24 and later by default).
 */
export const requestContextByDefault = !contextNeedsAsyncHooks;

/** Made on first use: where it needs hooks, making it is cheap but running work in it is not. */
let storage: AsyncLocalStorage<RequestContext> | undefined;
/** On for the rest of the process: where it is cheap, or once `enableRequestContext()` was called. */
let pinned = requestContextByDefault;
/** Apps holding it on (`ServiceHandle.useRequestContext()`), each until its stop ends. */
let holds = 0;

function isOn(): boolean {
  return pinned || holds > 0;
}

function storageOn(): AsyncLocalStorage<RequestContext> {
  storage ??= new AsyncLocalStorage<RequestContext>();
  return storage;
}

/**
 * Switches the request context on for the rest of the process, where it is not on by default. For
 * scripts and code outside a service; a service (or a resource) calls `useRequestContext()` on its
 * `ServiceHandle` instead, which holds it on only while that service runs.
 */
export function enableRequestContext(): void {
  pinned = true;
}

/**
 * Holds the request context on until the returned release is called (each release counts once).
 * Where it rests on async hooks, the last release switches them off again, so a process whose
 * services no longer need it stops paying for it. `ServiceHandle.useRequestContext()` is this, per app.
 */
export function holdRequestContext(): () => void {
  holds += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds -= 1;
    // Off again: AsyncLocalStorage removes its promise hook when no instance is enabled; `run` enables it again.
    if (!isOn()) storage?.disable();
  };
}

/** Whether work run now carries its request context (`currentRequestId()` does not throw). */
export function requestContextOn(): boolean {
  return isOn();
}

/** The context of the calling code; undefined outside any request, or while the context is off. */
export function currentContext(): RequestContext | undefined {
  return isOn() ? storage?.getStore() : undefined;
}

/**
 * Runs `work` in `context` (one `currentContext()` returned earlier, to continue a request in a
 * callback that lost it); runs it as it is while the request context is off.
 */
export function withContext<T>(context: RequestContext, work: () => T): T {
  return isOn() ? storageOn().run(context, work) : work();
}

/**
 * Runs `work` with `requestId` as what `currentRequestId()` returns from inside it, keeping the
 * values of the calling context: how a server or a consumer continues a request it received.
 */
export function withRequestId<T>(requestId: string, work: () => T): T {
  if (!isOn()) return work();
  const scope = storageOn();
  return scope.run((scope.getStore() ?? RequestContext.EMPTY).withRequestId(requestId), work);
}

/** Runs `work` with `value` under `key`, over the calling context. */
export function withContextValue<T, R>(key: ContextKey<T>, value: T, work: () => R): R {
  if (!isOn()) return work();
  const scope = storageOn();
  return scope.run((scope.getStore() ?? RequestContext.EMPTY).with(key, value), work);
}

/** The value under `key` in the calling context; undefined when unset or while the context is off. */
export function contextValue<T>(key: ContextKey<T>): T | undefined {
  return currentContext()?.get(key);
}

/**
 * The id of the request being served by the calling code; undefined outside a request.
 * Throws while the request context is off, rather than answer "no request" for every request.
 */
export function currentRequestId(): string | undefined {
  if (!isOn()) {
    throw new RequestContextError(
      `currentRequestId() needs the request context, which is off by default on Node ${process.versions.node}: ` +
        'call useRequestContext() on the ServiceHandle (@inject(SERVICE)) of the service that reads it, or enableRequestContext() at startup',
    );
  }
  return storage?.getStore()?.requestId;
}

/** The current request's id when the request context is on; never throws. How a sender propagates it. */
export function contextRequestId(): string | undefined {
  return currentContext()?.requestId;
}

/** The header that carries a request id between services, over HTTP and in messages. */
export const REQUEST_ID_HEADER = 'x-request-id';
