import { Meters } from '../../../lib/metrics';
import { sampleValue } from './sample';

const m = new Meters({ serviceName: 'svc', processMetrics: false });
const calls = m.counter('calls', { help: 'calls', labelNames: ['method'] });
const failures = m.counter('failures', { help: 'failures', labelNames: ['method'] });
const durations = m.summary('duration_seconds', { help: 'time', labelNames: ['method'] });
const latency = m.histogram('latency_seconds', { help: 'time', labelNames: ['method'] });
const lastRun = m.gauge('last_run_seconds', { help: 'time', labelNames: ['method'] });
const running = m.gauge('running', { help: 'calls in progress', labelNames: ['method'] });

const doubleCalls = calls.labels({ method: 'double' });
const doubleDurations = durations.labels({ method: 'double' });
const explodeFailures = failures.labels({ method: 'explode' });
const explodeLatency = latency.labels({ method: 'explode' });
const fetchCalls = calls.labels({ method: 'fetch' });
const fetchFailures = failures.labels({ method: 'fetch' });
const fetchDurations = durations.labels({ method: 'fetch' });
const fetchRunning = running.labels({ method: 'fetch' });

const count = (metric: string, method: string) => sampleValue(m, metric, { method });

class Worker {
  readonly factor = 2;

  @doubleCalls.countCalls()
  @doubleDurations.timeit()
  double(value: number): number {
    return value * this.factor;
  }

  @explodeFailures.countExceptions()
  @explodeLatency.timeit()
  explode(): never {
    throw new Error('boom');
  }

  @fetchCalls.countCalls()
  @fetchFailures.countExceptions()
  @fetchDurations.timeit()
  @fetchRunning.trackInProgress()
  async fetch(fail: boolean, gate: Promise<void>): Promise<string> {
    await gate;
    if (fail) throw new Error('fetch failed');
    return `fetched by ${this.factor}`;
  }
}

describe('meters as method decorators', () => {
  const worker = new Worker();

  it('counts and times a sync method, keeping `this` and the result', async () => {
    expect(worker.double(21)).toBe(42);
    expect(worker.double(1)).toBe(2);
    expect(await count('svc_calls_total', 'double')).toBe(2);
    expect(await count('svc_duration_seconds_count', 'double')).toBe(2);
  });

  it('counts a sync exception, still throws it and still times the call', async () => {
    expect(() => worker.explode()).toThrow('boom');
    expect(await count('svc_failures_total', 'explode')).toBe(1);
    expect(await count('svc_latency_seconds_count', 'explode')).toBe(1);
  });

  it('counts, times and tracks an async method until it settles', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const pending = worker.fetch(false, gate);
    expect(await count('svc_running', 'fetch')).toBe(1);
    expect(await count('svc_duration_seconds_count', 'fetch')).toBeUndefined();
    open();
    expect(await pending).toBe('fetched by 2');
    expect(await count('svc_running', 'fetch')).toBe(0);
    expect(await count('svc_duration_seconds_count', 'fetch')).toBe(1);
    expect(await count('svc_failures_total', 'fetch')).toBeUndefined();
  });

  it('counts an async rejection and passes it on', async () => {
    await expect(worker.fetch(true, Promise.resolve())).rejects.toThrow('fetch failed');
    expect(await count('svc_failures_total', 'fetch')).toBe(1);
    expect(await count('svc_calls_total', 'fetch')).toBe(2);
    expect(await count('svc_running', 'fetch')).toBe(0);
  });

  it('refuses to decorate something that is not a method', () => {
    const decorate = calls.labels({ method: 'x' }).countCalls();
    expect(() => decorate({}, 'field', { value: undefined })).toThrow(/"field" is not a method/);
  });
});

describe('meters as function wrappers', () => {
  it('times a plain function into a gauge and keeps its name and arguments', async () => {
    const add = lastRun.labels({ method: 'add' }).timeit(function add(a: number, b: number) {
      return a + b;
    });
    expect(add.name).toBe('add');
    expect(add(2, 3)).toBe(5);
    const seconds = await count('svc_last_run_seconds', 'add');
    expect(seconds).toBeGreaterThanOrEqual(0);
  });

  it('counts calls and exceptions of an async function', async () => {
    const load = failures.labels({ method: 'load' }).countExceptions(
      calls.labels({ method: 'load' }).countCalls(async (ok: boolean) => {
        if (!ok) throw new Error('not loaded');
        return 'loaded';
      }),
    );
    expect(await load(true)).toBe('loaded');
    await expect(load(false)).rejects.toThrow('not loaded');
    expect(await count('svc_calls_total', 'load')).toBe(2);
    expect(await count('svc_failures_total', 'load')).toBe(1);
  });

  it('gives the elapsed seconds from startTimer', async () => {
    const end = durations.labels({ method: 'manual' }).startTimer();
    const seconds = end();
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(await count('svc_duration_seconds_sum', 'manual')).toBe(seconds);
  });

  it('refuses to time with an unbound label before the call runs', () => {
    let ran = false;
    const timed = durations.timeit(() => {
      ran = true;
    });
    expect(() => timed()).toThrow(/without label "method"/);
    expect(ran).toBe(false);
  });
});
