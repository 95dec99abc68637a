import { instanceIdentity, type InstanceIdentity } from '../identity/instance';
import { levelNameOf } from './levels';
import { LogEntry, redactRecord, type LogRecord } from './record';
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

/**
 * The single raw bunyan stream behind every Keel logger. Keel's fields are added here rather
 * than in each logger's fields so a deploy name that arrives with the settings reaches loggers
 * created before; the sinks can be swapped underneath loggers already handed out.
 */
export class RecordDispatcher {
  private readonly instance: InstanceIdentity = instanceIdentity();

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
    record.time = isoTime(raw.time);
    record.service_name = this.identity.serviceName;
    record.deploy_name = this.identity.deployName;
    record.instance_id = this.instance.instance_id;
    record.version = this.instance.version;
    record.revision = this.instance.revision;
    record.levelname = levelNameOf(raw.level);
    const entry = new LogEntry(redactRecord(record));
    for (const sink of this.sinks) {
      try {
        sink.write(entry);
      } catch (error) {
        this.onSinkError(sink, error);
      }
    }
  }
}

let lastTime = NaN;
let lastIsoTime = '';

/** Records come many to a millisecond under load, and the ISO string costs more than the rest of the fields. */
function isoTime(time: Date): string {
  const milliseconds = time.getTime();
  if (milliseconds !== lastTime) {
    lastTime = milliseconds;
    lastIsoTime = time.toISOString();
  }
  return lastIsoTime;
}
