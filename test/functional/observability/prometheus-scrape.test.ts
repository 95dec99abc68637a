import { ORDERS_AT_START } from '../../../samples/metrics/service';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { describeWithPrometheus, PrometheusServer } from '../../support/prometheus';
import { reportServerPort } from './report-client';

const JOB = 'keel_metrics_sample';

describeWithPrometheus('a real Prometheus scraping the metrics sample', ['prometheus'], () => {
  let sample: ServiceProcess;
  let prometheus: PrometheusServer | undefined;

  beforeAll(async () => {
    sample = spawnService('samples/metrics/main.ts');
    const port = await reportServerPort(sample);
    prometheus = await PrometheusServer.start([{ job: JOB, address: `127.0.0.1:${port}` }]);
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
    killAll([sample]);
  }, 30_000);

  it('finds the sample up', async () => {
    const [up] = await prometheus!.queryUntil(`up{job="${JOB}"}`, (result) => result.length === 1);
    expect(up.value[1]).toBe('1');
  }, 90_000);

  it("finds the sample's own counter with the value it was given, per label", async () => {
    const channels = Object.keys(ORDERS_AT_START);
    const result = await prometheus!.queryUntil(
      `metrics_sample_orders_placed_total{job="${JOB}"}`,
      (series) => series.length === channels.length,
    );
    const byChannel = Object.fromEntries(
      result.map(({ metric, value }) => [metric.channel, Number(value[1])]),
    );
    expect(byChannel).toEqual(ORDERS_AT_START);
    expect(result[0].metric).toMatchObject({ job: JOB, resource: 'shop' });
  }, 90_000);
});
