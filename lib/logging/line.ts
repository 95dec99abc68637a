import { holdsSecretValue, isSecretKey, needsMasking } from '../settings/redact';
import { BUNYAN_RECORD_FIELDS, KEEL_RECORD_FIELDS } from './record';

type Fields = Record<string, unknown>;

/**
 * Call-field keys the record path places elsewhere (bunyan's own fields, Keel's identity) or that
 * an object would not keep as a plain key: a call naming one takes the record path.
 */
const PLACED_ELSEWHERE: ReadonlySet<string> = new Set([
  ...BUNYAN_RECORD_FIELDS,
  ...KEEL_RECORD_FIELDS,
  '__proto__',
]);
/** Field names repeat from call to call; more distinct ones than this are judged anew each time. */
const MAX_CACHED_KEYS = 256;
/** An object orders integer-like keys first, whatever the order they were set in. */
const INTEGER_LIKE = /^\d/;

/** What JSON.stringify escapes in a string: quotes, backslashes, control characters, lone surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Whether a value can be written as JSON.stringify would write it within the record: not an object
 * (it may hide a secret deeper down, a `toJSON` or a cycle), a bigint, a function or a symbol, nor
 * a text to mask.
 */
function isPlainValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return !needsMasking(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    default:
      return value === null;
  }
}

/** A plain value as JSON; undefined for undefined, which JSON.stringify leaves out. */
export function plainJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    default:
      return 'null';
  }
}

/**
 * A logger's own fields (name, hostname, pid, logger, resource, a child's fields) as the head of
 * its JSON lines, written once. A plain call then costs the escaping of its own fields only,
 * instead of a record object copied from the logger's, scanned for secrets whole and stringified.
 * The line is the one JSON.stringify writes of the record bunyan would make; whatever could make
 * them differ (a secret to redact, an object value, a field that overrides the logger's) is left
 * to the record path.
 */
export class LineHead {
  /** `{"name":…,"pid":…,"level":`; undefined when the logger's fields need the record path. */
  readonly json: string | undefined;
  /** The logger's texts, checked per line against secret values, which settings change over time. */
  readonly text: string;
  private readonly keys = new Map<string, string | null>();

  constructor(
    private readonly fields: Fields,
    private readonly serializers: Fields,
  ) {
    const texts: string[] = [];
    let plain = true;
    for (const key in fields) {
      const value = fields[key];
      if (isSecretKey(key) || INTEGER_LIKE.test(key) || !isPlainValue(value)) plain = false;
      if (typeof value === 'string') texts.push(value);
    }
    const json = JSON.stringify(fields);
    this.json = plain ? `${json === '{}' ? '{' : `${json.slice(0, -1)},`}"level":` : undefined;
    this.text = texts.join('\n');
  }

  /** `,"key":value` for each call field; undefined when one needs the record path. */
  body(fields: Fields): string | undefined {
    let body = '';
    for (const key in fields) {
      const prefix = this.keyPrefix(key);
      const value = fields[key];
      if (prefix === null || !isPlainValue(value)) return undefined;
      const json = plainJson(value);
      if (json !== undefined) body += prefix + json;
    }
    return body;
  }

  /** `,"key":`, or null for a key the record path must handle. */
  private keyPrefix(key: string): string | null {
    let prefix = this.keys.get(key);
    if (prefix === undefined) {
      prefix =
        PLACED_ELSEWHERE.has(key) ||
        Object.hasOwn(this.fields, key) ||
        key in this.serializers ||
        INTEGER_LIKE.test(key) ||
        isSecretKey(key)
          ? null
          : `,${JSON.stringify(key)}:`;
      if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(key, prefix);
    }
    return prefix;
  }
}

/**
 * Keel's identity fields and `levelname`, the end of every line at one level, written once per
 * identity; undefined when they need the record path.
 */
export function lineTail(identity: Fields): string | undefined {
  for (const key in identity) {
    if (isSecretKey(key) || !isPlainValue(identity[key])) return undefined;
  }
  return `,${JSON.stringify(identity).slice(1)}\n`;
}

/** The strings of `identity`, for `holdsSecretValue`. */
export function identityText(identity: Fields): string {
  return Object.values(identity)
    .filter((value) => typeof value === 'string')
    .join('\n');
}

/** Whether a secret value shows in the head or the tail: settings add and change them at run time. */
export function lineHoldsSecretValue(head: LineHead, identity: string): boolean {
  return holdsSecretValue(head.text) || holdsSecretValue(identity);
}
