import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Middleware } from 'koa';
import type { Log } from '../../lifecycle/log';
import { maskText } from '../../settings/redact';
import type { Counter, Histogram, MeterFactory } from '../../metrics';
import { REQUEST_ID_HEADER, withRequestId } from '../../context';
import type { Tracing } from '../../tracing';
import { endServerSpan, startServerSpan } from './tracing';
import { contentCodings, decodeContent, parseBody } from './body';
import type { HttpState } from './context';
import { HttpResponseError } from './errors';
import { turnAway } from './drain';
import type { CorsSettings } from './settings';

/** The `route` label of a request no route matched: raw paths would make one series per URL. */
export const UNMATCHED_ROUTE = 'unmatched';

const REQUEST_ID = /^[\w.:@=+/-]{1,128}$/;

export interface ObserveOptions {
  log: Log;
  meters: MeterFactory;
  /** Error bodies carry the stack. */
  exposeStack: boolean;
  accessLog: boolean;
  /** While it is true, every response closes its connection. */
  isDraining(): boolean;
  /** While it is true, requests are turned away with 503 (the listener is closed). */
  turnsAway(): boolean;
  retryAfterSeconds: number;
  /**
   * The route template a request for `method path` would match, for a request that failed before
   * the router saw it (a body too large or not JSON): it is counted under that route.
   */
  routeOf(method: string, path: string): string | undefined;
  /** The service's tracing: while enabled, each request is a server span. */
  tracing: Tracing;
}

// Unique across processes by the random prefix, and far cheaper per request than a UUID.
const REQUEST_ID_PREFIX = randomBytes(6).toString('hex');
let requestSequence = 0;

function nextRequestId(): string {
  return `${REQUEST_ID_PREFIX}-${(++requestSequence).toString(36)}`;
}

/** A request's id: its `x-request-id` when that is a sane one, else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : nextRequestId();
}

interface MethodMeters {
  duration: Histogram;
  byStatus: Map<number, Counter>;
}

/**
 * The request meters, found per request through nested maps on route, method and status: no label
 * object or key string is built once a combination has been seen.
 */
class RouteMeters {
  private readonly requests: Counter;
  private readonly durations: Histogram;
  private readonly byRoute = new Map<string, Map<string, MethodMeters>>();

  constructor(meters: MeterFactory) {
    this.requests = meters.counter('http_requests_total', {
      help: 'HTTP requests served, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
    });
    this.durations = meters.histogram('http_request_duration_seconds', {
      help: 'Time from the request to its response, by method and route template',
      labelNames: ['method', 'route'],
    });
  }

  record(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.byRoute.get(route);
    if (byMethod === undefined) this.byRoute.set(route, (byMethod = new Map()));
    let meters = byMethod.get(method);
    if (meters === undefined) {
      meters = { duration: this.durations.labels({ method, route }), byStatus: new Map() };
      byMethod.set(method, meters);
    }
    let counter = meters.byStatus.get(status);
    if (counter === undefined) {
      counter = this.requests.labels({ method, route, status });
      meters.byStatus.set(status, counter);
    }
    counter.inc();
    meters.duration.observe(seconds);
  }
}

/** `log` is made on first use: most requests never log beyond their access line. */
class RequestState implements HttpState {
  body?: unknown;
  private child?: Log;

  constructor(
    readonly requestId: string,
    private readonly serverLog: Log,
  ) {}

  get log(): Log {
    this.child ??= this.serverLog.child({ request_id: this.requestId });
    return this.child;
  }
}

interface RoutedState {
  _matchedRoute?: string | RegExp;
}

/**
 * The outermost middleware: request id (from `x-request-id` or generated) on a child logger and
 * in the response, errors turned into a JSON body, the request counted and timed by route
 * template, and one access log line.
 */
export function observe({
  log,
  meters,
  exposeStack,
  accessLog,
  isDraining,
  turnsAway,
  retryAfterSeconds,
  routeOf,
  tracing,
}: ObserveOptions): Middleware<HttpState> {
  const routeMeters = new RouteMeters(meters);
  // Not an async function: chaining on what `next` returns makes one promise fewer per request.
  return (ctx, next) => {
    const began = performance.now();
    // Node's request and response, not koa's delegating getters: this runs for every request.
    const requestId = requestIdOf(ctx.req);
    ctx.state = new RequestState(requestId, log);
    ctx.res.setHeader(REQUEST_ID_HEADER, requestId);
    const scope = tracing.enabled ? startServerSpan(tracing, ctx.req) : undefined;
    let thrown: unknown;
    const finish = (): void => {
      // koa would serialize the body after this middleware returned, so a failure there was answered
      // in plain text, without the request id, after the 200 had been counted and logged.
      if (thrown === undefined && isJsonBody(ctx.body) && ctx.respond !== false) {
        try {
          const text = JSON.stringify(ctx.body);
          if (text !== undefined) ctx.body = text;
        } catch (error) {
          thrown = new HttpResponseError(
            'HTTP_RESPONSE_UNSERIALIZABLE',
            `${ctx.method} ${ctx.path}: the answer cannot be serialized as JSON: ${(error as Error).message}`,
            { cause: error },
          );
          respondWithError(ctx, thrown, exposeStack, ctx.state.log);
        }
      }
      if (isDraining()) ctx.set('Connection', 'close');
      const { method, path } = ctx.request;
      const status = ctx.res.statusCode;
      const matched = (ctx as RoutedState)._matchedRoute;
      // koa would answer an error nothing wrote (no route, a 405 of the router) in plain text.
      if (status >= 400 && ctx.body == null) {
        ctx.body = errorBody(status, unansweredMessage(ctx, matched !== undefined), requestId);
        ctx.status = status;
      }
      const route =
        matched !== undefined ? String(matched) : (status >= 400 && routeOf(method, path)) || UNMATCHED_ROUTE;
      const seconds = (performance.now() - began) / 1000;
      routeMeters.record(method, route, status, seconds);
      if (scope !== undefined)
        endServerSpan(
          tracing,
          scope.span,
          ctx.req,
          route === UNMATCHED_ROUTE ? undefined : route,
          status,
          thrown,
        );
      if (!accessLog) return;
      const ms = Math.round(seconds * 10_000) / 10;
      // Written after the handler's context is gone: the span's ids are given here.
      const ids = scope === undefined ? undefined : tracing.logFieldsOf(scope.span);
      log.info(
        { request_id: requestId, method, path, route, status, ms, remote: ctx.request.ip, ...ids },
        `${method} ${path} ${status} ${ms} ms`,
      );
    };
    const fail = (error: unknown): void => {
      thrown = error;
      respondWithError(ctx, error, exposeStack, ctx.state.log);
      finish();
    };
    if (turnsAway()) {
      turnAway(ctx, retryAfterSeconds);
      return finish();
    }
    let handled: Promise<unknown>;
    try {
      handled = scope === undefined ? withRequestId(requestId, next) : tracing.run(scope, next, requestId);
    } catch (error) {
      return fail(error);
    }
    return handled.then(finish, fail);
  };
}

/** What koa's `respond` would JSON.stringify: an object that is no bytes, stream, Blob or Response. */
function isJsonBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false;
  return !(body instanceof Blob || body instanceof ReadableStream || body instanceof Response);
}

interface HttpErrorShape {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  headers?: unknown;
  message?: unknown;
  stack?: unknown;
}

function respondWithError(
  ctx: Parameters<Middleware<HttpState>>[0],
  error: unknown,
  exposeStack: boolean,
  log: Log,
): void {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as HttpErrorShape;
  const declared = shape.status ?? shape.statusCode;
  const status =
    typeof declared === 'number' && Number.isInteger(declared) && declared >= 400 && declared < 600
      ? declared
      : 500;
  // A 4xx message is written for the client; a 5xx one may leak internals, as koa assumes.
  const expose = typeof shape.expose === 'boolean' ? shape.expose : status < 500;
  if (status >= 500) log.error({ err: error, status }, `request failed: ${String(shape.message ?? error)}`);
  if (typeof shape.headers === 'object' && shape.headers !== null) {
    for (const [field, value] of Object.entries(shape.headers)) ctx.set(field, String(value));
  }
  ctx.status = status;
  // Masked as a log line is: `ctx.throw(400, \`cannot use ${dsn}\`)` must not answer the DSN's password.
  ctx.body = {
    ...errorBody(
      status,
      expose && typeof shape.message === 'string' ? maskText(shape.message) : statusText(status),
      ctx.state.requestId,
    ),
    // A 4xx is the client's doing: its stack would tell the client nothing and show the server's code.
    ...(exposeStack && status >= 500 && typeof shape.stack === 'string' && { stack: maskText(shape.stack) }),
  };
}

/** The JSON body of every error answer: `{ error, status, request_id }`. */
function errorBody(status: number, error: string, requestId: string): HttpErrorBody {
  return { error, status, request_id: requestId };
}

interface HttpErrorBody {
  error: string;
  status: number;
  request_id: string;
}

function unansweredMessage(ctx: Parameters<Middleware<HttpState>>[0], routed: boolean): string {
  if (ctx.status === 404 && !routed) return `no route matches ${ctx.method} ${ctx.path}`;
  if (ctx.status === 405)
    return `${ctx.method} is not allowed on ${ctx.path} (allowed: ${ctx.response.get('Allow')})`;
  return STATUS_CODES[ctx.status] ?? statusText(ctx.status);
}

function statusText(status: number): string {
  return status >= 500 ? 'internal server error' : 'request failed';
}

/**
 * With it, node closes the socket once the 413 is written instead of reading the rest of the body
 * to keep the connection: a client that declared a gigabyte would otherwise send all of it.
 */
const CLOSE = { headers: { Connection: 'close' } };

/** Whether a request declares a body larger than `maxBytes`: it gets 413 before any of it is read. */
export function declaresTooLarge(request: IncomingMessage, maxBytes: number): boolean {
  const declared = request.headers['content-length'];
  return declared !== undefined && Number(declared) > maxBytes;
}

/**
 * Reads the request body into `ctx.state.body` (its content codings undone, then `parseBody`);
 * a body larger than `maxBytes`, as sent or once decoded, gets 413 without being read any further.
 */
export function readBody(maxBytes: number): Middleware<HttpState> {
  const readThenNext: Middleware<HttpState> = async (ctx, next) => {
    if (declaresTooLarge(ctx.req, maxBytes)) {
      const declared = ctx.req.headers['content-length']!;
      ctx.throw(413, `request body of ${declared} bytes is over the limit of ${maxBytes}`, CLOSE);
    }
    // Refused (415) before a byte is read: a coding Keel cannot undo would reach handlers as garbage.
    const codings = contentCodings(ctx.req.headers['content-encoding']);
    const bytes = await collect(ctx.req, maxBytes);
    if (bytes === undefined)
      return ctx.throw(413, `request body is over the limit of ${maxBytes} bytes`, CLOSE);
    const decoded = codings.length === 0 ? bytes : await decodeContent(bytes, codings, maxBytes);
    ctx.state.body = parseBody(decoded, ctx.request.type);
    return next();
  };
  // Most requests have no body; they pass without the async frame reading one costs.
  return (ctx, next) => {
    const { headers } = ctx.req;
    const declared = headers['content-length'];
    if (headers['transfer-encoding'] === undefined && (declared === undefined || declared === '0'))
      return next();
    return readThenNext(ctx, next);
  };
}

/**
 * The body, or undefined once it passes `maxBytes`. It stops collecting without destroying the
 * stream (an async iterator would): node discards the rest, so the 413 reaches the client.
 */
function collect(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      detach();
      resolve(undefined);
    };
    const onEnd = () => {
      detach();
      resolve(Buffer.concat(chunks));
    };
    // Node cut the request short (request timeout, client gone) and has answered or closed the socket.
    const onClose = () => {
      detach();
      reject(Object.assign(new Error('request body was cut short'), { status: 408 }));
    };
    const detach = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onClose);
  });
}

/** CORS for the configured origins; a preflight is answered here with 204. */
export function cors(settings: CorsSettings): Middleware<HttpState> {
  const anyOrigin = settings.origins.includes('*');
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (origin === '') return next();
    ctx.vary('Origin');
    if (!anyOrigin && !settings.origins.includes(origin)) return next();
    // Never the request's origin for '*': settings refuse '*' with credentials, and this never grants them.
    ctx.set('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
    if (settings.credentials && !anyOrigin) ctx.set('Access-Control-Allow-Credentials', 'true');
    if (ctx.method !== 'OPTIONS' || ctx.get('Access-Control-Request-Method') === '') return next();
    ctx.set('Access-Control-Allow-Methods', settings.methods.join(', '));
    const allowed =
      settings.headers.length > 0 ? settings.headers.join(', ') : ctx.get('Access-Control-Request-Headers');
    if (allowed !== '') ctx.set('Access-Control-Allow-Headers', allowed);
    ctx.set('Access-Control-Max-Age', String(settings.max_age_s));
    ctx.status = 204;
  };
}
