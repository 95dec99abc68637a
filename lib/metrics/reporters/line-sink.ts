/** Where the push reporter sends each period's lines: carbon, a file, stdout. */
export interface LineSink {
  /** A short name for warnings: `carbon 127.0.0.1:2003`, `file /var/log/metrics`. */
  readonly description: string;
  open(): Promise<void>;
  write(lines: readonly string[]): Promise<void>;
  /** Delivers what it still can, then releases the socket or file. */
  close(): Promise<void>;
}

/** The part of a bunyan logger (or `console`) the reporters need. */
export interface ReporterLogger {
  warn(message: string): void;
  info(message: string): void;
}
