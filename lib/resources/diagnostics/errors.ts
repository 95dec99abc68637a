import { KeelError, type CodesOf } from '../../errors';

export type DiagnosticsErrorCode = CodesOf<'DiagnosticsError'>;

/** A diagnostics request that cannot be served now (the resource is not running, or is busy). */
export class DiagnosticsError extends KeelError {
  override readonly name = 'DiagnosticsError';
  constructor(
    readonly code: DiagnosticsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
