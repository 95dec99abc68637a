/**
 * The logging surface the lifecycle and resources need: `log.info('message')` or
 * `log.info({ fields }, 'message')`, as bunyan and pino take them.
 * Keel's bunyan-backed `Logger` (lib/logging) satisfies it, and so does a test's recorder.
 */
export interface LogMethod {
  (message: string): void;
  (fields: Record<string, unknown>, message: string): void;
}

export interface Log {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  child(fields: Record<string, unknown>): Log;
}

/** A `LogMethod` from a function of both: `log.info('text')` reaches it with empty fields. */
export function logMethod(write: (fields: Record<string, unknown>, message: string) => void): LogMethod {
  return (first: Record<string, unknown> | string, message?: string): void =>
    typeof first === 'string' ? write({}, first) : write(first, message!);
}
