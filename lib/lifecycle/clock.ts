import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Time as the schedulers see it: `Date.now()` and timers for a service, a clock a test moves by
 * hand for cron schedules (`ManualClock` of `keel/testing`), so no test waits for a wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` have passed, or as soon as `signal` aborts (without rejecting). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** Node's timers take at most 2^31−1 ms; a longer wait is slept in steps of it. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    const until = Date.now() + ms;
    for (let left = ms; left > 0 && !signal.aborted; left = until - Date.now()) {
      await sleep(Math.min(left, LONGEST_TIMER_MS), undefined, { signal }).catch(() => undefined);
    }
  },
};
