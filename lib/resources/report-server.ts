import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { inject } from '../container/inversify';
import { resource } from '../container/decorators';
import { instanceIdentity } from '../identity/instance';
import { LOGGER, METRICS_REGISTRY, SERVICE, SETTINGS } from '../container/tokens';
import type { Log } from '../lifecycle/log';
import type { ServiceHandle } from '../lifecycle/service-handle';
import { ResourceStatus } from '../lifecycle/status';
import type { Meters } from '../metrics';
import { redact } from '../settings/redact';
import type { SettingsView } from '../settings/types';
import { graphAsDot, graphAsMermaid } from './graph-render';
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

/** What a `/debug/*` handler answers: a status, a body (JSON unless `type` says otherwise). */
export type DebugReply = { status: number; body: unknown; type?: string };

/** Serves one `/debug/*` path; `query` is the request's query string. */
export type DebugHandler = (query: URLSearchParams) => Promise<DebugReply>;

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
   */
  addDebugRoute(path: `/debug/${string}`, handler: DebugHandler): () => void {
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
      const reply = ctx.path.startsWith('/debug/')
        ? await this.debugRoute(ctx.method, ctx.path, ctx.querystring, ctx.get('authorization'))
        : ctx.method === 'GET' || ctx.method === 'HEAD'
          ? await this.route(ctx.path)
          : methodNotAllowed(ctx.method);
      ctx.status = reply.status;
      if (reply.type !== undefined) ctx.type = reply.type;
      ctx.body = reply.body;
    });
    const server = app.listen({ host, port });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', (error) =>
        reject(new Error(`report server cannot listen on ${host}:${port}: ${error.message}`)),
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

  private async debugRoute(
    method: string,
    requestPath: string,
    query: string,
    authorization: string,
  ): Promise<Reply> {
    const token = this.settings.value().debug_token;
    if (token !== '' && !sameText(authorization, `Bearer ${token}`)) return { status: 401, body: '' };
    const handler = this.debugRoutes.get(requestPath);
    if (handler === undefined) return { status: 404, body: { error: 'not found', path: requestPath } };
    if (method !== 'GET') return methodNotAllowed(method);
    try {
      return await handler(new URLSearchParams(query));
    } catch (error) {
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
        const state = this.service.state();
        const live = (state === 'starting' || state === 'running') && !this.service.isRestarting();
        return { status: live ? 200 : 503, body: { live, state } };
      }
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

/** Compares in constant time, so the answer's timing does not reveal how much of a token was right. */
function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function methodNotAllowed(method: string): Reply {
  return { status: 405, body: { error: `method ${method} not allowed` } };
}
