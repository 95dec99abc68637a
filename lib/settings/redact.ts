/** Keys whose values never appear in logs, errors, CLI output or status. */
export const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|private[_-]?key/i;
export const REDACTED = '[redacted]';

/** A deep copy of `value` with every value under a secret-looking key replaced by `[redacted]`. */
export function redact<T>(value: T): T {
  return redactValue(value, new WeakSet()) as T;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] =
      SECRET_KEY.test(key) && inner !== undefined && inner !== null ? REDACTED : redactValue(inner, seen);
  }
  return copy;
}

/** Whether a value at this path is secret: any segment of the path looks like a secret key. */
export function isSecretPath(segments: readonly string[]): boolean {
  return segments.some((segment) => SECRET_KEY.test(segment));
}

/** The value at `segments` as JSON text for a message, with secrets at any depth redacted. */
export function showValue(segments: readonly string[], value: unknown): string {
  if (isSecretPath(segments) && value !== undefined && value !== null) return REDACTED;
  return JSON.stringify(redact(value)) ?? String(value);
}
