import {
  createMicroservice,
  Microservice,
  microservice,
  ReportServerResource,
  type ResourceReport,
} from '../../../lib';
import { quietLog } from '../../support/async';
import { describeWithZipkin, ZipkinServer, type ZipkinSpan } from '../../support/zipkin';
import { shopResources } from './fixtures/shop-service';

@microservice({ name: 'warehouse', resources: shopResources })
class Warehouse extends Microservice {}

describeWithZipkin('tracing: a real Zipkin server', () => {
  let zipkin: ZipkinServer;

  beforeAll(async () => {
    zipkin = await ZipkinServer.start();
  }, 180_000);
  afterAll(async () => {
    await zipkin?.stop();
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
});
