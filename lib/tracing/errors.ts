import { KeelError, type CodesOf } from '../errors';

export type TracingErrorCode = CodesOf<'TracingError'>;

/** Tracing cannot run as configured: an OpenTelemetry package `system.tracing` needs is not installed. */
export class TracingError extends KeelError {
  override readonly name = 'TracingError';
  constructor(
    readonly code: TracingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
