import { KeelError, type CodesOf } from '../errors';

/** What a command may touch, passed in so the commands stay independent of the process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends KeelError {
  readonly code = 'CLI_USAGE';
}

/** A command that could not do its work for a reason outside the call itself: a one-line message, exit 1. */
export class CliError extends KeelError {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type CliErrorCode = CodesOf<'CliError'>;
