import { Counter as PromCounter, Histogram as PromHistogram, Registry } from 'prom-client';
import { Meters } from '../../../lib/metrics';

const BUCKETS = [0.005, 0.1, 1, 5];
/** On a bound, between bounds, below the first, above the last, negative, zero. */
const VALUES = [0.005, 0.05, 0.001, 7, -2, 0, 1, 0.5, 5, 12.25];

/** Keel's meters beside prom-client metrics of the same definition, fed through prom-client's own calls. */
function sideBySide() {
  const keel = new Meters({ serviceName: 'svc', processMetrics: false });
  const reference = new Registry();
  const requests = keel.counter('requests', { help: 'requests', labelNames: ['method', 'route', 'status'] });
  const durations = keel.histogram('duration_seconds', {
    help: 'durations',
    labelNames: ['method', 'route'],
    buckets: BUCKETS,
  });
  const promRequests = new PromCounter({
    name: 'svc_requests_total',
    help: 'requests',
    labelNames: ['method', 'route', 'status'],
    registers: [reference],
  });
  const promDurations = new PromHistogram({
    name: 'svc_duration_seconds',
    help: 'durations',
    labelNames: ['method', 'route'],
    buckets: BUCKETS,
    registers: [reference],
  });
  const record = (method: string, route: string, status: number, seconds: number) => {
    requests.labels({ method, route, status }).inc();
    durations.labels({ method, route }).observe(seconds);
    promRequests.inc({ method, route, status: String(status) });
    promDurations.observe({ method, route }, seconds);
  };
  return { keel, reference, record };
}

describe('a meter with every label bound', () => {
  it("records what prom-client's own calls record, series by series", async () => {
    const { keel, reference, record } = sideBySide();
    for (const [index, value] of VALUES.entries()) {
      record('GET', '/hello', 200, value);
      record(index % 2 === 0 ? 'POST' : 'GET', '/users/:id', index % 3 === 0 ? 500 : 201, value);
    }
    expect(await keel.registry.metrics()).toBe(await reference.metrics());
  });

  it('makes its series again after a reset, as prom-client does', async () => {
    const { keel, reference, record } = sideBySide();
    record('GET', '/hello', 200, 0.05);
    keel.registry.resetMetrics();
    reference.resetMetrics();
    expect(await keel.registry.metrics()).toBe(await reference.metrics());
    record('GET', '/hello', 200, 2);
    record('GET', '/hello', 200, 0.001);
    expect(await keel.registry.metrics()).toBe(await reference.metrics());
  });

  it('counts by a given amount and by one, and times with a timer', async () => {
    const keel = new Meters({ serviceName: 'svc', processMetrics: false });
    const jobs = keel.counter('jobs', { help: 'jobs' });
    jobs.inc(2.5);
    jobs.inc();
    const timer = keel.histogram('job_seconds', { help: 'job time', buckets: [1000] }).startTimer();
    const seconds = timer();
    const text = await keel.registry.metrics();
    expect(text).toContain('svc_jobs_total 3.5');
    expect(text).toContain('svc_job_seconds_bucket{le="1000"} 1');
    expect(text).toContain(`svc_job_seconds_sum ${seconds}`);
  });
});
