import { ORDERS_AT_START } from '../../../samples/metrics/service';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { describeWithPrometheus, promtoolCheck } from '../../support/prometheus';
import { eventually, get, reportServerPort } from './report-client';

const SAMPLE = 'samples/metrics/main.ts';

/** Calls of the decorated `quote` method so far: it runs once per traffic tick. */
function quoteCalls(metrics: string): number {
  const match = /^metrics_sample_price_calls_total\{resource="shop",method="quote"\} (\d+)$/m.exec(metrics);
  return match === null ? 0 : Number(match[1]);
}

describeWithPrometheus('the metrics sample under promtool', ['promtool'], () => {
  let sample: ServiceProcess;
  let metrics: string;

  beforeAll(async () => {
    sample = spawnService(SAMPLE);
    const port = await reportServerPort(sample);
    const traffic = await eventually(
      () => get(port, '/metrics'),
      (reply) => quoteCalls(reply.text) >= 3,
    );
    metrics = traffic.text;
  }, 90_000);
  afterAll(() => killAll([sample]));

  it('serves every meter type with labels, the decorated method counted and timed', () => {
    for (const [name, type] of [
      ['metrics_sample_orders_placed_total', 'counter'],
      ['metrics_sample_cart_items', 'gauge'],
      ['metrics_sample_order_value_euros', 'summary'],
      ['metrics_sample_order_size_items', 'histogram'],
      ['metrics_sample_price_calls_total', 'counter'],
      ['metrics_sample_price_duration_seconds', 'histogram'],
    ])
      expect(metrics).toContain(`# TYPE ${name} ${type}\n`);
    for (const [channel, orders] of Object.entries(ORDERS_AT_START))
      expect(metrics).toContain(
        `metrics_sample_orders_placed_total{resource="shop",channel="${channel}"} ${orders}\n`,
      );
    expect(metrics).toMatch(
      /^metrics_sample_order_value_euros\{quantile="0\.99",resource="shop",channel="web"\} /m,
    );
    expect(metrics).toMatch(
      /^metrics_sample_order_size_items_bucket\{le="\+Inf",resource="shop",channel="web"\} /m,
    );
    expect(metrics).toMatch(
      /^metrics_sample_price_duration_seconds_count\{resource="shop",method="quote"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^metrics_sample_process_cpu_seconds_total /m);
  });

  it('passes promtool check metrics', async () => {
    const result = await promtoolCheck(metrics);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('stops cleanly on SIGTERM', async () => {
    sample.child.kill('SIGTERM');
    expect(await sample.exited).toEqual({ code: 0, signal: null });
  });
});
