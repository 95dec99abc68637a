import { Meters } from '../../../lib/metrics';
import { sampleValue } from './sample';

describe('Summary sliding window', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('keeps its quantiles across collections (Tamarco reset them at each one)', async () => {
    const m = new Meters({ serviceName: 'svc', processMetrics: false });
    const summary = m.summary('job_seconds', { help: 'time' });
    for (let i = 1; i <= 100; i += 1) summary.observe(i);
    const first = await m.render();
    const second = await m.render();
    expect(second).toBe(first);
    expect(await sampleValue(m, 'svc_job_seconds', { quantile: '0.99' })).toBeGreaterThanOrEqual(99);
  });

  it('forgets observations older than the window while sum and count stay cumulative', async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const m = new Meters({ serviceName: 'svc', processMetrics: false });
    const summary = m.summary('job_seconds', { help: 'time', maxAgeSeconds: 60, ageBuckets: 3 });
    summary.observe(1000);
    expect(await sampleValue(m, 'svc_job_seconds', { quantile: '0.5' })).toBe(1000);

    jest.setSystemTime(new Date('2026-01-01T00:00:30Z'));
    summary.observe(1);
    expect(await sampleValue(m, 'svc_job_seconds', { quantile: '0.99' })).toBe(1000);

    jest.setSystemTime(new Date('2026-01-01T00:01:05Z'));
    summary.observe(2);
    expect(await sampleValue(m, 'svc_job_seconds', { quantile: '0.99' })).toBeLessThan(1000);
    expect(await sampleValue(m, 'svc_job_seconds_count')).toBe(3);
    expect(await sampleValue(m, 'svc_job_seconds_sum')).toBe(1003);
  });
});
