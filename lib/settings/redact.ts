/**
 * The one redaction Keel applies wherever it prints something: log records, `/status`, error
 * messages and the `keel` command. A value is secret when its schema says `sensitive: true`, or
 * when its key, read as words, names a secret (`db_password`, `apiKey`, `auth.bearer`,
 * `Authorization`, but not `passed`, `max_tokens` or `bypass_cache`). Inside any text, the
 * credentials of a URL and every known secret value (the current values of sensitive settings)
 * are masked too.
 */
export const REDACTED = '[redacted]';

/**
 * Matches a key written as lower-case words joined by `_` (what `isSecretKey` turns any key into):
 * a whole word, or two words, that names a secret.
 */
export const SECRET_KEY =
  /(^|_)(pass|passwd|password|passphrase|pwd|secret|token|bearer|credentials?|authorization|cookie|dsn|(api|private|access|secret|signing)_?key)(_|$)/;

/** Key names repeat from record to record; remembering the verdict saves the word split. */
const verdicts = new Map<string, boolean>();
const MAX_REMEMBERED_KEYS = 4096;

/** Whether a key names a secret, by its words: `dbPassword`, `db-password` and `DB_PASSWORD` all do. */
export function isSecretKey(key: string): boolean {
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    const words = key
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((word) => word !== '');
    verdict = SECRET_KEY.test(words.join('_'));
    if (verdicts.size < MAX_REMEMBERED_KEYS) verdicts.set(key, verdict);
  }
  return verdict;
}

/** Whether a value at this path is secret by name: any segment of the path names a secret. */
export function isSecretPath(segments: readonly string[]): boolean {
  return segments.some(isSecretKey);
}

/** Values of sensitive settings, by the provider that holds them; masked in every text printed. */
const secretSets: ReadonlySet<string>[] = [];
/** Sets kept masking after their owner unregistered them (`retainSecretValues`). */
const retainedSets: ReadonlySet<string>[] = [];
/**
 * A shorter value is masked only where it stands alone (no letter or digit touching it): inside
 * other words, `abc` or `42` would mask half of every log line, and as a whole word it still goes.
 */
const SHORT_SECRET_LENGTH = 4;

/** Registers a live set of secret values (the caller keeps it current); returns the unregister. */
export function registerSecretValues(values: ReadonlySet<string>): () => void {
  if (!secretSets.includes(values)) secretSets.push(values);
  return () => {
    const index = secretSets.indexOf(values);
    if (index >= 0) secretSets.splice(index, 1);
  };
}

/**
 * Keeps every secret value registered now masked for the rest of the process, even once its owner
 * unregisters it: `run()`, which owns the process, logs a failed start after the rollback closed the
 * settings.
 */
export function retainSecretValues(): void {
  for (const values of secretSets) if (!retainedSets.includes(values)) retainedSets.push(values);
}

/** Whether a value can be a secret to mask: any non-empty string (a short one as a whole word only). */
export function isSecretValueLength(value: string): boolean {
  return value.trim().length > 0;
}

/** `scheme://user:password@host`: everything between `//` and `@` goes. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;

/**
 * A URL as Keel shows it: with user and password replaced (`amqp://[redacted]@rabbit:5672/prod`),
 * the rest kept; `[redacted]` whole when it does not parse, since then nothing tells what is secret.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return REDACTED;
  }
  if (parsed.username === '' && parsed.password === '') return url;
  return `${parsed.protocol}//${REDACTED}@${parsed.host}${parsed.pathname}${parsed.search}${parsed.hash}`;
}

const shortSecretPatterns = new Map<string, RegExp>();

/** `secret` standing alone: no letter or digit right before or after it. */
function shortSecretPattern(secret: string): RegExp {
  let pattern = shortSecretPatterns.get(secret);
  if (pattern === undefined) {
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'gu');
    if (shortSecretPatterns.size < 256) shortSecretPatterns.set(secret, pattern);
  }
  pattern.lastIndex = 0;
  return pattern;
}

function holds(text: string, secret: string): boolean {
  if (!text.includes(secret)) return false;
  return secret.length >= SHORT_SECRET_LENGTH || shortSecretPattern(secret).test(text);
}

function maskSecret(text: string, secret: string): string {
  if (!text.includes(secret)) return text;
  if (secret.length >= SHORT_SECRET_LENGTH) return text.split(secret).join(REDACTED);
  return text.replace(shortSecretPattern(secret), REDACTED);
}

/** `text` with URL credentials and known secret values replaced by `[redacted]`. */
export function maskText(text: string): string {
  let masked = text;
  if (masked.includes('@') && masked.includes('://'))
    masked = masked.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  for (const sets of [secretSets, retainedSets]) {
    for (const values of sets) {
      // Longest first: a secret that contains a shorter one is masked whole.
      for (const secret of values.size > 1 ? [...values].sort((a, b) => b.length - a.length) : values)
        masked = maskSecret(masked, secret);
    }
  }
  return masked;
}

/** Whether `maskText` would change `text`; cheap for the common text that holds nothing to mask. */
export function needsMasking(text: string): boolean {
  if (text.includes('@') && text.includes('://')) {
    URL_CREDENTIALS.lastIndex = 0;
    if (URL_CREDENTIALS.test(text)) return true;
  }
  return holdsSecretValue(text);
}

/**
 * Whether `text` holds a current secret value: the half of `needsMasking` that can change over
 * time, for a text whose URL credentials were checked once.
 */
export function holdsSecretValue(text: string): boolean {
  // Indexed, and an empty set skipped: a log line asks this for each of its texts.
  for (let index = 0; index < secretSets.length; index++) {
    const values = secretSets[index];
    if (values.size === 0) continue;
    for (const secret of values) if (holds(text, secret)) return true;
  }
  for (const values of retainedSets) for (const secret of values) if (holds(text, secret)) return true;
  return false;
}

/**
 * A deep copy of `value` with every value under a secret key replaced by `[redacted]` and every
 * string masked (`maskText`); an Error becomes `{ name, message, stack }`, masked too. `sensitive`,
 * given a path below `value`, tells what a schema marks `sensitive: true`, which no key name shows.
 */
export function redact<T>(value: T, sensitive?: (path: readonly string[]) => boolean): T {
  return redactValue(value, new WeakSet(), [], sensitive) as T;
}

function redactValue(
  value: unknown,
  seen: WeakSet<object>,
  path: string[],
  sensitive: ((path: readonly string[]) => boolean) | undefined,
): unknown {
  if (typeof value === 'string') return needsMasking(value) ? maskText(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen, path, sensitive));
  const copy: Record<string, unknown> = {};
  const source: Record<string, unknown> =
    value instanceof Error
      ? { ...value, name: value.name, message: value.message, stack: value.stack }
      : (value as Record<string, unknown>);
  for (const [key, inner] of Object.entries(source)) {
    const innerPath = sensitive === undefined ? path : [...path, key];
    copy[key] =
      (isSecretKey(key) || sensitive?.(innerPath) === true) &&
      inner !== undefined &&
      inner !== null &&
      inner !== ''
        ? REDACTED
        : redactValue(inner, seen, innerPath, sensitive);
  }
  return copy;
}

/** Longest text of a value echoed in a message; a longer one is cut, saying how long it was. */
export const MAX_SHOWN_LENGTH = 200;

/**
 * The value at `segments` as text for a message: `[redacted]` when secret (by its schema's
 * `sensitive`, or by name), otherwise JSON with secrets at any depth redacted, cut to a bounded length.
 */
export function showValue(segments: readonly string[], value: unknown, sensitive = false): string {
  if ((sensitive || isSecretPath(segments)) && value !== undefined && value !== null) return REDACTED;
  const text =
    typeof value === 'number' && !Number.isFinite(value)
      ? String(value)
      : (JSON.stringify(redact(value)) ?? String(value));
  return cut(text);
}

/** `text` cut to `MAX_SHOWN_LENGTH`, saying how long it was. */
export function cut(text: string): string {
  if (text.length <= MAX_SHOWN_LENGTH) return text;
  return `${text.slice(0, MAX_SHOWN_LENGTH)}… (${text.length} characters, cut)`;
}
