import {
  createMicroservice,
  Microservice,
  microservice,
  ReportServerResource,
  type ResourceReport,
} from '../../../lib';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { quietLog } from '../../support/async';
import { freePorts } from '../../support/ports';
import { killAll, PROJECT_ROOT, spawnNode, type ServiceProcess } from '../../support/process';
import { rabbitmqInstalled, RabbitBroker } from '../../support/rabbitmq';
import { describeWithZipkin, ZipkinServer, type ZipkinSpan } from '../../support/zipkin';
import { readmeBlocks } from '../package/readme-blocks';
import { shopResources } from './fixtures/shop-service';

/**
 * A README block as a file that runs here: its imports of `keel` and `@opentelemetry/api` pointed
 * at this checkout, the rest as the README shows it.
 */
function writeReadmeBlock(folder: string, name: string): string {
  const block = readmeBlocks().find((candidate) => candidate.file === path.join('root', name));
  if (block === undefined) throw new Error(`README.md has no block <!-- file: ${name} -->`);
  const code = block.code
    .replace(/from 'keel'/g, `from ${JSON.stringify(path.join(PROJECT_ROOT, 'lib'))}`)
    .replace(/from '@opentelemetry\/api'/g, `from ${JSON.stringify(require.resolve('@opentelemetry/api'))}`);
  const file = path.join(folder, name);
  writeFileSync(file, code);
  return file;
}

interface LogLine {
  msg: string;
  trace_id?: string;
  span_id?: string;
  trace_sampled?: boolean;
}

function logLines(service: ServiceProcess): LogLine[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

@microservice({ name: 'warehouse', resources: shopResources })
class Warehouse extends Microservice {}

describeWithZipkin('tracing: a real Zipkin server', () => {
  let zipkin: ZipkinServer;
  let broker: RabbitBroker | undefined;
  const processes: ServiceProcess[] = [];
  let folder: string;

  beforeAll(async () => {
    // Started together: each is a JVM or an Erlang VM, slow to come up on a loaded machine.
    [zipkin, broker] = await Promise.all([
      ZipkinServer.start(),
      rabbitmqInstalled() || process.env.CI === 'true' ? RabbitBroker.start() : undefined,
    ]);
    folder = mkdtempSync(path.join(tmpdir(), 'keel-tracing-readme-'));
  }, 180_000);
  afterAll(async () => {
    killAll(processes);
    rmSync(folder, { recursive: true, force: true });
    await Promise.all([zipkin?.stop(), broker?.stop()]);
  });

  it('shows the start-up of a five-resource service as the waterfall /status/graph reports', async () => {
    const records: { level: string; message: string; fields: object }[] = [];
    const app = await createMicroservice(Warehouse, {
      settings: {
        system: { tracing: { enabled: true, exporter: 'zipkin', endpoint: zipkin.spansEndpoint } },
      },
      log: quietLog(records),
    });
    await app.start();
    const { port } = app.get(ReportServerResource).address()!;
    const graph = (await (await fetch(`http://127.0.0.1:${port}/status/graph`)).json()) as {
      waterfall: Pick<ResourceReport, 'name' | 'phases'>[];
    };
    await app.stop();
    expect(records.filter((record) => record.level === 'warn' || record.level === 'error')).toEqual([]);

    const ready = records.find((record) => record.message.startsWith('warehouse ready in'));
    const traceId = (ready?.fields as { trace_id?: string }).trace_id!;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const hooks = graph.waterfall.flatMap(({ name, phases }) =>
      (['preStart', 'start', 'postStart'] as const)
        .filter((phase) => phases[phase] !== undefined)
        .map((phase) => ({ name, phase, timing: phases[phase]! })),
    );
    expect(new Set(hooks.map(({ name }) => name)).size).toBeGreaterThanOrEqual(5);
    const phaseCount = new Set(hooks.map(({ phase }) => phase)).size;
    const spans = await zipkin.waitForTrace(traceId, 1 + phaseCount + hooks.length);
    expect(spans).toHaveLength(1 + phaseCount + hooks.length);

    // Zipkin keeps span names in lower case.
    const byName = new Map<string, ZipkinSpan>(spans.map((span) => [span.name!, span]));
    const root = byName.get('start warehouse')!;
    expect(root.parentId).toBeUndefined();
    expect(root.localEndpoint?.serviceName).toBe('warehouse');
    for (const { name, phase, timing } of hooks) {
      const phaseSpan = byName.get(phase.toLowerCase())!;
      expect(phaseSpan.parentId).toBe(root.id);
      const span = byName.get(`${phase} ${name}`.toLowerCase());
      expect(span).toMatchObject({ parentId: phaseSpan.id, tags: { 'keel.resource': name } });
      // Zipkin counts microseconds: the span lasts what /status/graph reports.
      expect(Math.abs(span!.duration! / 1000 - timing.durationMs)).toBeLessThan(0.01);
    }
    // The order of the waterfall: a resource's start begins after what it depends on has started.
    const startOf = (name: string) => byName.get(`start ${name}`)!;
    expect(startOf('catalog').timestamp!).toBeGreaterThanOrEqual(
      startOf('cache').timestamp! + startOf('cache').duration!,
    );
  }, 60_000);

  it("runs the README's two services: one request is one trace with the spans of both, in order", async () => {
    if (broker === undefined) throw new Error('RabbitMQ is not installed: apt-get install rabbitmq-server');
    const [shopPort] = await freePorts(1);
    const common = {
      KEEL__SYSTEM__TRACING__ENABLED: 'true',
      KEEL__SYSTEM__TRACING__EXPORTER: 'zipkin',
      KEEL__SYSTEM__TRACING__ENDPOINT: zipkin.spansEndpoint,
      KEEL__SYSTEM__TRACING__BATCH_DELAY_MS: '100',
      KEEL__SYSTEM__RESOURCES__AMQP__URL: broker.url,
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
    };
    const register = ['-r', '@swc-node/register'];
    const shop = spawnNode([...register, writeReadmeBlock(folder, 'tracing-shop.ts')], PROJECT_ROOT, {
      ...common,
      KEEL__SYSTEM__RESOURCES__HTTP__PORT: String(shopPort),
    });
    const pricing = spawnNode([...register, writeReadmeBlock(folder, 'tracing-pricing.ts')], PROJECT_ROOT, {
      ...common,
      KEEL__SYSTEM__RESOURCES__SHOP__BASE_URL: `http://127.0.0.1:${shopPort}`,
    });
    processes.push(shop, pricing);
    await Promise.all([
      shop.waitFor(/ ready in [\d.]+ ms/, 60_000),
      pricing.waitFor(/ ready in [\d.]+ ms/, 60_000),
    ]);

    // The caller's own trace: the shop continues it.
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const response = await fetch(`http://127.0.0.1:${shopPort}/orders/sku-1`, {
      headers: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'caller=1' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sku: 'sku-1', total: 70 });

    const spans = await zipkin.waitForTrace(traceId, 8);
    const one = (service: string, name: string, kind?: ZipkinSpan['kind']) => {
      const found = spans.filter(
        (span) => span.localEndpoint?.serviceName === service && span.name === name && span.kind === kind,
      );
      expect([service, name, found.length]).toEqual([service, name, 1]);
      return found[0];
    };
    const order = one('shop', 'get /orders/:sku', 'SERVER');
    expect(order.parentId).toBe(callerSpan);
    expect(order.tags).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/orders/:sku',
      'http.response.status_code': '200',
      'url.path': '/orders/sku-1',
      'server.address': '127.0.0.1',
    });
    const request = one('shop', 'request price.quote', 'PRODUCER');
    expect(request.parentId).toBe(order.id);
    expect(request.tags).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'price.quote',
      'messaging.operation.type': 'send',
    });
    const consume = one('pricing', 'process price.quote', 'CONSUMER');
    expect(consume.parentId).toBe(request.id);
    expect(consume.tags?.['messaging.message.id']).toBe(request.tags?.['messaging.message.id']);

    // Each attempt of the client is its own span, and the shop's server span hangs under it.
    const attempts = spans
      .filter((span) => span.localEndpoint?.serviceName === 'pricing' && span.kind === 'CLIENT')
      .sort((a, b) => a.timestamp! - b.timestamp!);
    expect(
      attempts.map((span) => [span.name, span.parentId, span.tags?.['http.response.status_code']]),
    ).toEqual([
      ['get', consume.id, '503'],
      ['get', consume.id, '200'],
    ]);
    expect(attempts[0].tags?.['url.full']).toBe(`http://127.0.0.1:${shopPort}/stock/sku-1`);
    expect(attempts[0].tags?.['http.request.resend_count']).toBeUndefined();
    expect(attempts[1].tags?.['http.request.resend_count']).toBe('1');
    expect(attempts[0].tags?.error).toBeDefined();
    const stock = spans.filter((span) => span.name === 'get /stock/:sku');
    expect(stock.map((span) => span.parentId).sort()).toEqual(attempts.map((span) => span.id).sort());
    expect(stock.find((span) => span.parentId === attempts[0].id)?.tags?.error).toBeDefined();

    // The user's own span, through @opentelemetry/api, nests under Keel's consumer span.
    const own = one('pricing', 'compute price');
    expect(own.parentId).toBe(consume.id);
    expect(own.tags?.['stock.units']).toBe('7');

    // Records written inside the spans carry the ids the backend shows.
    const priced = logLines(shop).find((line) => line.msg === 'order priced');
    expect(priced).toMatchObject({ trace_id: traceId, span_id: order.id, trace_sampled: true });
    const computed = logLines(pricing).find((line) => line.msg === 'price computed');
    expect(computed).toMatchObject({ trace_id: traceId, span_id: own.id });
    const access = logLines(shop).find((line) => line.msg.startsWith('GET /orders/sku-1 200'));
    expect(access).toMatchObject({ trace_id: traceId, span_id: order.id });

    for (const service of [shop, pricing]) service.child.kill('SIGTERM');
    expect(await shop.exited).toEqual({ code: 0, signal: null });
    expect(await pricing.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
