import type { BulkheadPolicy, IBackoff, IBackoffFactory, IRetryBackoffContext, RetryPolicy } from 'cockatiel';
import { backoffDelay } from './backoff';
import { CircuitBreaker, type BreakerOptions, type BreakerReport, type BreakerTransition } from './breaker';
import { cockatiel } from './cockatiel';
import { messageOf } from '../util';
import { PolicyError, type PolicyErrorCode } from './errors';

export interface RetryOptions {
  /** Further attempts after the first one failed. */
  retries: number;
  /** Ceiling of the first delay (full jitter under it), doubled for each next one. */
  backoffMs: number;
  /** Largest delay; also the longest `Retry-After` waited for when there is no total timeout. */
  maxBackoffMs: number;
}

export interface BulkheadOptions {
  /** Calls running at once. */
  maxConcurrent: number;
  /** Calls waiting for a running one to end; beyond them a call fails at once with `POLICY_BULKHEAD_FULL`. */
  maxQueued: number;
}

export type RejectionReason = 'breaker_open' | 'bulkhead_full' | 'timeout';
export type AttemptOutcome = 'success' | 'failure' | 'rejected';

/** Where a policy reports what it does: metrics and logs of the resource that owns it. */
export interface PolicyObserver {
  transition?(transition: BreakerTransition): void;
  rejected?(target: string, reason: RejectionReason): void;
  attempt?(target: string, outcome: AttemptOutcome): void;
  /** Attempt `attempt` failed (1-based) and the next one follows in `delayMs`. */
  retrying?(attempt: number, delayMs: number): void;
}

export interface PolicyOptions<T> {
  /** Named in every error and log line: the resource, or what it calls. */
  name: string;
  /** One attempt's limit, in ms (0: none); its signal reaches the attempt. */
  timeoutMs: number;
  /** The whole call's limit, waiting in the bulkhead and between retries included (0: none). */
  totalTimeoutMs: number;
  retry: RetryOptions;
  /** One breaker per target (`guard`); absent: none. */
  breaker?: BreakerOptions;
  /** Absent: no limit. */
  bulkhead?: BulkheadOptions;
  /** A failed attempt that the breaker counts and a retry may repeat; default: any error. */
  isFailure?(error: unknown): boolean;
  /** A result that counts as a failure (an HTTP 503): counted and retried, returned after the last attempt. */
  isFailedResult?(result: T): boolean;
  /** A failed attempt worth another one; default: `isFailure`. */
  isRetryable?(error: unknown): boolean;
  /** The wait a failed result asks for (`Retry-After`), in ms. */
  retryAfterMs?(result: T): number | undefined;
  /** Releases a failed result that is retried rather than returned (a body to cancel). */
  discard?(result: T): void;
  observer?: PolicyObserver;
}

export interface CallOptions<T> {
  signal?: AbortSignal;
  /** False: one attempt only (a request that is not idempotent). Default true. */
  retry?: boolean;
  retries?: number;
  timeoutMs?: number;
  totalTimeoutMs?: number;
  /** The result when the call fails (its error as argument) instead of the rejection. */
  fallback?(error: Error): T | Promise<T>;
}

export interface Attempt {
  /** 1 for the first attempt. */
  readonly number: number;
  /** Aborts at the attempt's timeout, the total timeout, or the caller's signal. */
  readonly signal: AbortSignal;
}

type Step<T> =
  | { value: T; again: boolean; retryAfterMs?: number }
  | { error: unknown; again: boolean; retryable: boolean };

/**
 * Timeout, retry, circuit breaker, bulkhead and fallback in one order, on cockatiel: the bulkhead
 * admits the call, the total timeout starts, attempts follow on the jittered schedule (or after a
 * `Retry-After`), each with its own timeout, and each goes through the breaker of the target it
 * calls (`guard`). Timeouts are AbortSignals: cockatiel's timeout ends when the function returns,
 * which for an HTTP response is before its body is read.
 */
export class Policy<T> {
  private readonly bulkhead?: BulkheadPolicy;
  private readonly retries = new Map<number, RetryPolicy>();
  private readonly breakers = new Map<string, CircuitBreaker<T>>();
  private readonly isFailure: (error: unknown) => boolean;
  private readonly isFailedResult: (result: T) => boolean;
  private readonly isRetryable: (error: unknown) => boolean;

  constructor(private readonly options: PolicyOptions<T>) {
    this.isFailure = options.isFailure ?? (() => true);
    this.isFailedResult = options.isFailedResult ?? (() => false);
    this.isRetryable = options.isRetryable ?? this.isFailure;
    const { bulkhead } = options;
    if (bulkhead !== undefined && bulkhead.maxConcurrent > 0) {
      this.bulkhead = cockatiel().bulkhead(bulkhead.maxConcurrent, bulkhead.maxQueued);
    }
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * Runs `run` until an attempt succeeds or the policy gives up. A failed result of the last
   * attempt is returned; an error is thrown as it is after a single attempt, as `POLICY_RETRIES_EXHAUSTED`
   * after several.
   */
  execute(run: (attempt: Attempt) => Promise<T>, call: CallOptions<T> = {}): Promise<T> {
    const totalMs = call.totalTimeoutMs ?? this.options.totalTimeoutMs;
    const state = new CallState(totalMs > 0 ? Date.now() + totalMs : Infinity, call.signal);
    // Set before the first attempt, which the bulkhead starts synchronously.
    const bound = totalMs > 0 || call.signal !== undefined ? this.bound(state, totalMs) : undefined;
    const attempts = () => this.attempts(run, call, state);
    let result: Promise<T>;
    if (this.bulkhead === undefined) {
      result = attempts();
    } else {
      result = this.bulkhead.execute(attempts).catch((error: unknown) => {
        if (!(error instanceof cockatiel().BulkheadRejectedError)) throw error;
        const { maxConcurrent, maxQueued } = this.options.bulkhead!;
        throw this.rejection(
          'POLICY_BULKHEAD_FULL',
          this.name,
          0,
          `${this.name}: ${maxConcurrent} calls running and ${maxQueued} waiting (bulkhead)`,
        );
      });
    }
    if (bound !== undefined) result = bound(result);
    return call.fallback === undefined ? result : result.catch((error: Error) => call.fallback!(error));
  }

  /** Runs `call` through the breaker of `target` (created on first use), counting its outcome. */
  async guard(target: string, call: () => Promise<T>): Promise<T> {
    const breaker = this.breaker(target);
    if (breaker === undefined) return call();
    try {
      const value = await breaker.execute(call);
      this.options.observer?.attempt?.(target, this.isFailedResult(value) ? 'failure' : 'success');
      return value;
    } catch (error) {
      const rejected = error instanceof PolicyError && error.code === 'POLICY_BREAKER_OPEN';
      if (rejected) this.options.observer?.rejected?.(target, 'breaker_open');
      this.options.observer?.attempt?.(
        target,
        rejected ? 'rejected' : this.isFailure(error) ? 'failure' : 'success',
      );
      throw error;
    }
  }

  /** Whether a call to `target` would run now: no breaker, or one that is closed or due for a probe. */
  admits(target: string): boolean {
    return this.breakers.get(target)?.admits() ?? true;
  }

  /** The breaker of `target`, created closed on first use; undefined without breaker options. */
  breaker(target: string): CircuitBreaker<T> | undefined {
    const options = this.options.breaker;
    if (options === undefined) return undefined;
    let breaker = this.breakers.get(target);
    if (breaker === undefined) {
      breaker = new CircuitBreaker<T>(
        target,
        options,
        { error: this.isFailure, result: this.isFailedResult },
        (transition) => this.options.observer?.transition?.(transition),
      );
      this.breakers.set(target, breaker);
    }
    return breaker;
  }

  /** Every breaker's state, by target. */
  report(): BreakerReport[] {
    return [...this.breakers.values()].map((breaker) => breaker.report());
  }

  /** Drops the breakers of targets that are gone (instances that left discovery). */
  retain(targets: ReadonlySet<string>): void {
    for (const target of this.breakers.keys()) if (!targets.has(target)) this.breakers.delete(target);
  }

  /** A PolicyError the observer is told about: for a rejection decided outside the policy (every instance open). */
  rejection(
    code: PolicyErrorCode,
    target: string,
    attempts: number,
    message: string,
    cause?: unknown,
  ): PolicyError {
    const reason: RejectionReason | undefined =
      code === 'POLICY_BREAKER_OPEN'
        ? 'breaker_open'
        : code === 'POLICY_BULKHEAD_FULL'
          ? 'bulkhead_full'
          : code === 'POLICY_TIMEOUT'
            ? 'timeout'
            : undefined;
    if (reason !== undefined) this.options.observer?.rejected?.(target, reason);
    return new PolicyError(code, message, target, attempts, cause === undefined ? undefined : { cause });
  }

  private async attempts(
    run: (attempt: Attempt) => Promise<T>,
    call: CallOptions<T>,
    state: CallState,
  ): Promise<T> {
    const retries = call.retry === false ? 0 : (call.retries ?? this.options.retry.retries);
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    const { maxBackoffMs } = this.options.retry;
    const { deadlineAt } = state;
    let made = 0;
    const once = async (): Promise<Step<T>> => {
      if (state.aborted) return { error: state.reason, again: false, retryable: false };
      made++;
      const signal = state.arm(timeoutMs);
      try {
        const value = await run({ number: made, signal });
        if (!this.isFailedResult(value)) return { value, again: false };
        const retryAfterMs = this.options.retryAfterMs?.(value);
        // A wait longer than the time left would only end in the total timeout: the answer is returned.
        const limit = Number.isFinite(deadlineAt) ? deadlineAt - Date.now() : maxBackoffMs;
        return { value, again: retryAfterMs === undefined || retryAfterMs <= limit, retryAfterMs };
      } catch (error) {
        state.disarm();
        const retryable = !state.aborted && this.isRetryable(error);
        return { error, again: retryable, retryable };
      }
    };
    const step = retries === 0 ? await once() : await this.retryPolicy(retries).execute(once);
    if ('value' in step) return step.value;
    if (made > 1 && step.retryable) {
      throw new PolicyError(
        'POLICY_RETRIES_EXHAUSTED',
        `${this.name}: ${made} attempts failed, the last with: ${messageOf(step.error)}`,
        this.name,
        made,
        { cause: step.error },
      );
    }
    throw step.error;
  }

  /**
   * What bounds `state`'s result: a rejection at the total timeout (`POLICY_TIMEOUT`) or at the
   * caller's abort (its reason), even while the call waits in the bulkhead or a backoff.
   */
  private bound(state: CallState, totalMs: number): (result: Promise<T>) => Promise<T> {
    let settle: { resolve(value: T): void; reject(error: unknown): void } | undefined;
    const outcome = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
    state.onAbort = (byTimeout) =>
      settle!.reject(
        byTimeout
          ? this.rejection(
              'POLICY_TIMEOUT',
              this.name,
              0,
              `${this.name}: no result within ${totalMs} ms (total timeout)`,
            )
          : state.reason,
      );
    state.start(totalMs);
    return (result) => {
      result.then(
        (value) => {
          state.end();
          settle!.resolve(value);
        },
        (error: unknown) => {
          state.end();
          settle!.reject(error);
        },
      );
      return outcome;
    };
  }

  private retryPolicy(retries: number): RetryPolicy {
    let policy = this.retries.get(retries);
    if (policy === undefined) {
      const { retry, handleWhenResult } = cockatiel();
      policy = retry(
        handleWhenResult((step) => (step as Step<T>).again),
        {
          maxAttempts: retries,
          backoff: new RetryBackoff(this.options),
        },
      );
      policy.onRetry(({ attempt, delay }) => this.options.observer?.retrying?.(attempt, delay));
      this.retries.set(retries, policy);
    }
    return policy;
  }
}

/**
 * The jittered schedule, except after an answer that said how long to wait (`Retry-After`).
 * Discards the failed result that is about to be retried.
 */
class RetryBackoff<T> implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(private readonly options: PolicyOptions<T>) {}

  /** `context.attempt` is the attempt that just failed, 1-based. */
  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const { backoffMs, maxBackoffMs } = this.options.retry;
    const step = 'value' in context.result ? (context.result.value as Step<T>) : undefined;
    if (step !== undefined && 'value' in step) this.options.discard?.(step.value);
    const asked = step !== undefined && 'retryAfterMs' in step ? step.retryAfterMs : undefined;
    const duration = asked ?? backoffDelay({ initialMs: backoffMs, maxMs: maxBackoffMs }, context.attempt);
    return { duration, next: (later) => this.next(later) };
  }
}

let never: AbortSignal | undefined;

/** The signal of an attempt with no timeout, no total timeout and no caller's signal. */
function neverAborted(): AbortSignal {
  return (never ??= new AbortController().signal);
}

/** What `AbortSignal.timeout` aborts with, which the callers tell from their own aborts. */
function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/**
 * One call's limits: its total deadline, the caller's signal, and the running attempt's controller,
 * which each aborts. Plain timers and one AbortController per attempt, not `AbortSignal.timeout`
 * and `AbortSignal.any`: theirs are tracked with WeakRefs and FinalizationRegistry entries and, once
 * a listener is added (undici adds one), held until they abort: with an attempt that is one
 * setImmediate, the full policy cost 43 µs of CPU a call that way, mostly garbage collection, 15 now.
 */
class CallState {
  aborted = false;
  reason: unknown;
  /** Rejects the call: at the total timeout (true) or the caller's abort. */
  onAbort?: (byTimeout: boolean) => void;
  private ended = false;
  private attempt?: AbortController;
  private attemptTimer?: NodeJS.Timeout;
  private totalTimer?: NodeJS.Timeout;
  private readonly callerAborted = (): void => this.abort(this.caller!.reason, false);

  constructor(
    readonly deadlineAt: number,
    private readonly caller: AbortSignal | undefined,
  ) {}

  /** Starts the total timer and follows the caller's signal. */
  start(totalMs: number): void {
    if (totalMs > 0) {
      // Unreferenced, as AbortSignal.timeout's: a pending deadline alone does not hold the process.
      this.totalTimer = setTimeout(() => this.abort(timeoutReason(), true), totalMs).unref();
    }
    if (this.caller?.aborted === true) this.callerAborted();
    else this.caller?.addEventListener('abort', this.callerAborted, { once: true });
  }

  /**
   * The signal of the next attempt, aborted at its timeout or the total deadline, whichever is
   * first. That timer outlives the call's result on purpose: an HTTP response's body is read after
   * it, within the same limits; it is released when it fires.
   */
  arm(timeoutMs: number): AbortSignal {
    const left = this.deadlineAt - Date.now();
    const byTotal = !(timeoutMs > 0 && timeoutMs < left);
    const ms = byTotal ? left : timeoutMs;
    if (!Number.isFinite(ms)) return this.caller ?? neverAborted();
    const controller = new AbortController();
    this.attempt = controller;
    this.attemptTimer = setTimeout(() => {
      if (byTotal && !this.ended) this.abort(timeoutReason(), true);
      else controller.abort(timeoutReason());
    }, ms).unref();
    // A caller's signal is rare and may be long-lived: AbortSignal.any holds it weakly.
    return this.caller === undefined ? controller.signal : AbortSignal.any([controller.signal, this.caller]);
  }

  /** The attempt failed: its timer has nothing left to bound. */
  disarm(): void {
    clearTimeout(this.attemptTimer);
  }

  /** The result is in: the total timer and the caller's listener go; the attempt's timer stays (`arm`). */
  end(): void {
    this.ended = true;
    this.onAbort = undefined;
    clearTimeout(this.totalTimer);
    this.caller?.removeEventListener('abort', this.callerAborted);
  }

  private abort(reason: unknown, byTimeout: boolean): void {
    if (this.aborted || this.ended) return;
    this.aborted = true;
    this.reason = reason;
    this.attempt?.abort(reason);
    const onAbort = this.onAbort;
    this.end();
    onAbort?.(byTimeout);
  }
}
