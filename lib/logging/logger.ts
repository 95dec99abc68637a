// A namespace import: a default import of bunyan's `export =` in the emitted declarations needs
// esModuleInterop in a consumer (TS1259).
import type * as Bunyan from 'bunyan';
import { bunyan } from './bunyan';
import type { LevelName } from './levels';
import { fallbackTaken } from '../internals/reach';
import { LineHead } from './line';
import { RECORD_VERSION } from './record';

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
  /** Fields every record takes from where it is written (the trace and span ids), if any there. */
  correlate?: () => LogFields | undefined;
}

type BunyanMethod = (...args: unknown[]) => void;

/** Bunyan's raw stream behind a logger: where a record built here goes, as bunyan's would. */
export interface RecordSink {
  write(record: object): void;
  /** A plain call written as its JSON line on the logger's head; false when it needs a record. */
  writeLine?(head: LineHead, level: number, fields: LogFields, message: string): boolean;
}

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
  /** Undefined when bunyan's logger has another shape than `record()` copies: then bunyan writes every call. */
  private readonly fields: LogFields | undefined;
  private readonly serializers: Record<string, unknown>;
  private head: LineHead | undefined;

  constructor(
    private readonly gate: LevelGate,
    private readonly target: Bunyan,
    private readonly sink: RecordSink,
  ) {
    const internals = target as unknown as BunyanInternals;
    const own = internals.fields;
    if (!isFields(own)) fallbackTaken(BUNYAN_REACH, 'a logger has no fields object');
    this.fields = bunyanShaped() && isFields(own) ? own : undefined;
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

  private log(level: LevelName, given: LogArguments): void {
    const levelNumber = LEVELS[level];
    if (this.gate.level > levelNumber) return;
    const correlated = this.gate.correlate?.();
    const args = correlated === undefined ? given : withFields(given, correlated);
    if (this.fields !== undefined && isPlainShape(args)) {
      const fields = args[0] as LogFields;
      const message = args[1] as string;
      if (
        this.sink.writeLine?.(
          (this.head ??= new LineHead(this.fields, this.serializers)),
          levelNumber,
          fields,
          message,
        )
      )
        return;
      if (!this.serializes(fields))
        return this.sink.write(plainRecord(this.fields, levelNumber, fields, message));
    }
    (this.target[level] as BunyanMethod).apply(this.target, args);
  }

  /** Whether bunyan has a serializer for one of `fields`, which only its own path applies. */
  private serializes(fields: LogFields): boolean {
    for (const key in fields) if (key in this.serializers) return true;
    return false;
  }
}

/**
 * The record bunyan's mkRecord makes of a plain call, field for field and in its order, without
 * the copies, the serializer pass and the format call it makes for every call.
 */
export function plainRecord(own: LogFields, level: number, fields: LogFields, message: string): LogFields {
  const record: LogFields = {};
  for (const key in own) record[key] = own[key];
  record.level = level;
  for (const key in fields) record[key] = fields[key];
  record.msg = message;
  record.time ||= new Date();
  record.v = RECORD_VERSION;
  return record;
}

function isFields(value: unknown): value is LogFields {
  return typeof value === 'object' && value !== null;
}

const BUNYAN_REACH = "bunyan's logger fields and record (lib/logging/logger.ts)";

let shaped: boolean | undefined;

/**
 * Whether the installed bunyan makes, of a plain call, the record `plainRecord` makes from its
 * logger's `fields` (a private field): checked once per process on a probe logger, through bunyan's
 * own path to a raw stream. When not, every call takes bunyan's path, and that is said once.
 */
export function bunyanShaped(): boolean {
  if (shaped !== undefined) return shaped;
  const records: LogFields[] = [];
  const probe = bunyan.createLogger({
    name: 'keel-probe',
    streams: [
      {
        type: 'raw',
        level: bunyan.TRACE,
        stream: { write: (record: object) => void records.push(record as LogFields) },
      },
    ],
  });
  const call = { probe: 1, time: new Date(0) };
  probe.info(call, 'probe');
  const own = (probe as unknown as Partial<BunyanInternals>).fields;
  shaped =
    isFields(own) &&
    records.length === 1 &&
    JSON.stringify(records[0]) === JSON.stringify(plainRecord(own, bunyan.INFO, call, 'probe'));
  if (!shaped) fallbackTaken(BUNYAN_REACH, 'its record of a plain call differs');
  return shaped;
}

/** The call with `extra` among its fields: the fields object copied, a message or an error given a fields object. */
function withFields(args: LogArguments, extra: LogFields): LogArguments {
  const [first, ...rest] = args;
  if (typeof first === 'string') return [extra, first, ...rest];
  if (first instanceof Error) return [{ err: first, ...extra }, ...rest];
  return [{ ...first, ...extra }, ...rest];
}

/**
 * `(fields, message)` with no format directive: nearly every call, and the access log makes one
 * per request. Unless a field is one bunyan serializes, its record is built without bunyan.
 */
function isPlainShape(args: LogArguments): boolean {
  if (args.length !== 2) return false;
  const fields = args[0];
  const message = args[1];
  if (typeof message !== 'string' || message.includes('%')) return false;
  if (typeof fields !== 'object' || fields === null || fields instanceof Error) return false;
  return !Array.isArray(fields) && !Buffer.isBuffer(fields);
}
