export type TracingErrorCode = 'TRACING_MISSING_PACKAGE';

/** Tracing cannot run as configured: an OpenTelemetry package `system.tracing` needs is not installed. */
export class TracingError extends Error {
  override readonly name = 'TracingError';
  constructor(
    readonly code: TracingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
