import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { BlockList, isIP, type AddressInfo } from 'node:net';
import Koa from 'koa';
import { inject } from '../container/injection';
import { resource } from '../container/decorators';
import { instanceIdentity } from '../identity/instance';
import { LOGGER, METRICS_REGISTRY, SERVICE, SETTINGS } from '../container/tokens';
import type { Log } from '../lifecycle/log';
import type { ServiceHandle } from '../lifecycle/service-handle';
import { ResourceStatus } from '../lifecycle/status';
import type { Meters } from '../metrics';
import { SettingsError } from '../settings/errors';
import { maskText, redact } from '../settings/redact';
import type { SettingsView } from '../settings/types';
import { graphAsDot, graphAsMermaid } from './graph-render';
import { listenFailure } from './http/errors';
import { MetricsResource } from './metrics';

export const reportServerSchema = {
  enabled: { doc: 'Serve /metrics, /status and /health', format: Boolean, default: true },
  host: { doc: 'Address to listen on', format: String, default: '127.0.0.1' },
  port: { doc: 'Port to listen on (0 picks a free one)', format: 'port', default: 5747 },
  debug_token: {
    doc: 'Bearer token the /debug/* endpoints (profiler, memory analyzer) require; empty: none',
    format: String,
    default: '',
    sensitive: true,
  },
};

interface ReportServerSettings {
  enabled: boolean;
  host: string;
  port: number;
  debug_token: string;
}

/** What a `/debug/*` handler answers: a status, a body (JSON unless `type` says otherwise), headers. */
export type DebugReply = { status: number; body: unknown; type?: string; headers?: Record<string, string> };

/**
 * Serves one `/debug/*` path; `query` is the request's query string. `signal` aborts once the
 * request's connection closes, answered or not: work for a client that is gone stops with it.
 */
export type DebugHandler = (query: URLSearchParams, signal: AbortSignal) => Promise<DebugReply>;

type Reply = DebugReply;

/**
 * The operator's window on a service: Prometheus metrics, every resource's status, liveness and
 * readiness, and the dependency graph. A built-in resource, written with the public API only.
 */
@resource({ settings: reportServerSchema, name: 'report_server' })
export class ReportServerResource {
  private server?: Server;
  private readonly startedAt = Date.now();
  private readonly debugRoutes = new Map<string, DebugHandler>();

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<ReportServerSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(METRICS_REGISTRY) private readonly meters: Meters,
    @inject(LOGGER) private readonly log: Log,
    private readonly metrics: MetricsResource,
  ) {}

  /** The bound address once started (the real port when the setting is 0). */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  /**
   * Serves `GET <path>` (under `/debug/`) until `remove` is called: the profiler and the memory
   * analyzer add theirs while enabled. With `debug_token` set, a request without it gets a bare 401.
   * Refused (`SettingsError` naming `debug_token`) while the server listens beyond loopback with no
   * token: a heap snapshot holds every secret in memory, and a pod's port is reachable from its cluster.
   */
  addDebugRoute(path: `/debug/${string}`, handler: DebugHandler): () => void {
    this.refuseOpenDebug(path);
    this.debugRoutes.set(path, handler);
    return () => {
      if (this.debugRoutes.get(path) === handler) this.debugRoutes.delete(path);
    };
  }

  async start(): Promise<void> {
    const { enabled, host, port } = this.settings.value();
    if (!enabled) return;
    const app = new Koa();
    app.use(async (ctx) => {
      let reply: Reply;
      if (ctx.path.startsWith('/debug/')) {
        const closed = new AbortController();
        ctx.res.once('close', () => closed.abort());
        reply = await this.debugRoute(
          ctx.method,
          ctx.path,
          ctx.querystring,
          ctx.get('authorization'),
          closed.signal,
        );
      } else {
        reply =
          ctx.method === 'GET' || ctx.method === 'HEAD'
            ? await this.route(ctx.path)
            : methodNotAllowed(ctx.method);
      }
      ctx.status = reply.status;
      if (reply.headers !== undefined) ctx.set(reply.headers);
      if (reply.type !== undefined) ctx.type = reply.type;
      ctx.body = reply.body;
    });
    const server = app.listen({ host, port });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', (error) =>
        reject(listenFailure('report server', this.settings.path, host, port, error)),
      );
    });
    this.server = server;
    const bound = this.address()!;
    this.log.info(
      { host: bound.address, port: bound.port },
      `report server on http://${bound.address}:${bound.port}`,
    );
  }

  /**
   * Closes in postStop, after every resource has stopped: while the others drain, probes still get
   * an answer (readiness 503) instead of a refused connection.
   */
  async postStop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private refuseOpenDebug(path: string): void {
    const { enabled, host, debug_token } = this.settings.value();
    if (!enabled || debug_token !== '' || isLoopback(host)) return;
    const key = `${this.settings.path}.debug_token`;
    const hostKey = `${this.settings.path}.host`;
    throw new SettingsError(
      'SETTINGS_INVALID',
      `${key} is empty while the report server listens on ${maskText(JSON.stringify(host))} (${hostKey}), beyond loopback, and ${path} would be served to anyone who reaches it: set ${key}, or listen on 127.0.0.1`,
      [
        {
          path: key,
          owner: 'report_server',
          problem: 'invalid',
          expected: `a token while ${hostKey} is not a loopback address and /debug/* is served`,
          origin: 'the report server settings',
          shownValue: '""',
        },
      ],
    );
  }

  private async debugRoute(
    method: string,
    requestPath: string,
    query: string,
    authorization: string,
    closed: AbortSignal,
  ): Promise<Reply> {
    const token = this.settings.value().debug_token;
    if (token !== '' && !bearerMatches(authorization, token)) return { status: 401, body: '' };
    const handler = this.debugRoutes.get(requestPath);
    if (handler === undefined) return { status: 404, body: { error: 'not found', path: requestPath } };
    if (method !== 'GET') return methodNotAllowed(method);
    try {
      return await handler(new URLSearchParams(query), closed);
    } catch (error) {
      if (closed.aborted) {
        this.log.info({ path: requestPath }, `${requestPath} stopped: its client closed the connection`);
        return { status: 499, body: '' };
      }
      this.log.error({ err: error, path: requestPath }, `${requestPath} failed: ${(error as Error).message}`);
      return { status: 500, body: { error: (error as Error).message, path: requestPath } };
    }
  }

  private async route(requestPath: string): Promise<Reply> {
    switch (requestPath) {
      case '/metrics':
        if (!this.metrics.prometheusEnabled) {
          return {
            status: 404,
            body: { error: 'metrics.handlers.prometheus.enabled is false', path: requestPath },
          };
        }
        return { status: 200, body: await this.meters.render(), type: this.meters.contentType };
      case '/status':
        return this.statusReply();
      case '/status/graph':
        return {
          status: 200,
          body: {
            service: this.service.name,
            mermaid: graphAsMermaid(this.service.graph),
            dot: graphAsDot(this.service.graph),
            waterfall: this.service.status().resources.map(({ name, phases }) => ({ name, phases })),
          },
        };
      case '/health/live': {
        // The process's, not its resources': a long resource restart must not get the pod killed.
        const state = this.service.state();
        const live = state === 'starting' || state === 'running';
        return { status: live ? 200 : 503, body: { live, state } };
      }
      // `/health` is what a probe or a person tries first: readiness, the question it usually means.
      case '/health':
      case '/health/ready': {
        const ready = this.service.isReady();
        return { status: ready ? 200 : 503, body: { ready, state: this.service.state() } };
      }
      default:
        return { status: 404, body: { error: 'not found', path: requestPath } };
    }
  }

  private statusReply(): Reply {
    const report = this.service.status();
    const healthy =
      report.state === 'running' && report.resources.every((row) => row.status === ResourceStatus.STARTED);
    return {
      status: healthy ? 200 : 503,
      body: redact({
        service: report.service,
        ...instanceIdentity(),
        uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
        state: report.state,
        resources: report.resources,
        settings: report.settings,
      }),
    };
  }
}

const BEARER = /^bearer[ \t]+(.*?)[ \t]*$/i;

/**
 * Whether `Authorization` carries `token` under the Bearer scheme, whose name is case-insensitive
 * (RFC 9110). Digests of one length are compared in constant time, so neither how much of the token
 * was right nor its length shows in the answer's timing.
 */
function bearerMatches(authorization: string, token: string): boolean {
  const given = BEARER.exec(authorization)?.[1];
  const same = timingSafeEqual(digest(given ?? ''), digest(token));
  return given !== undefined && same;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `host` is a loopback address (or `localhost`): a listener there is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 0) return false;
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped !== null) return loopback.check(mapped[1], 'ipv4');
  return loopback.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

function methodNotAllowed(method: string): Reply {
  return { status: 405, body: { error: `method ${method} not allowed` } };
}
