import type { LogProfile } from './levels';
import { BUNYAN_RECORD_FIELDS, KEEL_RECORD_FIELDS, LogEntry, safeJson, type LogRecord } from './record';
import type { LogSink } from './sinks/types';

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Readable lines are for a developer at a terminal: `auto` gives them with the DEVELOP profile on
 * a TTY, `pretty` with DEVELOP anywhere. TESTING and PRODUCTION always get JSON lines, which is
 * what collectors and tests read.
 */
export function chooseFormat(format: LogFormat, profile: LogProfile, isTTY: boolean): 'json' | 'pretty' {
  if (format === 'json' || profile !== 'DEVELOP') return 'json';
  return format === 'pretty' || isTTY ? 'pretty' : 'json';
}

/**
 * ANSI colours, opening and closing code. Not `util.styleText`: from Node 22 it drops colours by
 * itself when it judges process.stdout unfit (CI=true does), and the caller has decided already.
 */
const STYLES = {
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;
type Style = keyof typeof STYLES;

const LEVEL_STYLES: Readonly<Record<string, Style>> = {
  TRACE: 'gray',
  DEBUG: 'cyan',
  INFO: 'green',
  WARNING: 'yellow',
  ERROR: 'red',
  CRITICAL: 'magenta',
};

/** Fields every record has, already shown in the line or of no use to a reader at a terminal. */
const SHOWN_OR_NOISE = new Set([
  'name',
  'hostname',
  'pid',
  ...BUNYAN_RECORD_FIELDS,
  ...KEEL_RECORD_FIELDS,
  'logger',
  'resource',
  'err',
]);

/** `12:00:01.234 INFO    billing.http  listening  port=8080`, then an error's stack, indented. */
export function prettyLine(record: LogRecord, colour: boolean): string {
  const paint = (style: Style, text: string) =>
    colour ? `\x1b[${STYLES[style][0]}m${text}\x1b[${STYLES[style][1]}m` : text;
  const level = record.levelname.padEnd(8);
  const fields: string[] = [];
  for (const key in record) {
    if (SHOWN_OR_NOISE.has(key)) continue;
    const value = record[key];
    if (value === undefined) continue;
    fields.push(
      `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : safeJson({ v: value }).slice(5, -1)}`,
    );
  }
  const head = [
    paint('dim', record.time.slice(11, 23)),
    paint(LEVEL_STYLES[record.levelname] ?? 'dim', level),
    paint('blue', record.logger),
    record.msg,
    ...(fields.length > 0 ? [paint('dim', fields.join(' '))] : []),
  ].join(' ');
  const error = record.err as { stack?: string; message?: string } | undefined;
  const stack = error?.stack ?? error?.message;
  return stack === undefined ? `${head}\n` : `${head}\n${paint('red', indent(stack))}\n`;
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}

/** A record whose line is the readable one; the other streams keep their own entry and its JSON. */
class PrettyEntry extends LogEntry {
  constructor(
    record: LogRecord,
    private readonly text: string,
  ) {
    super(record);
  }

  override get line(): string {
    return this.text;
  }
}

/** Wraps the stdout stream so that it writes readable lines; batching and flushing stay the stream's. */
export class PrettySink implements LogSink {
  constructor(
    private readonly inner: LogSink,
    private readonly colour: boolean,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  write(entry: LogEntry): void {
    this.inner.write(new PrettyEntry(entry.record, prettyLine(entry.record, this.colour)));
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(deadline: number): Promise<void> {
    return this.inner.close(deadline);
  }
}
