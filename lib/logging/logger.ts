import type Bunyan from 'bunyan';
import { bunyan } from './bunyan';
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

/** Bunyan's raw stream behind a logger: where a record built here goes, as bunyan's would. */
export interface RecordSink {
  write(record: object): void;
}

/** The record format version bunyan writes as `v`; its types leave the constant out. */
const RECORD_VERSION = (bunyan as unknown as { LOG_VERSION: number }).LOG_VERSION;

/** What bunyan's Logger has and its types leave out: the fields it copies into every record. */
interface BunyanInternals {
  fields: LogFields;
  serializers: Record<string, unknown> | null;
}

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
  private readonly fields: LogFields;
  private readonly serializers: Record<string, unknown>;

  constructor(
    private readonly gate: LevelGate,
    private readonly target: Bunyan,
    private readonly sink: RecordSink,
  ) {
    const internals = target as unknown as BunyanInternals;
    this.fields = internals.fields;
    this.serializers = internals.serializers ?? {};
  }

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
    return new Logger(this.gate, this.target.child(fields), this.sink);
  }

  private log(level: LevelName, args: LogArguments): void {
    const levelNumber = LEVELS[level];
    if (this.gate.level > levelNumber) return;
    if (this.isPlainCall(args))
      this.sink.write(this.record(levelNumber, args[0] as LogFields, args[1] as string));
    else (this.target[level] as BunyanMethod).apply(this.target, args);
  }

  /**
   * `(fields, message)` with nothing for bunyan to do: no field it serializes, no format
   * directive. That is nearly every call, and the access log makes one per request.
   */
  private isPlainCall(args: LogArguments): boolean {
    if (args.length !== 2) return false;
    const [fields, message] = args;
    if (typeof message !== 'string' || message.includes('%')) return false;
    if (typeof fields !== 'object' || fields === null || fields instanceof Error) return false;
    if (Array.isArray(fields) || Buffer.isBuffer(fields)) return false;
    for (const key in fields) if (key in this.serializers) return false;
    return true;
  }

  /**
   * The record bunyan's mkRecord makes of a plain call, field for field and in its order, without
   * the copies, the serializer pass and the format call it makes for every call.
   */
  private record(level: number, fields: LogFields, message: string): LogFields {
    const record: LogFields = {};
    for (const key in this.fields) record[key] = this.fields[key];
    record.level = level;
    for (const key in fields) record[key] = fields[key];
    record.msg = message;
    record.time ||= new Date();
    record.v = RECORD_VERSION;
    return record;
  }
}
