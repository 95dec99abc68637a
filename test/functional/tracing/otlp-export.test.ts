import type { ResourceReport } from '../../../lib';
import { OtlpReceiver, type ReceivedSpan } from '../../support/otlp-receiver';
import { freePorts } from '../../support/ports';
import { spawnService } from '../../support/process';

interface ShopRun {
  waterfall: ResourceReport[];
  metrics: string;
  failed?: string;
  dropped: number;
  output: string;
}

/**
 * The service runs in a child process, as in production: under jest's module sandbox the official
 * OTLP exporter cannot load node:http, which it imports dynamically.
 */
async function runShop(settings: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<ShopRun> {
  const shop = spawnService('test/functional/tracing/fixtures/shop.ts', {
    TRACING_FIXTURE_SETTINGS: JSON.stringify(settings),
    ...env,
  });
  const { code } = await shop.exited;
  const output = shop.output();
  expect({ code, output }).toMatchObject({ code: 0 });
  const line = (prefix: string) => output.match(new RegExp(`^${prefix} (.*)$`, 'm'))?.[1];
  return {
    waterfall: JSON.parse(line('WATERFALL') ?? '[]') as ResourceReport[],
    metrics: JSON.parse(line('METRICS') ?? '""') as string,
    failed: line('FAILED'),
    dropped: Number(line('DROPPED')),
    output,
  };
}

/** What a record of the child's JSON log lines says. */
function records(output: string): { level: number; msg: string }[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
}

function tracing(endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    system: {
      deploy_name: 'staging',
      tracing: { enabled: true, exporter: 'otlp-http', endpoint, batch_delay_ms: 50, ...extra },
    },
  };
}

describe('tracing: OTLP/HTTP export of the start-up and stop waterfall', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
  });
  beforeEach(() => {
    receiver.spans.length = 0;
  });

  it('sends one trace per start and per stop, a span per resource hook with the times the lifecycle measured', async () => {
    const { waterfall, output } = await runShop(tracing(receiver.endpoint));
    const instanceId = (records(output)[0] as unknown as { instance_id: string }).instance_id;

    // The stop flushed: everything is there once stop() resolved.
    const spans = receiver.spans;
    expect([...receiver.contentTypes]).toEqual(['application/json']);
    const starts = spans.filter((span) => span.name === 'start shop');
    const stops = spans.filter((span) => span.name === 'stop shop');
    expect(starts).toHaveLength(1);
    expect(stops).toHaveLength(1);
    const [start] = starts;
    expect(start.parentSpanId).toBeUndefined();
    expect(stops[0].traceId).not.toBe(start.traceId);

    expect(start.resource).toMatchObject({
      'service.name': 'shop',
      'service.instance.id': instanceId,
      'service.version': '0.1.0',
      'deployment.environment.name': 'staging',
    });
    expect(start.scope).toBe('keel');

    const byName = new Map<string, ReceivedSpan>(spans.map((span) => [span.name, span]));
    for (const phase of ['preStart', 'start', 'postStart'] as const) {
      const phaseSpan = byName.get(phase)!;
      expect(phaseSpan.parentSpanId).toBe(start.spanId);
      for (const row of waterfall) {
        const timing = row.phases[phase];
        const span = byName.get(`${phase} ${row.name}`);
        if (timing === undefined) {
          expect(span).toBeUndefined();
          continue;
        }
        expect(span).toBeDefined();
        expect(span!.traceId).toBe(start.traceId);
        expect(span!.parentSpanId).toBe(phaseSpan.spanId);
        expect(span!.attributes).toMatchObject({ 'keel.phase': phase, 'keel.resource': row.name });
        // The same clock readings: the span lasts what /status reports, to the microsecond.
        expect(span!.endMs - span!.startMs).toBeCloseTo(timing.durationMs, 2);
      }
    }
    expect(byName.get('start catalog')!.attributes['keel.depends_on']).toEqual(['cache']);
    for (const name of ['stop store', 'postStop audit']) {
      expect(byName.get(name)!.traceId).toBe(stops[0].traceId);
    }
  });

  it('marks the hook that failed the start as an error span with its exception', async () => {
    const run = await runShop(tracing(receiver.endpoint), { FAIL_CATALOG: 'true' });
    expect(run.failed).toMatch('catalog index missing');
    const failed = receiver.spans.find((span) => span.name === 'start catalog');
    expect(failed).toMatchObject({ statusCode: 2, statusMessage: 'catalog index missing' });
    expect(failed!.events).toEqual(['exception']);
    expect(receiver.spans.find((span) => span.name === 'start shop')).toMatchObject({ statusCode: 2 });
    expect(receiver.spans.find((span) => span.name === 'start store')).toMatchObject({ statusCode: 0 });
  });

  it('drops and counts spans when the exporter is unreachable, and says so once', async () => {
    const [closed] = await freePorts(1);
    const { dropped, metrics, output } = await runShop(
      tracing(`http://127.0.0.1:${closed}/v1/traces`, { max_queue: 2, export_timeout_ms: 500 }),
    );
    // 11 spans for the start alone, 2 of which fit in the queue (and their export fails).
    expect(dropped).toBeGreaterThan(9);
    expect(metrics).toMatch(/^shop_tracing_dropped_spans [1-9]\d*$/m);
    const said = records(output).filter((record) => record.msg.startsWith('tracing dropped spans'));
    expect(said).toHaveLength(1);
    expect(said[0].level).toBe(40);
  });

  it('adds nothing while tracing is off', async () => {
    const { metrics, dropped } = await runShop({});
    expect(metrics).not.toContain('tracing_dropped_spans');
    expect(dropped).toBe(0);
    expect(receiver.spans).toEqual([]);
  });
});
