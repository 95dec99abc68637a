import { bunyan } from './bunyan';
import { isSecretKey, needsMasking, redact } from '../settings/redact';

/** The record format version bunyan writes as `v`; its types leave the constant out. */
export const RECORD_VERSION = (bunyan as unknown as { LOG_VERSION: number }).LOG_VERSION;

/** Fields of every record that bunyan writes itself, whoever logs. */
export const BUNYAN_RECORD_FIELDS = ['level', 'msg', 'time', 'v'] as const;
/** What Keel adds to every record: the service's identity and the level's name. */
export const KEEL_RECORD_FIELDS = [
  'service_name',
  'deploy_name',
  'instance_id',
  'version',
  'revision',
  'levelname',
] as const;

/** A bunyan record after Keel added its fields; `time` is already an ISO string. */
export interface LogRecord {
  [field: string]: unknown;
  name: string;
  hostname: string;
  pid: number;
  level: number;
  msg: string;
  time: string;
  v: number;
  service_name: string;
  deploy_name: string;
  instance_id: string;
  version?: string;
  revision?: string;
  levelname: string;
  logger: string;
  resource?: string;
}

/**
 * One record as every stream sees it: the JSON line is built once, by the first stream that needs
 * it, and the record of an entry made from its line only for a stream that reads fields.
 */
export class LogEntry {
  private object: LogRecord | undefined;
  private json: string | undefined;

  constructor(record: LogRecord);
  constructor(record: undefined, line: string);
  constructor(record: LogRecord | undefined, line?: string) {
    this.object = record;
    this.json = line;
  }

  get record(): LogRecord {
    return (this.object ??= JSON.parse(this.json!) as LogRecord);
  }

  get line(): string {
    return (this.json ??= safeJson(this.object!) + '\n');
  }
}

/** What `system.logging.max_record_chars` defaults to: a stack with its causes fits, a dumped payload does not. */
export const DEFAULT_MAX_RECORD_CHARS = 64 * 1024;

/** Fields a cut record keeps whole: who wrote it, when, at which level. */
const KEPT_WHOLE = new Set<string>([
  ...BUNYAN_RECORD_FIELDS,
  ...KEEL_RECORD_FIELDS,
  'name',
  'hostname',
  'pid',
  'logger',
  'resource',
  'request_id',
]);

/**
 * `entry` itself when its line is within `limit` characters, else a record that is: every field
 * whose JSON is longer than a quarter of the limit is cut to that (a non-string one as the start of
 * its JSON text), and the fields that still do not fit, last first, are left out. The record says
 * so: `truncated: { chars, limit, cut, omitted }`, `chars` being its length before. One 6 MiB field
 * was written as one 6 MiB line, which log shippers split or refuse.
 */
export function boundedEntry(entry: LogEntry, limit: number): LogEntry {
  const line = entry.line;
  if (line.length <= limit) return entry;
  const budget = Math.max(16, Math.floor(limit / 4));
  const record = entry.record;
  // Every field of `record` that is kept is copied as it is: the result is a LogRecord still.
  const out = {} as LogRecord;
  const cut: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    const text = typeof value === 'string' ? value : safeJson({ value }).slice(9, -1);
    if (text.length + field.length <= budget) out[field] = value;
    else {
      out[field] = `${text.slice(0, budget)}…`;
      cut.push(field);
    }
  }
  const truncated = { chars: line.length - 1, limit, cut, omitted: [] as string[] };
  const size = () => safeJson({ ...out, truncated }).length;
  const optional = Object.keys(out).filter((field) => !KEPT_WHOLE.has(field) && field !== 'msg');
  while (size() > limit && optional.length > 0) {
    const field = optional.pop()!;
    delete (out as Record<string, unknown>)[field];
    truncated.omitted.unshift(field);
  }
  return new LogEntry({ ...out, truncated });
}

/** A record that is not plain data (a cycle the redaction scan did not reach) still gets logged. */
export function safeJson(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, bunyan.safeCycles());
  }
}

const MAX_SCAN_DEPTH = 16;

/**
 * Most records hold no secret, and `redact` copies the whole record; scanning keys and texts first
 * keeps the copy off the hot path. Too deep (or circular) counts as "might hold one".
 */
export function redactRecord<T extends object>(record: T): T {
  return mayHoldSecret(record, 0) ? redact(record) : record;
}

function mayHoldSecret(value: object, depth: number): boolean {
  if (depth > MAX_SCAN_DEPTH) return true;
  for (const key in value) {
    if (isSecretKey(key)) return true;
    const inner = (value as Record<string, unknown>)[key];
    if (
      typeof inner === 'string'
        ? needsMasking(inner)
        : inner !== null && typeof inner === 'object' && mayHoldSecret(inner, depth + 1)
    )
      return true;
  }
  return false;
}
