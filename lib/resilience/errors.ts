import { KeelError, type CodesOf } from '../errors';

export type PolicyErrorCode = CodesOf<'PolicyError'>;

/**
 * A call the policy ended without a result: its total timeout passed (`POLICY_TIMEOUT`), the
 * target's circuit breaker was open (`POLICY_BREAKER_OPEN`), the bulkhead had no room
 * (`POLICY_BULKHEAD_FULL`), or every attempt failed (`POLICY_RETRIES_EXHAUSTED`, with the last
 * attempt's error as `cause`).
 */
export class PolicyError extends KeelError {
  override readonly name = 'PolicyError';
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    /** What was called: the policy's name, and the instance or origin for a breaker. */
    readonly target: string,
    /** Attempts made before the policy gave up (0: none was allowed to start). */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
