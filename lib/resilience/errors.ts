export type PolicyErrorCode = 'TIMEOUT' | 'BREAKER_OPEN' | 'BULKHEAD_FULL' | 'RETRIES_EXHAUSTED';

/**
 * A call the policy ended without a result: its total timeout passed (`TIMEOUT`), the target's
 * circuit breaker was open (`BREAKER_OPEN`), the bulkhead had no room (`BULKHEAD_FULL`), or every
 * attempt failed (`RETRIES_EXHAUSTED`, with the last attempt's error as `cause`).
 */
export class PolicyError extends Error {
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
