import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  HttpServerResource,
  inject,
  METRICS,
  Microservice,
  microservice,
  ReportServerResource,
  resource,
  ResourceStatus,
  Test,
  type App,
} from '../../../lib';
import type { MeterFactory } from '../../../lib/metrics';
import { deferred, quietLog, until, type Deferred } from '../../support/async';

let health: ResourceStatus = ResourceStatus.STARTED;

@resource()
class Orders {
  readonly placed;
  constructor(@inject(METRICS) meters: MeterFactory) {
    this.placed = meters.counter('orders_placed', { help: 'Orders placed', labelNames: ['channel'] });
  }
  status(): ResourceStatus {
    return health;
  }
}

/** Set by a test that wants to look at the service while it is stopping. */
let drain: Deferred<void> | undefined;

/** Its stop waits until the test lets it finish, to look at the service while it is stopping. */
@resource()
class Checkout {
  constructor(readonly orders: Orders) {}
  async stop(): Promise<void> {
    await drain?.promise;
  }
}

@microservice({ name: 'shop', resources: { orders: Orders, checkout: Checkout } })
class Shop extends Microservice {
  constructor(readonly checkout: Checkout) {
    super();
  }
}

/** What /status should report as the revision: this checkout's, or none where git cannot tell. */
function gitHead(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

async function get(app: App, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const { port } = app.get(ReportServerResource).address()!;
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

describe('the report server', () => {
  let app: App;
  beforeEach(async () => {
    health = ResourceStatus.STARTED;
    app = await Test.createMicroservice(Shop, { log: quietLog() })
      .withSettings({ system: { deploy_name: 'test', resources: { status: { check_interval_ms: 60_000 } } } })
      .start();
  });
  afterEach(async () => {
    drain?.resolve();
    drain = undefined;
    await app.stop();
  });

  it('listens on 127.0.0.1 on the configured port (0: a free one)', () => {
    const address = app.get(ReportServerResource).address()!;
    expect(address.address).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
  });

  it('serves the Prometheus text format with the service prefix and the resource label', async () => {
    app.get(Orders).placed.labels({ channel: 'web' }).inc(3);
    const { status, body, type } = await get(app, '/metrics');
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    expect(body).toContain('# TYPE shop_orders_placed_total counter');
    expect(body).toContain('shop_orders_placed_total{resource="orders",channel="web"} 3');
    expect(body).toContain('shop_process_cpu_seconds_total');
  });

  it('answers /metrics with 404 when metrics.handlers.prometheus.enabled is false', async () => {
    app.settings.updateInternal({
      system: { resources: { metrics: { handlers: { prometheus: { enabled: false } } } } },
    });
    const { status, body } = await get(app, '/metrics');
    expect(status).toBe(404);
    expect(JSON.parse(body).error).toBe('metrics.handlers.prometheus.enabled is false');
  });

  it('reports every resource on /status: 200 when all are STARTED, 503 otherwise', async () => {
    const healthy = await get(app, '/status');
    expect(healthy.status).toBe(200);
    const report = JSON.parse(healthy.body);
    expect(report).toMatchObject({ service: 'shop', state: 'running', version: expect.any(String) });
    expect(typeof report.uptime_s).toBe('number');
    expect(report.revision).toBe(gitHead());
    expect(report.resources.map((row: { name: string }) => row.name).sort()).toEqual([
      'checkout',
      'metrics',
      'orders',
      'report_server',
      'status',
    ]);
    expect(
      report.resources.find((row: { name: string }) => row.name === 'orders').phases.start,
    ).toBeUndefined();
    health = ResourceStatus.FAILED;
    const failing = await get(app, '/status');
    expect(failing.status).toBe(503);
    expect(
      JSON.parse(failing.body).resources.find((row: { name: string }) => row.name === 'orders').status,
    ).toBe('FAILED');
  });

  it('answers liveness and readiness while running, and both turn 503 once stopping begins', async () => {
    expect((await get(app, '/health/live')).status).toBe(200);
    expect((await get(app, '/health/ready')).status).toBe(200);
    expect(await get(app, '/health')).toMatchObject({
      status: 200,
      body: '{"ready":true,"state":"running"}',
    });
    drain = deferred<void>();
    const stopping = app.stop();
    await until(() => app.status().state === 'stopping');
    expect(await get(app, '/health/ready')).toMatchObject({ status: 503 });
    expect(await get(app, '/health')).toMatchObject({ status: 503 });
    expect(JSON.parse((await get(app, '/health/live')).body)).toEqual({ live: false, state: 'stopping' });
    drain.resolve();
    await stopping;
  });

  it('shows the dependency graph as mermaid and DOT, with the startup waterfall', async () => {
    const { status, body } = await get(app, '/status/graph');
    expect(status).toBe(200);
    const graph = JSON.parse(body);
    expect(graph.mermaid).toMatch(/^graph TD/);
    expect(graph.mermaid).toContain('n_checkout --> n_orders');
    expect(graph.dot).toMatch(/^digraph "shop" \{/);
    expect(graph.dot).toContain('"shop" -> "checkout";');
    expect(graph.dot).toContain('"report_server" -> "metrics";');
    expect(
      graph.waterfall.find((row: { name: string }) => row.name === 'report_server').phases.start,
    ).toMatchObject({
      offsetMs: expect.any(Number),
      durationMs: expect.any(Number),
    });
  });

  it('answers unknown routes with 404 JSON and other methods with 405', async () => {
    const missing = await get(app, '/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'not found', path: '/nope' });
    const { port } = app.get(ReportServerResource).address()!;
    const post = await fetch(`http://127.0.0.1:${port}/status`, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});

describe('a port in use', () => {
  it.each([
    ['the report server', 'report_server', 'report server'],
    ['an HTTP server', 'http', "http server 'http'"],
  ])('%s names the setting that chose it', async (_, name, what) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    @microservice({ name: 'clash', resources: { http: HttpServerResource } })
    class Clash extends Microservice {}
    try {
      const started = Test.createMicroservice(Clash, { log: quietLog() })
        .withSettings({ system: { resources: { [name]: { port } } } })
        .start();
      await expect(started).rejects.toMatchObject({
        cause: {
          name: 'HttpListenError',
          code: 'HTTP_PORT_IN_USE',
          message: `${what} cannot listen on 127.0.0.1:${port}: port ${port} is in use (system.resources.${name}.port); stop what holds it, or set system.resources.${name}.port to another port (0 picks a free one)`,
        },
      });
    } finally {
      holder.close();
    }
  });
});
