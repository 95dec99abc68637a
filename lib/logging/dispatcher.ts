import { instanceIdentity, type InstanceIdentity } from '../identity/instance';
import { needsMasking } from '../settings/redact';
import { levelNameOf } from './levels';
import { identityText, lineTail, type LineHead, lineHoldsSecretValue, plainJson } from './line';
import {
  boundedEntry,
  DEFAULT_MAX_RECORD_CHARS,
  LogEntry,
  RECORD_VERSION,
  redactRecord,
  type LogRecord,
} from './record';
import type { LogSink } from './sinks/types';

export interface LoggingIdentity {
  serviceName: string;
  deployName: string;
}

/** What bunyan hands a raw stream: its record before Keel's fields. */
interface BunyanRecord {
  [field: string]: unknown;
  level: number;
  time: Date;
}

/** The ends of the JSON lines for one identity, by level. */
interface LineTails {
  serviceName: string;
  deployName: string;
  /** The identity's texts, for the secret-value check. */
  text: string;
  byLevel: Map<number, string | undefined>;
}

/**
 * The single raw bunyan stream behind every Keel logger. Keel's fields are added here rather
 * than in each logger's fields so a deploy name that arrives with the settings reaches loggers
 * created before; the sinks can be swapped underneath loggers already handed out.
 */
export class RecordDispatcher {
  private readonly instance: InstanceIdentity = instanceIdentity();
  private tails: LineTails | undefined;
  /** `system.logging.max_record_chars`. */
  maxRecordChars = DEFAULT_MAX_RECORD_CHARS;

  constructor(
    private readonly identity: Readonly<LoggingIdentity>,
    private sinks: readonly LogSink[],
    private readonly onSinkError: (sink: LogSink, error: unknown) => void,
  ) {}

  /** Swaps the sinks and returns the previous ones, for the caller to close. */
  replaceSinks(sinks: readonly LogSink[]): readonly LogSink[] {
    const previous = this.sinks;
    this.sinks = sinks;
    return previous;
  }

  currentSinks(): readonly LogSink[] {
    return this.sinks;
  }

  /** Bunyan's raw-stream entry point; its type says `Object`, its records are `BunyanRecord`s. */
  write(object: object): void {
    const raw = object as BunyanRecord;
    const record = object as LogRecord;
    record.time = isoTime(raw.time.getTime(), raw.time);
    Object.assign(record, this.identityFields(raw.level));
    this.deliver(new LogEntry(redactRecord(record)));
  }

  /**
   * A plain call's record as its JSON line, built on the logger's head (see LineHead); false, with
   * nothing written, when the call needs the record path.
   */
  writeLine(head: LineHead, level: number, fields: Record<string, unknown>, message: string): boolean {
    if (head.json === undefined) return false;
    const tails = this.currentTails();
    const tail = this.tailOf(tails, level);
    if (tail === undefined || lineHoldsSecretValue(head, tails.text) || needsMasking(message)) return false;
    const body = head.body(fields);
    if (body === undefined) return false;
    const time = isoTime(Date.now());
    this.deliver(
      new LogEntry(
        undefined,
        `${head.json}${level}${body},"msg":${plainJson(message)},"time":"${time}","v":${RECORD_VERSION}${tail}`,
      ),
    );
    return true;
  }

  private deliver(whole: LogEntry): void {
    const entry = boundedEntry(whole, this.maxRecordChars);
    for (const sink of this.sinks) {
      try {
        sink.write(entry);
      } catch (error) {
        this.onSinkError(sink, error);
      }
    }
  }

  /** Keel's fields, in the order every record has them; `levelname` only with a level. */
  private identityFields(level?: number): Record<string, string | undefined> {
    return {
      service_name: this.identity.serviceName,
      deploy_name: this.identity.deployName,
      instance_id: this.instance.instance_id,
      version: this.instance.version,
      revision: this.instance.revision,
      ...(level !== undefined && { levelname: levelNameOf(level) }),
    };
  }

  /** Made again when the deploy name (or the service name) changes. */
  private currentTails(): LineTails {
    const { serviceName, deployName } = this.identity;
    let tails = this.tails;
    if (tails === undefined || tails.serviceName !== serviceName || tails.deployName !== deployName) {
      tails = { serviceName, deployName, text: identityText(this.identityFields()), byLevel: new Map() };
      this.tails = tails;
    }
    return tails;
  }

  private tailOf(tails: LineTails, level: number): string | undefined {
    if (tails.byLevel.has(level)) return tails.byLevel.get(level);
    const tail = lineTail(this.identityFields(level));
    tails.byLevel.set(level, tail);
    return tail;
  }
}

let lastTime = NaN;
let lastIsoTime = '';

/** Records come many to a millisecond under load, and the ISO string costs more than the rest of the fields. */
function isoTime(milliseconds: number, time?: Date): string {
  if (milliseconds !== lastTime) {
    lastTime = milliseconds;
    lastIsoTime = (time ?? new Date(milliseconds)).toISOString();
  }
  return lastIsoTime;
}
