import { Gauge as PromGauge } from 'prom-client';

import { graphiteLines, Meters } from '../../../lib/metrics';

const identity = { deployName: 'prod', serviceName: 'billing_api', hostname: 'web-1.eu.example.com' };

describe('carbon plaintext lines', () => {
  it('formats <deploy>.<service>.<host>.<metric>;<tags> <value> <timestamp>', async () => {
    const m = new Meters({ serviceName: 'billing_api', processMetrics: false });
    m.counter('http_requests', { help: 'requests', labels: { method: 'GET', code: 200 } }).inc(7);
    m.gauge('queue_length', { help: 'items' }).set(2.5);
    expect(await graphiteLines(m, identity, 1_700_000_000)).toEqual([
      'prod.billing_api.web-1_eu_example_com.http_requests_total;method=GET;code=200 7 1700000000',
      'prod.billing_api.web-1_eu_example_com.queue_length 2.5 1700000000',
    ]);
  });

  it('writes every series of summaries and histograms, and skips values carbon cannot store', async () => {
    const m = new Meters({ serviceName: 'billing_api', processMetrics: false });
    m.summary('job_seconds', { help: 'job time' }).observe(2);
    m.histogram('size_bytes', { help: 'size', buckets: [1] }).observe(3);
    // A library registering its own metric on the registry can produce NaN; carbon cannot store it.
    new PromGauge({ name: 'billing_api_ratio', help: 'ratio', registers: [m.registry] }).set(Number.NaN);
    const lines = await graphiteLines(m, identity, 1);
    expect(lines.filter((line) => line.includes('ratio'))).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        'prod.billing_api.web-1_eu_example_com.job_seconds;quantile=0.99 2 1',
        'prod.billing_api.web-1_eu_example_com.job_seconds_count 1 1',
        'prod.billing_api.web-1_eu_example_com.size_bytes_bucket;le=1 0 1',
        'prod.billing_api.web-1_eu_example_com.size_bytes_bucket;le=+Inf 1 1',
        'prod.billing_api.web-1_eu_example_com.size_bytes_sum 3 1',
      ]),
    );
  });

  it('keeps tag values from breaking the line', async () => {
    const m = new Meters({ serviceName: 'billing_api', processMetrics: false });
    m.counter('odd', { help: 'odd labels', labels: { path: '~a b;c', empty: '' } }).inc();
    expect(await graphiteLines(m, { ...identity, deployName: 'dev env' }, 5)).toEqual([
      'dev_env.billing_api.web-1_eu_example_com.odd_total;path=_a_b_c 1 5',
    ]);
  });

  it('uses the current Unix time in seconds by default', async () => {
    const m = new Meters({ serviceName: 'billing_api', processMetrics: false });
    m.gauge('g', { help: 'g' }).set(1);
    const [line] = await graphiteLines(m, identity);
    const timestamp = Number(line.split(' ')[2]);
    expect(Number.isInteger(timestamp)).toBe(true);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(3600);
  });
});

describe('carbon lines with the instance identity', () => {
  it('tags every line with instance_id, version and revision', async () => {
    const m = new Meters({ serviceName: 'billing_api', processMetrics: false });
    m.gauge('g', { help: 'g' }).set(1);
    const instance = { instance_id: 'i-1', version: '1.2.3', revision: 'abc' };
    expect(await graphiteLines(m, { ...identity, instance }, 9)).toEqual([
      'prod.billing_api.web-1_eu_example_com.g;instance_id=i-1;version=1.2.3;revision=abc 1 9',
    ]);
  });
});
