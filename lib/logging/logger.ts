import bunyan from 'bunyan';
import type { LevelName } from './levels';

export type LogFields = Record<string, unknown>;

/**
 * `(message, ...format args)`, `(error, message?, ...)` or `(fields, message?, ...)`, as in bunyan.
 * `fields.err` is serialized with its stack; `extra` and `tags` pass through untouched.
 */
export type LogArguments =
  [message: string, ...args: unknown[]] | [fields: Error | LogFields, ...args: unknown[]];

/** The level every logger of one `Logging` obeys; a profile change moves it for loggers already handed out. */
export interface LevelGate {
  level: number;
}

type BunyanMethod = (...args: unknown[]) => void;

const LEVELS: Readonly<Record<LevelName, number>> = {
  trace: bunyan.TRACE,
  debug: bunyan.DEBUG,
  info: bunyan.INFO,
  warn: bunyan.WARN,
  error: bunyan.ERROR,
  fatal: bunyan.FATAL,
};

/**
 * A thin gate in front of a bunyan logger. Bunyan copies the level into each child when the child
 * is made, so a level change would miss children already handed out; the shared gate does not.
 */
export class Logger {
  constructor(
    private readonly gate: LevelGate,
    private readonly target: bunyan,
  ) {}

  trace(...args: LogArguments): void {
    this.log('trace', args);
  }

  debug(...args: LogArguments): void {
    this.log('debug', args);
  }

  info(...args: LogArguments): void {
    this.log('info', args);
  }

  warn(...args: LogArguments): void {
    this.log('warn', args);
  }

  error(...args: LogArguments): void {
    this.log('error', args);
  }

  fatal(...args: LogArguments): void {
    this.log('fatal', args);
  }

  isEnabled(level: LevelName): boolean {
    return this.gate.level <= LEVELS[level];
  }

  /** A logger whose records carry `fields` as well. */
  child(fields: LogFields): Logger {
    return new Logger(this.gate, this.target.child(fields));
  }

  private log(level: LevelName, args: LogArguments): void {
    if (this.gate.level <= LEVELS[level]) (this.target[level] as BunyanMethod).apply(this.target, args);
  }
}
