import { Meters } from '../../../lib/metrics';

async function render(): Promise<string> {
  const m = new Meters({ serviceName: 'billing-api', processMetrics: false });
  m.counter('http requests', { help: 'HTTP requests', labels: { method: 'GET', code: 200 } }).inc(3);
  m.counter('jobs_total', { help: 'jobs' }).inc();
  m.gauge('queue.length', { help: 'items waiting' }).set(4);
  const summary = m.summary('job_seconds', { help: 'job time' });
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].forEach((v) => summary.observe(v));
  m.histogram('size_bytes', { help: 'payload size', buckets: [10, 100], labelNames: ['route'] })
    .labels({ route: '/a' })
    .observe(50);
  m.counter('escaped', { help: 'help with \\ and\nnewline', labels: { path: 'say "hi"\n' } }).inc();
  return m.render();
}

describe('Prometheus text output', () => {
  let text: string;
  beforeAll(async () => {
    text = await render();
  });

  it('declares each metric once with a valid TYPE line', () => {
    const types = text.match(/^# TYPE .*$/gm) ?? [];
    expect(types).toEqual([
      '# TYPE billing_api_http_requests_total counter',
      '# TYPE billing_api_jobs_total counter',
      '# TYPE billing_api_queue_length gauge',
      '# TYPE billing_api_job_seconds summary',
      '# TYPE billing_api_size_bytes histogram',
      '# TYPE billing_api_escaped_total counter',
    ]);
    for (const line of types)
      expect(line).toMatch(/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|summary|histogram)$/);
  });

  it('prefixes and sanitises names and ends counters in _total', () => {
    expect(text).toContain('billing_api_http_requests_total{method="GET",code="200"} 3');
    expect(text).toContain('billing_api_jobs_total 1');
    expect(text).toContain('billing_api_queue_length 4');
    expect(text).not.toMatch(/_total_total/);
  });

  it('exports the five summary quantiles, the sum and the count', () => {
    for (const q of ['0.5', '0.75', '0.9', '0.95', '0.99']) {
      expect(text).toMatch(new RegExp(`^billing_api_job_seconds\\{quantile="${q}"\\} \\d+(\\.\\d+)?$`, 'm'));
    }
    expect(text).toContain('billing_api_job_seconds_sum 55');
    expect(text).toContain('billing_api_job_seconds_count 10');
  });

  it('exports histogram buckets up to +Inf', () => {
    expect(text).toContain('billing_api_size_bytes_bucket{le="10",route="/a"} 0');
    expect(text).toContain('billing_api_size_bytes_bucket{le="100",route="/a"} 1');
    expect(text).toContain('billing_api_size_bytes_bucket{le="+Inf",route="/a"} 1');
    expect(text).toContain('billing_api_size_bytes_count{route="/a"} 1');
  });

  it('escapes help text and label values', () => {
    expect(text).toContain('# HELP billing_api_escaped_total help with \\\\ and\\nnewline');
    expect(text).toContain('billing_api_escaped_total{path="say \\"hi\\"\\n"} 1');
  });
});
