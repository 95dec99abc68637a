import { KeelError, type CodesOf } from '../errors';
import { messageOf } from '../util';
import type { Phase } from './status';

export type LifecycleErrorCode = CodesOf<'LifecycleError'>;

export interface HookFailure {
  resource: string;
  phase: Phase;
  error: unknown;
}

export class HookTimeoutError extends KeelError {
  override readonly name = 'HookTimeoutError';
  readonly code = 'HOOK_TIMEOUT';
  constructor(resource: string, phase: Phase, timeoutMs: number) {
    super(`resource '${resource}' did not finish ${phase} within ${timeoutMs} ms`);
  }
}

/** A start that failed (and was rolled back) or a stop that did not go cleanly. */
export class LifecycleError extends KeelError {
  override readonly name = 'LifecycleError';
  constructor(
    readonly code: LifecycleErrorCode,
    message: string,
    readonly failures: readonly HookFailure[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The first failing resource and phase (for a start failure, the one that caused the rollback). */
  get resource(): string | undefined {
    return this.failures[0]?.resource;
  }

  get phase(): Phase | undefined {
    return this.failures[0]?.phase;
  }

  static fromFailures(
    code: LifecycleErrorCode,
    headline: string,
    failures: readonly HookFailure[],
  ): LifecycleError {
    const lines = failures.map(
      (failure) => `  ${failure.resource} (${failure.phase}): ${messageOf(failure.error)}`,
    );
    return new LifecycleError(code, [headline, ...lines].join('\n'), failures, { cause: failures[0]?.error });
  }
}
