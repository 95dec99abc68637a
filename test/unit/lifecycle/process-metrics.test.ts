import { setImmediate as nextTurn } from 'node:timers/promises';
import { createMicroservice, Microservice, microservice, resource } from '../../../lib';
import { quietLog } from '../../support/async';

@resource()
class Worker {}

@microservice({ name: 'billing_api', resources: { worker: Worker }, defaultResources: false })
class BillingService extends Microservice {}

const processMetricNames = (names: string[]) =>
  names.filter((name) => name.startsWith('billing_api_process_') || name.startsWith('billing_api_nodejs_'));

describe('process metrics of an app', () => {
  it('are registered once the app is ready, not while it is created', async () => {
    const app = await createMicroservice(BillingService, { log: quietLog(), settings: {} });
    const names = () => app.meters.registry.getMetricsAsArray().map((metric) => metric.name);
    expect(processMetricNames(names())).toEqual([]);
    await app.start();
    await nextTurn();
    expect(processMetricNames(names())).toContain('billing_api_process_cpu_seconds_total');
    expect(processMetricNames(names())).toContain('billing_api_nodejs_eventloop_lag_seconds');
    await app.stop();
  });

  it('are in the first scrape even when it comes before the app is ready', async () => {
    const app = await createMicroservice(BillingService, { log: quietLog(), settings: {} });
    const text = await app.meters.render();
    expect(text).toContain('billing_api_process_resident_memory_bytes');
    expect(text).toContain('billing_api_settings_staleness_seconds');
    await app.stop();
  });

  it("keep Keel's own gauges' names taken while they wait", async () => {
    const app = await createMicroservice(BillingService, { log: quietLog(), settings: {} });
    expect(() => app.meters.gauge('settings_staleness_seconds', { help: 'mine' })).toThrow(
      /a Node.js process metric/,
    );
    await app.stop();
  });

  it('are never set up for an app stopped before it was ready', async () => {
    const app = await createMicroservice(BillingService, { log: quietLog(), settings: {} });
    await app.stop();
    await nextTurn();
    const names = app.meters.registry.getMetricsAsArray().map((metric) => metric.name);
    expect(processMetricNames(names)).toEqual([]);
  });
});
