import { Backoff, sleep } from './backoff';

export const NOT_YET: unique symbol = Symbol('not yet');

export interface RetryUntilOptions {
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
 * on the jittered schedule (`Backoff`) between calls. A thrown error counts as "not yet" and is
 * kept as the cause.
 */
export async function retryUntil<T>(
  deadlineAt: number,
  attempt: () => Promise<T | typeof NOT_YET>,
  {
    initialDelayMs = 100,
    maxDelayMs = 1000,
    isFatal = () => false,
    isNoAttempt = () => false,
    onRetry = () => undefined,
    signal,
  }: RetryUntilOptions = {},
): Promise<DeadlineOutcome<T>> {
  const backoff = new Backoff({ initialMs: initialDelayMs, maxMs: maxDelayMs });
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
    const delay = Math.min(backoff.next(), remaining);
    onRetry(tries, delay, lastError);
    await sleep(delay, signal);
  }
}
