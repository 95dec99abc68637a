import { Meters } from '../../../lib/metrics';
import { describeWithPrometheus, promtoolCheck } from '../../support/prometheus';

async function everyMeterType(serviceName = 'billing-api'): Promise<string> {
  const meters = new Meters({ serviceName });
  meters
    .counter('http requests', { help: 'HTTP requests served', labelNames: ['method', 'code'] })
    .labels({ method: 'GET', code: 200 })
    .inc(3);
  meters.gauge('queue.length', { help: 'Items waiting', labels: { queue: 'mail' } }).set(7);
  const summary = meters.summary('job_duration_seconds', { help: 'Job duration', labelNames: ['job'] });
  summary.labels({ job: 'reconcile' }).observe(0.2);
  summary.labels({ job: 'reconcile' }).observe(0.4);
  meters
    .histogram('response_size_bytes', { help: 'Response size', labelNames: ['route'], buckets: [100, 1000] })
    .labels({ route: '/users' })
    .observe(512);
  meters.forResource('http').counter('connections', { help: 'Connections accepted' }).inc();
  return meters.render();
}

describeWithPrometheus('promtool check metrics', ['promtool'], () => {
  it('accepts the output of a registry with every meter type, labels and process metrics', async () => {
    const text = await everyMeterType();
    const result = await promtoolCheck(text);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it("accepts a service whose name holds a metric type as a word (the sheep_counter sample's)", async () => {
    for (const serviceName of ['sheep_counter', 'queue_gauge', 'job_summary_api', 'latency-histogram']) {
      const result = await promtoolCheck(await everyMeterType(serviceName));
      expect({ serviceName, output: result.output }).toEqual({ serviceName, output: '' });
      expect(result.code).toBe(0);
    }
  });

  it('is a real check: it rejects a counter without _total', async () => {
    const result = await promtoolCheck('# HELP jobs jobs\n# TYPE jobs counter\njobs 1\n');
    expect(result.output).toContain('counter metrics should have "_total" suffix');
    expect(result.code).not.toBe(0);
  });
});
