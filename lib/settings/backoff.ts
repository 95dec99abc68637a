export const NOT_YET: unique symbol = Symbol('not yet');

export interface BackoffOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** An error no retry can fix (bad credentials): stop at once. */
  isFatal?: (error: unknown) => boolean;
  /** Ends the retries at once (the process is asked to stop while it waits). */
  signal?: AbortSignal;
  /** An error that says no attempt was made (a circuit breaker refusing the call): keep the previous cause. */
  isNoAttempt?: (error: unknown) => boolean;
  /** Called before each sleep: the attempt that just failed (1-based), the sleep, and the cause so far. */
  onRetry?: (attempt: number, delayMs: number, lastError: unknown) => void;
}

export type DeadlineOutcome<T> =
  | { done: true; value: T }
  /** `answered`: some attempt returned NOT_YET, i.e. the other side was reachable at least once. */
  | { done: false; lastError?: unknown; answered: boolean };

/**
 * Calls `attempt` until it returns something other than NOT_YET or `deadlineAt` passes, sleeping
 * with exponential backoff between calls. A thrown error counts as "not yet" and is kept as the cause.
 */
export async function retryUntil<T>(
  deadlineAt: number,
  attempt: () => Promise<T | typeof NOT_YET>,
  {
    initialDelayMs = 50,
    maxDelayMs = 1000,
    isFatal = () => false,
    isNoAttempt = () => false,
    onRetry = () => undefined,
    signal,
  }: BackoffOptions = {},
): Promise<DeadlineOutcome<T>> {
  let delay = initialDelayMs;
  let lastError: unknown;
  let answered = false;
  for (let tries = 1; ; tries++) {
    try {
      const value = await attempt();
      if (value !== NOT_YET) return { done: true, value };
      answered = true;
      lastError = undefined;
    } catch (error) {
      if (isFatal(error)) return { done: false, lastError: error, answered };
      // A call cut short by the deadline itself says nothing new: keep the error that explains the wait.
      if (lastError === undefined || (Date.now() < deadlineAt && !isNoAttempt(error))) lastError = error;
    }
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0 || signal?.aborted) return { done: false, lastError, answered };
    onRetry(tries, Math.min(delay, remaining), lastError);
    await sleep(Math.min(delay, remaining), signal);
    delay = Math.min(delay * 2, maxDelayMs);
  }
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

/** etcd3's watch reconnect backoff, capped so a restarted etcd is found again within a second. */
export class CappedBackoff {
  constructor(
    readonly duration: number,
    private readonly maxMs: number,
  ) {}

  next(): CappedBackoff {
    return new CappedBackoff(Math.min(Math.max(this.duration * 2, 50), this.maxMs), this.maxMs);
  }
}
