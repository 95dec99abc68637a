import type { CircuitBreakerPolicy } from 'cockatiel';
import { cockatiel } from './cockatiel';
import { PolicyError } from './errors';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Opens after this many failed calls in a row (when `failureRatio` is 0). */
  consecutiveFailures: number;
  /** Above 0: opens instead when this share of the calls within `windowMs` failed. */
  failureRatio: number;
  windowMs: number;
  /** With `failureRatio`: the ratio is judged only once the window holds this many calls. */
  minCalls: number;
  /** How long it stays open before one call is let through as a probe (half-open). */
  halfOpenAfterMs: number;
}

/** What a breaker changed into, for metrics and logs: `cause` is the failure that opened it. */
export interface BreakerTransition {
  target: string;
  from: BreakerState;
  to: BreakerState;
  cause?: unknown;
}

export interface BreakerReport {
  target: string;
  state: BreakerState;
  /** While open: when the next probe may go, ISO 8601. */
  probeAt?: string;
}

/** What counts as a failure; anything else (an answer, the caller's own abort) is a success. */
export interface FailureRules<T> {
  error(error: unknown): boolean;
  result(result: T): boolean;
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'half_open', 'open'];

/**
 * One target's circuit breaker, on cockatiel's: by consecutive failures or by a failure ratio over
 * a sliding window, open for `halfOpenAfterMs`, then one probe call decides between closed and open
 * again. `admits()` lets a load balancer skip an open target without making a call.
 */
export class CircuitBreaker<T = unknown> {
  private readonly policy: CircuitBreakerPolicy;
  private openedAt = 0;
  private current: BreakerState = 'closed';

  constructor(
    readonly target: string,
    private readonly options: BreakerOptions,
    rules: FailureRules<T>,
    onTransition: (transition: BreakerTransition) => void,
  ) {
    const { circuitBreaker, handleWhen, ConsecutiveBreaker, SamplingBreaker } = cockatiel();
    const breaker =
      options.failureRatio > 0
        ? new SamplingBreaker({
            threshold: options.failureRatio,
            duration: options.windowMs,
            // cockatiel takes a rate; 0 would mean its own default, so the least positive one stands for none.
            minimumRps: Math.max(Number.MIN_VALUE, (options.minCalls * 1000) / options.windowMs),
          })
        : new ConsecutiveBreaker(Math.max(1, options.consecutiveFailures));
    this.policy = circuitBreaker(
      handleWhen((error) => rules.error(error)).orWhenResult((result) => rules.result(result as T)),
      { halfOpenAfter: options.halfOpenAfterMs, breaker },
    );
    let cause: unknown;
    this.policy.onBreak((reason) => {
      this.openedAt = Date.now();
      cause = 'error' in reason ? reason.error : 'value' in reason ? reason.value : undefined;
    });
    this.policy.onStateChange((state) => {
      const from = this.current;
      this.current = STATES[state];
      onTransition({ target, from, to: this.current, ...(this.current === 'open' && { cause }) });
    });
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call now would run: closed, or open for long enough that it would be the probe. */
  admits(now = Date.now()): boolean {
    if (this.current === 'closed') return true;
    return this.current === 'open' && now - this.openedAt >= this.options.halfOpenAfterMs;
  }

  report(): BreakerReport {
    if (this.current !== 'open') return { target: this.target, state: this.current };
    const probeAt = new Date(this.openedAt + this.options.halfOpenAfterMs).toISOString();
    return { target: this.target, state: this.current, probeAt };
  }

  /** Runs `call`, or throws `POLICY_BREAKER_OPEN` without running it. */
  async execute(call: () => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(call);
    } catch (error) {
      if (!(error instanceof cockatiel().BrokenCircuitError)) throw error;
      throw new PolicyError('POLICY_BREAKER_OPEN', `${this.target}: circuit breaker open`, this.target, 0, {
        cause: error,
      });
    }
  }
}
