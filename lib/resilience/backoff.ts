import type { IBackoff } from 'cockatiel';
import { cockatiel } from './cockatiel';

export interface BackoffOptions {
  /** The ceiling of the first delay; each next ceiling is twice the one before. */
  initialMs: number;
  /** The largest ceiling. */
  maxMs: number;
}

/**
 * The schedule every retry and reconnect loop of Keel sleeps on: exponential, capped, with full
 * jitter (attempt n waits a random delay in [0, min(maxMs, initialMs · 2^(n−1)))), cockatiel's
 * `fullJitterGenerator`. Full jitter is what spreads a fleet that lost the same dependency at the
 * same moment: their attempts land anywhere in the window rather than together at its edge.
 */
export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call moves one step along the schedule. */
  next(): number {
    return backoffDelay(this.options, ++this.attempts);
  }

  /** Failed attempts since the last reset. */
  get failures(): number {
    return this.attempts;
  }

  /** Back to the first step: the call succeeded. */
  reset(): void {
    this.attempts = 0;
  }
}

/**
 * The delay of the schedule before attempt `attempt` + 1 (after `attempt` failures, 1-based), for
 * loops that count their attempts themselves (a message's attempt header, a library's callback).
 */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  const { fullJitterGenerator } = cockatiel();
  const [delay] = fullJitterGenerator(Math.max(0, attempt - 1), {
    generator: fullJitterGenerator,
    initialDelay: Math.max(1, options.initialMs),
    maxDelay: Math.max(1, options.maxMs),
    exponent: 2,
  });
  return delay;
}

/**
 * The same schedule as cockatiel's own backoff type, for libraries that take one (etcd3's watch
 * reconnect): a zero first step whose successors are the jittered ones.
 */
export function backoffSteps(options: BackoffOptions): IBackoff<unknown> {
  const step = (attempt: number): IBackoff<unknown> => ({
    duration: attempt === 0 ? 0 : backoffDelay(options, attempt),
    next: () => step(attempt + 1),
  });
  return step(0);
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
