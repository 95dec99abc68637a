import type { IncomingHttpHeaders } from 'node:http';
import { addGraphCheck } from '../../../container/checks';
import type { HttpReply } from '../reply';
import { requireServerForRoutes } from '../route-check';
import type { WebSocketConnection } from './connection';

/** What a WebSocket route's `upgrade` hook sees of the request, before the connection is accepted. */
export interface WebSocketUpgrade {
  /** The request's path, without the query. */
  readonly path: string;
  /** The route template's parameters (`/rooms/:room`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** From the `x-request-id` header, or generated; the connection keeps it. */
  readonly requestId: string;
}

/** Nothing (or `true`) accepts the upgrade; `reply(status, body)` refuses it with that answer. */
export type UpgradeResult = void | undefined | boolean | HttpReply;

export interface WebSocketRouteOptions {
  /** The HTTP server that serves it, when the service has several. */
  server?: string;
  /** The codec of its messages by name (the service's `Codecs`): `json` unless told. */
  codec?: string;
  /** Overrides the server's `websocket.max_payload_bytes` for this route. */
  maxPayloadBytes?: number;
  /** Overrides the server's `websocket.slow_client` for this route. */
  slowClient?: 'close' | 'drop';
  /**
   * Runs before the upgrade, with `this` the instance that declares the route: refuse with
   * `reply(401, { error })` (or any status from 400), accept with nothing. A throw is a 500.
   */
  upgrade?(request: WebSocketUpgrade): UpgradeResult | Promise<UpgradeResult>;
}

/** What a WebSocket route's method is given once per accepted connection. */
export type WebSocketHandler<In = unknown, Out = In> = (
  connection: WebSocketConnection<In, Out>,
) => void | Promise<void>;

export interface DecoratedSocket {
  path: string;
  key: string | symbol;
  options: WebSocketRouteOptions;
}

const socketsByPrototype = new WeakMap<object, DecoratedSocket[]>();

/**
 * Serves WebSocket connections at `path` on the service's HTTP server: the method runs once per
 * accepted connection with it, and registers what to do with its messages
 * (`connection.onMessage`). Messages are decoded and encoded with the route's codec; type them
 * through the connection's parameters, `WebSocketConnection<ChatIn, ChatOut>`.
 */
export function websocket<const Path extends string>(path: Path, options: WebSocketRouteOptions = {}) {
  return <In, Out>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<WebSocketHandler<In, Out>>,
  ): void => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(`@websocket('${path}') must decorate a method, not ${String(key)}`);
    }
    addGraphCheck(target, requireServerForRoutes);
    const sockets = socketsByPrototype.get(target) ?? [];
    sockets.push({ path, key, options });
    socketsByPrototype.set(target, sockets);
  };
}

/** The WebSocket routes declared on a class (from its prototype) and the classes it extends, base classes first. */
export function socketsOfPrototype(prototype: object | null): DecoratedSocket[] {
  const chain: DecoratedSocket[][] = [];
  for (let proto = prototype; proto !== null;) {
    const own = socketsByPrototype.get(proto);
    if (own !== undefined) chain.unshift(own);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return chain.flat();
}
