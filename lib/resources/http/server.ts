import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Socket } from 'node:net';
import Router from '@koa/router';
import { inject, optional } from '../../container/injection';
// The types through a namespace import, so that the declarations emitted for `app` do not default-import
// koa's `export =` (TS1259 in a consumer without esModuleInterop); the class through the default import.
import KoaApplication from 'koa';
import type * as Koa from 'koa';
import { resource } from '../../container/decorators';
import { LOGGER, METRICS, RESOURCE_NAME, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import type { MeterFactory } from '../../metrics';
import type { SettingsView } from '../../settings/types';
import { SchemaCompiler } from '../../contracts/validator';
import type { HttpContext, HttpHandler, HttpState } from './context';
import { instanceIdentity } from '../../identity/instance';
import {
  openApiDocument,
  openApiInfoFor,
  type DocumentedRoute,
  type OpenApiDocument,
} from './contracts/openapi';
import { compileRouteChecks, type RouteChecks, type ValidationDefaults } from './contracts/validation';
import type { HttpRouteOptions, NoOptions, RouteHandler } from './contracts/types';
import { decoratedRoutes, type DecoratedRoute, type HttpMethod } from './decorators';
import { DirectRoutes } from './direct-routes';
import { DescriptorWatch } from './descriptors';
import { Drain } from './drain';
import { claimDecorated, quotedList, type Declared } from '../decorated';
import { HttpRouteError, listenFailure } from './errors';
import { cors, declaresTooLarge, observe, readBody } from './middleware';
import { HttpReply } from './reply';
import { httpServerRules, httpServerSchema, type HttpServerSettings } from './settings';
import { CODECS, Codecs } from '../amqp/codecs/codec';
import {
  socketsOfPrototype,
  type DecoratedSocket,
  type WebSocketHandler,
  type WebSocketRouteOptions,
} from './websocket/decorator';
import { WebSockets } from './websocket/sockets';
import { isPromiseLike } from '../../util';

/**
 * An HTTP server on koa. Routes come from `router`, `route()` and `@http` methods of the
 * microservice and its resources. It listens once every resource has started and, when the
 * service stops, drains before any resource stops: the handlers' resources outlive every request.
 */
@resource({ settings: httpServerSchema, settingsRules: httpServerRules, name: 'http' })
export class HttpServerResource {
  readonly app: Koa<HttpState>;
  /** Routes added here (before or after start) are served with the default middleware around them. */
  readonly router: Router<HttpState, Koa.DefaultContext> = new Router<HttpState>();
  private readonly directRoutes = new DirectRoutes(this.router);
  /** Compiles the routes' schemas; ajv is loaded only once a route has one. */
  private readonly schemas = new SchemaCompiler();
  private readonly documented: DocumentedRoute[] = [];
  private document?: OpenApiDocument;
  private server?: Server;
  private drainer?: Drain;
  private routesMounted = false;
  private readonly sockets: WebSockets;
  /** Said once when the process runs out of file descriptors, once when it has some again. */
  private readonly descriptors = new DescriptorWatch(({ exhausted, open, limit }) => {
    const counted = `${open ?? 'all'} of ${limit ?? 'its'} file descriptors open (ulimit -n)`;
    if (exhausted)
      this.log.error(
        { open_fds: open, max_fds: limit },
        `http server '${this.name}': the process has no file descriptor left, ${counted}: new connections are closed as soon as they are accepted, with nothing else logged, until some close`,
      );
    else
      this.log.info(
        { open_fds: open, max_fds: limit },
        `http server '${this.name}': file descriptors are available again (${counted})`,
      );
  });

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<HttpServerSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meters: MeterFactory,
    @inject(RESOURCE_NAME) readonly name: string,
    @optional() @inject(CODECS) codecs: Codecs = new Codecs(),
  ) {
    const {
      trust_proxy,
      cors: corsSettings,
      max_body_bytes,
      expose_errors,
      retry_after_s,
      access_log,
    } = settings.value();
    this.app = new KoaApplication<HttpState>({ proxy: trust_proxy });
    markStatusSet(this.app);
    this.app.on('error', (error: unknown) =>
      log.error({ err: error }, `unhandled error while answering: ${String(error)}`),
    );
    this.app.use(
      observe({
        log,
        meters,
        exposeStack: expose_errors === 'always' || (expose_errors === 'auto' && !isProduction()),
        accessLog: access_log,
        isDraining: () => this.drainer?.isDraining === true,
        turnsAway: () => this.drainer?.turnsAway === true,
        retryAfterSeconds: retry_after_s,
        tracing: service.tracing,
        routeOf: (method, path) => {
          const layer = this.router
            .match(path, method)
            .pathAndMethod.filter(({ methods }) => methods.length > 0)
            .at(-1);
          return layer === undefined ? undefined : String(layer.path);
        },
      }),
    );
    if (corsSettings.enabled) this.app.use(cors(corsSettings));
    this.app.use(readBody(max_body_bytes));
    this.sockets = new WebSockets({
      serverName: name,
      log,
      meters,
      codecs,
      tracing: service.tracing,
      settings: () => this.settings.value().websocket,
      retryAfterSeconds: () => this.settings.value().retry_after_s,
      hold: (socket) => this.drainer?.hold(socket as Socket),
    });
    service.onStopping(() => this.drain());
  }

  /** The bound address while listening (the real port when the setting is 0). */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  /**
   * A route whose handler returns its body or `reply(status, body)`, like an `@http` method, with
   * the same options: schemas (compiled here, once) and documentation.
   */
  route<const Path extends string, const O extends HttpRouteOptions = NoOptions>(
    method: HttpMethod,
    path: Path,
    handler: RouteHandler<Path, O>,
    options?: O,
  ): void {
    this.addRoute(method, path, handler as HttpHandler, options, `${this.name}_${method}_${path}`);
  }

  /**
   * WebSocket connections at `path` (a template: `/rooms/:room`), as `@websocket` serves them:
   * `handler` runs once per accepted connection. Added before the server listens.
   */
  websocket<In = unknown, Out = In>(
    path: string,
    handler: WebSocketHandler<In, Out>,
    options: WebSocketRouteOptions = {},
  ): void {
    this.sockets.add(path, handler as WebSocketHandler<unknown, unknown>, options, this.name);
  }

  /** WebSocket connections open now. */
  get openWebSockets(): number {
    return this.sockets.open;
  }

  /**
   * The OpenAPI 3.1 document of the routes this server serves (what `GET /openapi.json` answers
   * with while `openapi.enabled`), `@openApi` declarations of the service's classes included.
   */
  openApiDocument(): OpenApiDocument {
    this.document ??= openApiDocument(
      { name: this.service.name, version: instanceIdentity().version },
      this.documented,
      openApiInfoFor(
        this.service.graph.nodes.map(
          (node) => (this.service.instance(node.name) as object | undefined)?.constructor,
        ),
        this.name,
      ),
    );
    return this.document;
  }

  private addRoute(
    method: HttpMethod,
    path: string,
    handler: HttpHandler,
    options: HttpRouteOptions | undefined,
    owner: string,
  ): void {
    if (options !== undefined) {
      this.documented.push({ method, path, owner, options });
      this.document = undefined;
    }
    const checks =
      options === undefined
        ? undefined
        : compileRouteChecks(this.schemas, `${method} ${path}`, options, this.validationDefaults());
    const serve = handler;
    // A handler that answers synchronously is not awaited: one promise and one tick less per request.
    const layer = this.router.register(
      path,
      [method],
      checks === undefined
        ? (ctx) => {
            const result = serve(ctx);
            return isPromiseLike(result)
              ? Promise.resolve(result).then((body) => respond(ctx, body))
              : respond(ctx, result);
          }
        : (ctx) => serveChecked(ctx, serve, checks),
    );
    // A string path gives one layer; only a list of paths gives the router back.
    if (!(layer instanceof Router)) this.directRoutes.add(layer);
  }

  /** Listens only now: no handler, wherever declared, runs before its resource's start hook. */
  async postStart(): Promise<void> {
    if (!this.routesMounted) {
      this.bindDecoratedRoutes();
      const { enabled, path } = this.settings.value().openapi;
      if (enabled === 'on' || (enabled === 'auto' && this.service.env.NODE_ENV !== 'production')) {
        this.router.register(path, ['GET'], (ctx) => {
          ctx.body = this.openApiDocument();
        });
      }
      // Last, so that middleware the service adds with `app.use` runs before its routes.
      this.app.use(this.directRoutes.middleware());
      this.routesMounted = true;
    }
    const settings = this.settings.value();
    const server = createServer({
      requestTimeout: settings.request_timeout_ms,
      headersTimeout:
        settings.request_timeout_ms > 0
          ? Math.min(settings.headers_timeout_ms, settings.request_timeout_ms)
          : settings.headers_timeout_ms,
      keepAliveTimeout: settings.keep_alive_timeout_ms,
      // Node checks both timeouts every 30 s by default, far too coarse for timeouts of seconds.
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(
          30_000,
          Math.floor(Math.min(settings.headers_timeout_ms, settings.request_timeout_ms || Infinity) / 4),
        ),
      ),
    });
    server.on('request', this.app.callback());
    // Node answers `Expect: 100-continue` itself unless told otherwise, inviting a body it will refuse.
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      if (!declaresTooLarge(request, settings.max_body_bytes)) response.writeContinue();
      server.emit('request', request, response);
    });
    const drainer = new Drain(server);
    if (this.sockets.size > 0) {
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
        this.sockets.upgrade(request, socket, head),
      );
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          listenFailure(
            `http server '${this.name}'`,
            this.settings.path,
            settings.host,
            settings.port,
            error,
          ),
        ),
      );
      server.listen({ host: settings.host, port: settings.port }, resolve);
    });
    this.server = server;
    this.drainer = drainer;
    this.sockets.listen();
    this.descriptors.start();
    const { address, port } = this.address()!;
    this.log.info(
      { host: address, port },
      `http server '${this.name}' listening on http://${address}:${port}`,
    );
  }

  /** Already done when the service stops as a whole; this is the path of a restart of this resource. */
  async stop(): Promise<void> {
    await this.drain();
  }

  private async drain(): Promise<void> {
    const drainer = this.drainer;
    if (drainer === undefined) return;
    this.descriptors.stop();
    const { shutdown_delay_ms, drain_idle_grace_ms, drain_timeout_ms } = this.settings.value();
    const sockets = this.sockets.closeAll();
    if (sockets > 0)
      this.log.info({ websockets: sockets }, `closing ${sockets} WebSocket connection(s) with 1001`);
    await drainer.drain(
      { shutdownDelayMs: shutdown_delay_ms, idleGraceMs: drain_idle_grace_ms, timeoutMs: drain_timeout_ms },
      this.log,
    );
    if (this.drainer === drainer) {
      this.drainer = undefined;
      this.server = undefined;
    }
  }

  private bindDecoratedRoutes(): void {
    const service = this.service.name;
    const claim = <D extends Declared>(
      declaredOn: (instance: object) => readonly D[],
      named: (declared: D) => string | undefined,
      where: (declared: D, owner: string) => string,
    ) =>
      claimDecorated<D>(
        this.service,
        this.name,
        (instance) => instance instanceof HttpServerResource,
        declaredOn,
        {
          named,
          where,
          unknown: (at, server, choices) =>
            new HttpRouteError(
              'HTTP_ROUTE_UNKNOWN_SERVER',
              `${at} names server '${server}', which ${service} does not have; its HTTP servers: ${quotedList(choices)}`,
            ),
          ambiguous: (at, choices) =>
            new HttpRouteError(
              'HTTP_ROUTE_AMBIGUOUS_SERVER',
              `${at} does not say which HTTP server serves it, and ${service} has ${choices.length}: add { server: ${quotedList(choices, ' | ')} }`,
            ),
        },
      );
    const routes = claim<DecoratedRoute>(
      decoratedRoutes,
      (declared) => declared.server,
      (declared, owner) =>
        `@http('${declared.method}', '${declared.path}') on ${owner}.${String(declared.key)}`,
    );
    for (const { declared, owner, call } of routes) {
      this.addRoute(declared.method, declared.path, (ctx) => call(ctx), declared.options, owner);
    }
    const sockets = claim<DecoratedSocket>(
      (instance) => socketsOfPrototype(Object.getPrototypeOf(instance) as object),
      (declared) => declared.options.server,
      (declared, owner) => `@websocket('${declared.path}') on ${owner}.${String(declared.key)}`,
    );
    for (const { declared, owner, call, instance } of sockets) {
      const { upgrade } = declared.options;
      this.sockets.add(
        declared.path,
        (connection) => call(connection) as void | Promise<void>,
        { ...declared.options, upgrade: upgrade && ((request) => upgrade.call(instance, request)) },
        owner,
      );
    }
  }

  private validationDefaults(): ValidationDefaults {
    const { unknown_properties, responses } = this.settings.value().validation;
    return {
      unknownProperties: unknown_properties,
      responses: responses === 'on' || (responses === 'auto' && this.service.env.NODE_ENV !== 'production'),
    };
  }
}

/** A route with schemas: its parts checked first (400 without running the handler), its answer after. */
function serveChecked(ctx: HttpContext, handler: HttpHandler, checks: RouteChecks): unknown {
  if (!checks.request(ctx)) return undefined;
  const result = handler(ctx);
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then((body) => {
      respond(ctx, body);
      checks.response?.(ctx);
    });
  }
  respond(ctx, result);
  checks.response?.(ctx);
  return undefined;
}

function respond(ctx: HttpContext, result: unknown): void {
  const { response } = ctx;
  if (result instanceof HttpReply) {
    response.status = result.status;
    if (result.body !== undefined) response.body = result.body;
  } else if (result !== undefined) {
    response.body = result;
  } else if (response.body === undefined && !(response as StatusMarked)[STATUS_SET]) {
    // Nothing returned and nothing set on ctx: an answer without content, not koa's 404.
    response.status = 204;
  }
}

/** Set on a response once its status was set (`ctx.status = 202`), which a 204 must not overwrite. */
export const STATUS_SET = Symbol('keel.statusSet');

interface StatusMarked {
  [STATUS_SET]?: true;
}

/**
 * koa keeps "a status was set" in a private field (`_explicitStatus`); Keel marks it itself, on the
 * app's own response prototype (`app.response`, koa's documented place for additions), around
 * koa's public `status` setter. One app's mark touches no other app's responses.
 */
export function markStatusSet(app: Koa<HttpState>): void {
  let owner: object | null = app.response;
  let status: PropertyDescriptor | undefined;
  while (owner !== null && (status = Object.getOwnPropertyDescriptor(owner, 'status')) === undefined)
    owner = Object.getPrototypeOf(owner) as object | null;
  const { get, set } = status!;
  Object.defineProperty(app.response, 'status', {
    configurable: true,
    get,
    set(this: StatusMarked, code: number) {
      set!.call(this, code);
      this[STATUS_SET] = true;
    },
  });
}

function isProduction(): boolean {
  return process.env.NODE_ENV === 'production';
}
