import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  Backoff,
  Policy,
  PolicyError,
  type BreakerTransition,
  type PolicyOptions,
} from '../../../lib/resilience';
import { until } from '../../support/async';
import { PROJECT_ROOT } from '../../support/process';

const fast = { retries: 2, backoffMs: 1, maxBackoffMs: 2 };

function policy<T>(options: Partial<PolicyOptions<T>> = {}): Policy<T> {
  return new Policy<T>({ name: 'upstream', timeoutMs: 0, totalTimeoutMs: 0, retry: fast, ...options });
}

function failing(error = new Error('refused')): { calls: number; run: () => Promise<string> } {
  const counter = {
    calls: 0,
    run: async (): Promise<string> => {
      counter.calls++;
      throw error;
    },
  };
  return counter;
}

describe('Backoff', () => {
  it('draws each delay under a doubling ceiling, capped (full jitter)', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 800 });
    const ceilings = [100, 200, 400, 800, 800, 800];
    for (const ceiling of ceilings) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
    expect(backoff.failures).toBe(6);
    backoff.reset();
    expect(backoff.next()).toBeLessThan(100);
  });

  it('spreads 20 instances that start together over the whole window', () => {
    // The schedule each would sleep on for its first five reconnects: no two alike, no herd.
    const schedules = Array.from({ length: 20 }, () => {
      const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
      return Array.from({ length: 5 }, () => backoff.next());
    });
    for (let step = 0; step < 5; step++) {
      const delays = schedules.map((schedule) => schedule[step]);
      const ceiling = 1000 * 2 ** step;
      expect(new Set(delays).size).toBeGreaterThanOrEqual(18);
      // Spread: the 20 first attempts cover most of their window, not one edge of it.
      expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(ceiling * 0.5);
    }
  });
});

describe('Policy', () => {
  it('retries a failing call and gives up with POLICY_RETRIES_EXHAUSTED and the last cause', async () => {
    const cause = new Error('refused');
    const upstream = failing(cause);
    const error = await policy<string>()
      .execute(upstream.run)
      .catch((e: unknown) => e);
    expect(upstream.calls).toBe(3);
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'POLICY_RETRIES_EXHAUSTED', attempts: 3, target: 'upstream', cause });
  });

  it('makes one attempt when the call may not be repeated, and throws its own error', async () => {
    const cause = new Error('refused');
    const upstream = failing(cause);
    await expect(policy<string>().execute(upstream.run, { retry: false })).rejects.toBe(cause);
    expect(upstream.calls).toBe(1);
  });

  it('returns the last failed result, and waits what the result asks for', async () => {
    const delays: number[] = [];
    const discarded: number[] = [];
    let calls = 0;
    const numbers = policy<number>({
      retry: { retries: 2, backoffMs: 1, maxBackoffMs: 100 },
      isFailedResult: (value) => value >= 500,
      retryAfterMs: (value) => (value === 503 ? 40 : undefined),
      discard: (value) => discarded.push(value),
      observer: { retrying: (_attempt, delay) => delays.push(delay) },
    });
    const result = await numbers.execute(async () => (++calls === 1 ? 503 : 502));
    expect(result).toBe(502);
    expect(calls).toBe(3);
    expect(discarded).toEqual([503, 502]);
    expect(delays[0]).toBe(40);
    expect(delays[1]).toBeLessThan(2);
  });

  it('does not retry when the answer asks for a wait longer than the time left', async () => {
    let calls = 0;
    const numbers = policy<number>({
      totalTimeoutMs: 5000,
      isFailedResult: (value) => value === 503,
      retryAfterMs: () => 60_000,
    });
    expect(await numbers.execute(async () => (calls++, 503))).toBe(503);
    expect(calls).toBe(1);
  });

  it('bounds the whole call with the total timeout, and the signal reaches the attempt', async () => {
    const signals: AbortSignal[] = [];
    const hanging = policy<string>({
      totalTimeoutMs: 50,
      retry: { retries: 5, backoffMs: 1, maxBackoffMs: 1 },
    });
    const error = await hanging
      .execute(
        ({ signal }) =>
          new Promise<string>((_resolve, reject) => {
            signals.push(signal);
            signal.addEventListener('abort', () => reject(signal.reason));
          }),
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PolicyError', code: 'POLICY_TIMEOUT' });
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
  });

  it('opens after consecutive failures, fails fast, and closes after a good probe', async () => {
    const transitions: BreakerTransition[] = [];
    const guarded = policy<string>({
      retry: { retries: 0, backoffMs: 1, maxBackoffMs: 1 },
      breaker: {
        consecutiveFailures: 3,
        failureRatio: 0,
        windowMs: 1000,
        minCalls: 0,
        halfOpenAfterMs: 30,
      },
      observer: { transition: (transition) => transitions.push(transition) },
    });
    const upstream = failing();
    for (let i = 0; i < 3; i++)
      await expect(guarded.execute(() => guarded.guard('a', upstream.run))).rejects.toThrow('refused');
    expect(guarded.breaker('a')!.state).toBe('open');
    expect(guarded.admits('a')).toBe(false);
    expect(guarded.admits('b')).toBe(true);
    const open = await guarded.execute(() => guarded.guard('a', upstream.run)).catch((e: unknown) => e);
    expect(open).toMatchObject({ code: 'POLICY_BREAKER_OPEN', target: 'a', attempts: 0 });
    expect(upstream.calls).toBe(3);
    await until(() => guarded.admits('a'), 5000, 'the half-open probe to be due');
    expect(await guarded.execute(() => guarded.guard('a', async () => 'ok'))).toBe('ok');
    expect(transitions.map(({ from, to }) => `${from}>${to}`)).toEqual([
      'closed>open',
      'open>half_open',
      'half_open>closed',
    ]);
    expect(guarded.report()).toEqual([{ target: 'a', state: 'closed' }]);
  });

  it('opens on a failure ratio over a window', async () => {
    const guarded = policy<string>({
      retry: { retries: 0, backoffMs: 1, maxBackoffMs: 1 },
      breaker: {
        consecutiveFailures: 0,
        failureRatio: 0.4,
        windowMs: 10_000,
        minCalls: 4,
        halfOpenAfterMs: 10_000,
      },
    });
    const ok = async () => 'ok';
    const upstream = failing();
    for (let i = 0; i < 10; i++) {
      await guarded.guard('a', ok);
      await guarded.guard('a', upstream.run).catch(() => undefined);
      if (guarded.breaker('a')!.state === 'open') break;
    }
    expect(guarded.breaker('a')!.state).toBe('open');
    expect(guarded.report()[0]).toMatchObject({ target: 'a', state: 'open', probeAt: expect.any(String) });
  });

  it('runs 10, queues 50 and rejects the 940 others at once with POLICY_BULKHEAD_FULL', async () => {
    const rejected: string[] = [];
    const limited = policy<string>({
      bulkhead: { maxConcurrent: 10, maxQueued: 50 },
      observer: { rejected: (_target, reason) => rejected.push(reason) },
    });
    let running = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls = Array.from({ length: 1000 }, () =>
      limited.execute(async () => {
        most = Math.max(most, ++running);
        await gate;
        running--;
        return 'ok';
      }),
    );
    const settled: string[] = [];
    const outcomes = calls.map((call) =>
      call
        .then(
          () => 'ok',
          (error: PolicyError) => error.code,
        )
        .then((outcome) => {
          settled.push(outcome);
          return outcome;
        }),
    );
    // Every rejection is settled before any call has been let go.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toHaveLength(940);
    expect(settled.every((outcome) => outcome === 'POLICY_BULKHEAD_FULL')).toBe(true);
    release();
    const all = await Promise.all(outcomes);
    expect(all.filter((value) => value === 'ok')).toHaveLength(60);
    expect(all.filter((value) => value === 'POLICY_BULKHEAD_FULL')).toHaveLength(940);
    expect(most).toBe(10);
    expect(rejected).toHaveLength(940);
  });

  it('answers with the fallback when the call fails', async () => {
    const upstream = failing();
    const value = await policy<string>().execute(upstream.run, {
      fallback: (error) => `cached (${error.name})`,
    });
    expect(value).toBe('cached (PolicyError)');
  });

  it("ends at once when the caller aborts, with the caller's reason", async () => {
    const controller = new AbortController();
    const hanging = policy<string>();
    const call = hanging.execute(
      ({ signal }) =>
        new Promise<string>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
  });
});

describe('the policy module', () => {
  it('loads cockatiel on first use, not with Keel', () => {
    const child = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', path.join(__dirname, 'fixtures', 'cockatiel-on-use.ts')],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.stdout).toContain('cockatiel loaded with keel: false');
    expect(child.stdout).toContain('cockatiel loaded on use: true');
  });
});
