import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Router from '@koa/router';
import { withRequestId } from '../../../context';
import type { Log } from '../../../lifecycle/log';
import type { Counter, Gauge, MeterFactory } from '../../../metrics';
import type { Tracing } from '../../../tracing';
import type { Codec, Codecs } from '../../amqp/codecs/codec';
import { HttpReply } from '../reply';
import { requestIdOf } from '../middleware';
import { endServerSpan, startServerSpan } from '../tracing';
import { WebSocketConnection, type CloseReason, type SlowClientPolicy } from './connection';
import type { UpgradeResult, WebSocketHandler, WebSocketRouteOptions, WebSocketUpgrade } from './decorator';
import { loadWs, type WsServer } from './driver';

export interface WebSocketSettings {
  max_payload_bytes: number;
  send_buffer_bytes: number;
  slow_client: SlowClientPolicy;
  ping_interval_ms: number;
}

interface Route {
  path: string;
  owner: string;
  handler: WebSocketHandler<unknown, unknown>;
  upgrade?: (request: WebSocketUpgrade) => UpgradeResult | Promise<UpgradeResult>;
  codec: Codec;
  slowClient: SlowClientPolicy;
  sendBufferBytes: number;
  /** One ws server per payload bound: ws takes it per server. */
  server: WsServer;
  meters: RouteMeters;
}

interface RouteMeters {
  open: Gauge;
  received: Counter;
  sent: Counter;
  dropped: Counter;
  closed: Map<CloseReason, Counter>;
  upgrades: Counter;
}

export interface SocketsOptions {
  serverName: string;
  log: Log;
  meters: MeterFactory;
  codecs: Codecs;
  tracing: Tracing;
  settings(): WebSocketSettings;
  retryAfterSeconds(): number;
  /** The upgraded socket is the server's until it closes: the drain must not close it as quiet. */
  hold(socket: Duplex): void;
}

/**
 * The WebSocket routes of one HTTP server: ws (an optional peer) loaded when the first route is
 * added, upgrades matched against the routes' templates, each connection counted, pinged, and
 * closed with 1001 when the server drains.
 */
export class WebSockets {
  private readonly router = new Router();
  private readonly routes = new Map<unknown, Route>();
  private readonly connections = new Set<WebSocketConnection<unknown, unknown>>();
  private readonly byPayload = new Map<number, WsServer>();
  private liveness?: NodeJS.Timeout;
  private draining = false;
  private meters?: {
    open: Gauge;
    messages: Counter;
    dropped: Counter;
    closed: Counter;
    upgrades: Counter;
  };

  constructor(private readonly options: SocketsOptions) {}

  get size(): number {
    return this.routes.size;
  }

  /** Connections open now. */
  get open(): number {
    return this.connections.size;
  }

  add(
    path: string,
    handler: WebSocketHandler<unknown, unknown>,
    routeOptions: WebSocketRouteOptions,
    owner: string,
  ): void {
    const ws = loadWs(`@websocket('${path}') on ${owner}`);
    const settings = this.options.settings();
    const maxPayload = routeOptions.maxPayloadBytes ?? settings.max_payload_bytes;
    let server = this.byPayload.get(maxPayload);
    if (server === undefined) {
      server = new ws.WebSocketServer({
        noServer: true,
        maxPayload,
        perMessageDeflate: false,
        clientTracking: false,
      });
      this.byPayload.set(maxPayload, server);
    }
    const codec = this.options.codecs.named(routeOptions.codec ?? 'json');
    const layer = this.router.register(path, ['GET'], () => undefined);
    this.routes.set(layer, {
      path,
      owner,
      handler,
      upgrade: routeOptions.upgrade,
      codec,
      slowClient: routeOptions.slowClient ?? settings.slow_client,
      sendBufferBytes: settings.send_buffer_bytes,
      server,
      meters: this.metersOf(path),
    });
  }

  /** Starts the liveness round (`websocket.ping_interval_ms`) once the server listens. */
  listen(): void {
    const interval = this.options.settings().ping_interval_ms;
    this.draining = false;
    if (interval > 0 && this.liveness === undefined && this.routes.size > 0) {
      this.liveness = setInterval(() => {
        for (const connection of this.connections) connection.ping();
      }, interval);
      this.liveness.unref();
    }
  }

  /** The server's `upgrade` event. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const requestId = requestIdOf(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const matched = this.match(url.pathname);
    if (matched === undefined) return refuse(socket, 404, 'no WebSocket route for this path', requestId);
    const { route, params } = matched;
    if (this.draining) {
      route.meters.upgrades.labels({ route: route.path, status: '503' }).inc();
      return refuse(socket, 503, 'the server is shutting down', requestId, {
        'Retry-After': String(this.options.retryAfterSeconds()),
      });
    }
    const { tracing } = this.options;
    const scope = tracing.enabled ? startServerSpan(tracing, request) : undefined;
    const inContext = <T>(work: () => T): T =>
      scope === undefined ? withRequestId(requestId, work) : tracing.run(scope, work, requestId);
    const answered = (status: number, error?: unknown) => {
      route.meters.upgrades.labels({ route: route.path, status: String(status) }).inc();
      if (scope !== undefined) endServerSpan(tracing, scope.span, request, route.path, status, error);
    };
    const upgrade: WebSocketUpgrade = {
      path: url.pathname,
      params,
      query: url.searchParams,
      headers: request.headers,
      requestId,
    };
    const decided = (result: UpgradeResult) => {
      if (result instanceof HttpReply) {
        const status = result.status >= 400 ? result.status : 403;
        answered(status);
        return refuse(socket, status, result.body ?? STATUS_CODES[status] ?? 'refused', requestId);
      }
      if (result === false) {
        answered(403);
        return refuse(socket, 403, STATUS_CODES[403]!, requestId);
      }
      if (socket.destroyed) return answered(499);
      route.server.handleUpgrade(request, socket, head, (ws) => {
        answered(101);
        this.options.hold(socket);
        this.accept(route, ws, params, request, requestId, inContext);
      });
    };
    const failed = (error: unknown) => {
      this.options.log.error(
        { err: error, request_id: requestId, route: route.path },
        `websocket ${route.path}: the upgrade hook of ${route.owner} failed: ${(error as Error)?.message ?? String(error)}`,
      );
      answered(500, error);
      refuse(socket, 500, 'internal error', requestId);
    };
    try {
      const result = route.upgrade === undefined ? undefined : inContext(() => route.upgrade!(upgrade));
      if (result instanceof Promise) result.then(decided, failed);
      else decided(result);
    } catch (error) {
      failed(error);
    }
  }

  /** At the drain's start: new upgrades get 503, every connection the close handshake with 1001. */
  closeAll(): number {
    this.draining = true;
    clearInterval(this.liveness);
    this.liveness = undefined;
    const count = this.connections.size;
    for (const connection of this.connections) connection.close(1001, 'server shutting down');
    return count;
  }

  private accept(
    route: Route,
    ws: Parameters<Parameters<WsServer['handleUpgrade']>[3]>[0],
    params: Readonly<Record<string, string>>,
    request: IncomingMessage,
    requestId: string,
    inContext: <T>(work: () => T) => T,
  ): void {
    const { meters } = route;
    const connection: WebSocketConnection<unknown, unknown> = new WebSocketConnection(ws, {
      route: route.path,
      params,
      headers: request.headers,
      requestId,
      codec: route.codec,
      binary: route.codec.contentType === 'application/octet-stream',
      sendBufferBytes: route.sendBufferBytes,
      slowClient: route.slowClient,
      inContext,
      log: this.options.log,
      events: {
        received: () => meters.received.inc(),
        sent: () => meters.sent.inc(),
        dropped: () => meters.dropped.inc(),
        closed: (reason) => {
          this.connections.delete(connection);
          meters.open.dec();
          let closed = meters.closed.get(reason);
          if (closed === undefined) {
            closed = this.meters!.closed.labels({ route: route.path, reason });
            meters.closed.set(reason, closed);
          }
          closed.inc();
        },
      },
    });
    this.connections.add(connection);
    meters.open.inc();
    // Closed by a drain that began while the upgrade was under way.
    if (this.draining) connection.close(1001, 'server shutting down');
    try {
      const done = inContext(() => route.handler(connection));
      if (done instanceof Promise)
        done.catch((error: unknown) => this.handlerFailed(route, connection, error));
    } catch (error) {
      this.handlerFailed(route, connection, error);
    }
  }

  private handlerFailed(
    route: Route,
    connection: WebSocketConnection<unknown, unknown>,
    error: unknown,
  ): void {
    this.options.log.error(
      { err: error, request_id: connection.requestId, route: route.path },
      `websocket ${route.path}: ${route.owner} failed on a new connection: ${(error as Error)?.message ?? String(error)}; closing with 1011`,
    );
    connection.close(1011, 'internal error');
  }

  private match(path: string): { route: Route; params: Readonly<Record<string, string>> } | undefined {
    for (const layer of this.router.stack) {
      if (!layer.match(path)) continue;
      const route = this.routes.get(layer);
      if (route !== undefined) return { route, params: layer.params(path, layer.captures(path)) };
    }
    return undefined;
  }

  private metersOf(path: string): RouteMeters {
    const { meters } = this.options;
    this.meters ??= {
      open: meters.gauge('websocket_connections', {
        help: 'WebSocket connections open, by route',
        labelNames: ['route'],
      }),
      messages: meters.counter('websocket_messages_total', {
        help: 'WebSocket messages, by route and direction (in: received, out: sent)',
        labelNames: ['route', 'direction'],
      }),
      dropped: meters.counter('websocket_dropped_messages_total', {
        help: 'Messages not sent to a client too slow to take them (its unsent bytes at websocket.send_buffer_bytes), by route',
        labelNames: ['route'],
      }),
      closed: meters.counter('websocket_closed_total', {
        help: 'WebSocket connections ended, by route and reason (client, server, stop, slow, liveness, payload, decode, error)',
        labelNames: ['route', 'reason'],
      }),
      upgrades: meters.counter('websocket_upgrades_total', {
        help: 'Upgrade requests answered, by route and status (101 accepted, else the refusal)',
        labelNames: ['route', 'status'],
      }),
    };
    const all = this.meters;
    return {
      open: all.open.labels({ route: path }),
      received: all.messages.labels({ route: path, direction: 'in' }),
      sent: all.messages.labels({ route: path, direction: 'out' }),
      dropped: all.dropped.labels({ route: path }),
      closed: new Map(),
      upgrades: all.upgrades,
    };
  }
}

/** An upgrade refused: an HTTP answer on the raw socket (the JSON error body of every route), then closed. */
function refuse(
  socket: Duplex,
  status: number,
  body: unknown,
  requestId: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed) return;
  const payload = Buffer.from(
    JSON.stringify(
      typeof body === 'string' ? { error: body, status, request_id: requestId } : (body ?? null),
    ),
  );
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${payload.length}`,
    `x-request-id: ${requestId}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]));
}
