/**
 * The logging surface the lifecycle and resources need: `logger.info({ fields }, 'message')`.
 * Keel's bunyan-backed `Logger` (lib/logging) satisfies it, and so does a test's recorder.
 */
export interface Log {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  child(fields: Record<string, unknown>): Log;
}
