export type DiagnosticsErrorCode = 'NOT_STARTED' | 'SNAPSHOT_IN_PROGRESS';

/** A diagnostics request that cannot be served now (the resource is not running, or is busy). */
export class DiagnosticsError extends Error {
  override readonly name = 'DiagnosticsError';
  constructor(
    readonly code: DiagnosticsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
