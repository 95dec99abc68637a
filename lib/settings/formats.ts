import { isIP } from 'node:net';

/** The longest delay Node's timers honour: `setTimeout` runs anything longer after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a timeout given in code must be, as the `duration` format: an integer from 0 to `MAX_TIMER_MS`. */
export function isTimerMs(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TIMER_MS;
}

/**
 * Formats Keel adds to convict's own (`int`, `nat`, `port`, ...), by name. Each throws with the
 * reason a value is refused. `duration` and `duration_seconds` are the bounded formats every
 * timeout and interval setting uses, so no accepted value is one Node's timers would cut to 1 ms.
 */
export const KEEL_FORMATS = {
  duration: {
    expected: `duration (integer milliseconds 0-${MAX_TIMER_MS})`,
    validate(value: unknown): void {
      if (!isTimerMs(value))
        throw new Error(`must be an integer number of milliseconds from 0 to ${MAX_TIMER_MS}`);
    },
  },
  duration_seconds: {
    expected: `duration_seconds (seconds > 0, at most ${MAX_TIMER_MS / 1000})`,
    validate(value: unknown): void {
      if (typeof value !== 'number' || !(value > 0) || value * 1000 > MAX_TIMER_MS)
        throw new Error(`must be a number of seconds greater than 0 and at most ${MAX_TIMER_MS / 1000}`);
    },
  },
  url: {
    expected: 'url (absolute, e.g. https://host/path)',
    validate(value: unknown): void {
      if (typeof value !== 'string' || !URL.canParse(value)) throw new Error('must be an absolute URL');
    },
  },
  email: {
    expected: 'email (name@domain)',
    validate(value: unknown): void {
      if (typeof value !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
        throw new Error('must be an email address');
    },
  },
  ipaddress: {
    expected: 'ipaddress (IPv4 or IPv6)',
    validate(value: unknown): void {
      if (typeof value !== 'string' || isIP(value) === 0) throw new Error('must be an IPv4 or IPv6 address');
    },
  },
} as const;

export type KeelFormatName = keyof typeof KEEL_FORMATS;

export function isKeelFormat(name: unknown): name is KeelFormatName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(KEEL_FORMATS, name);
}

/**
 * A copy of `schema` whose Keel format names are their checking functions, for loading a Keel schema
 * with convict itself. Keel never adds its formats to convict's table: that table is one per process
 * and `addFormat` overwrites, so registering them on import replaced a user's own `duration`.
 */
export function convictSchema<S>(schema: S): S {
  if (Array.isArray(schema) || typeof schema !== 'object' || schema === null) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    copy[key] = key === 'format' && isKeelFormat(value) ? KEEL_FORMATS[value].validate : convictSchema(value);
  }
  return copy as S;
}
