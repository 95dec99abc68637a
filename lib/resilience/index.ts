export { Backoff, backoffDelay, backoffSteps, sleep, type BackoffOptions } from './backoff';
export {
  CircuitBreaker,
  type BreakerOptions,
  type BreakerReport,
  type BreakerState,
  type BreakerTransition,
  type FailureRules,
} from './breaker';
export { PolicyError, type PolicyErrorCode } from './errors';
export {
  Policy,
  type Attempt,
  type AttemptOutcome,
  type BulkheadOptions,
  type CallOptions,
  type PolicyObserver,
  type PolicyOptions,
  type RejectionReason,
  type RetryOptions,
} from './policy';
export { NOT_YET, retryUntil, type DeadlineOutcome, type RetryUntilOptions } from './retry-until';
export {
  breakerOptions,
  breakerSchema,
  reconnectSchema,
  type BreakerSettings,
  type ReconnectSettings,
} from './settings';
