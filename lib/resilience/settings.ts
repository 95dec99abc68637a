import type { BreakerOptions } from './breaker';

/**
 * The `reconnect` block of every resource that keeps a connection (AMQP, PostgreSQL, Redis): the
 * bounds of the jittered schedule (`Backoff`) its reconnect loop sleeps on, and how many attempts
 * its start makes before it fails.
 */
export const reconnectSchema = {
  min_ms: {
    doc: 'Ceiling of the delay before the first reconnect attempt (full jitter under it); doubled each next one',
    format: 'duration',
    default: 100,
  },
  max_ms: { doc: 'Longest delay between two reconnect attempts', format: 'duration', default: 5000 },
  start_attempts: {
    doc: 'Connection attempts at start before the resource fails to start',
    format: 'nat',
    default: 5,
  },
};

export interface ReconnectSettings {
  min_ms: number;
  max_ms: number;
  start_attempts: number;
}

/** A share from 0 to 1. */
function ratio(value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new Error('must be a number from 0 to 1');
}

/** The `breaker` block of a client that keeps a circuit breaker per target (HTTP client, AMQP requests). */
export const breakerSchema = {
  enabled: {
    doc: 'A circuit breaker per target (an origin, an instance, a routing key): what fails the call counts against it',
    format: Boolean,
    default: true,
  },
  consecutive_failures: {
    doc: 'Failures in a row that open the breaker (when failure_ratio is 0)',
    format: 'nat',
    default: 5,
  },
  failure_ratio: {
    doc: 'Above 0: the breaker opens instead when this share of the calls within window_ms failed',
    format: ratio,
    default: 0,
  },
  window_ms: { doc: 'With failure_ratio: the sliding window', format: 'duration', default: 10_000 },
  min_calls: {
    doc: 'With failure_ratio: calls the window must hold before the ratio is judged',
    format: 'nat',
    default: 10,
  },
  half_open_after_ms: {
    doc: 'How long an open breaker refuses calls before one probe is let through',
    format: 'duration',
    default: 5000,
  },
};

export interface BreakerSettings {
  enabled: boolean;
  consecutive_failures: number;
  failure_ratio: number;
  window_ms: number;
  min_calls: number;
  half_open_after_ms: number;
}

/** The policy's breaker options of a `breaker` block; undefined when it is off. */
export function breakerOptions(settings: BreakerSettings): BreakerOptions | undefined {
  if (!settings.enabled) return undefined;
  return {
    consecutiveFailures: settings.consecutive_failures,
    failureRatio: settings.failure_ratio,
    windowMs: settings.window_ms,
    minCalls: settings.min_calls,
    halfOpenAfterMs: settings.half_open_after_ms,
  };
}
