import {
  breakerSchema,
  reconnectSchema,
  type BreakerSettings,
  type ReconnectSettings,
} from '../../resilience/settings';

export const amqpSchema = {
  url: {
    doc: 'Broker URL, amqp:// or amqps://; sensitive: its credentials are redacted wherever Keel shows it',
    format: String,
    default: 'amqp://guest:guest@127.0.0.1:5672',
    sensitive: true,
  },
  heartbeat_s: { doc: 'AMQP heartbeat interval (0: none)', format: 'nat', default: 10 },
  prefetch: { doc: 'Unacked deliveries each consumer holds at most', format: 'nat', default: 32 },
  confirm: {
    doc: 'publish() and push() resolve only once the broker has confirmed the message',
    format: Boolean,
    default: true,
  },
  exchange: { doc: 'Topic exchange publish() and @subscribe use', format: String, default: 'keel.events' },
  codec: { doc: 'Codec messages are encoded with, by registered name', format: String, default: 'json' },
  queue_prefix: {
    doc: "Put before the name of every queue this resource consumes from or sends to (e.g. 'test.'): instances of one fleet on one broker (a developer's and a test run) share no queue; give them their own exchange too",
    format: String,
    default: '',
  },
  reconnect: reconnectSchema,
  affects_readiness: {
    doc: 'While the connection is being re-established, /health/ready answers 503 (false: readiness ignores it)',
    format: Boolean,
    default: true,
  },
  validate_outgoing: {
    doc: 'Check a message sent with a schema before sending it (a mismatch throws a ContractError): auto (not when NODE_ENV is production), on or off',
    format: ['auto', 'on', 'off'],
    default: 'auto',
  },
  request_timeout_ms: {
    doc: 'Default timeout of request(), the wait for a connection while the broker is away included',
    format: 'duration',
    default: 5000,
  },
  request: {
    total_timeout_ms: {
      doc: 'Time a whole request() may take, its retries and the waits between them included (0: each attempt is bounded by request_timeout_ms alone)',
      format: 'duration',
      default: 0,
    },
    retries: {
      doc: 'Further attempts of a request() the caller marks idempotent, after a timeout, no responder or a lost connection',
      format: 'nat',
      default: 2,
    },
    backoff_ms: {
      doc: 'Ceiling of the delay before the first retry of a request (full jitter under it); doubled for each next one',
      format: 'duration',
      default: 100,
    },
    max_backoff_ms: {
      doc: 'Longest delay between two attempts of a request',
      format: 'duration',
      default: 2000,
    },
    breaker: {
      ...breakerSchema,
      enabled: {
        doc: 'A circuit breaker per routing key: a timeout, no responder and a lost connection count as failures, an error reply does not',
        format: Boolean,
        default: true,
      },
    },
  },
  publish_timeout_ms: {
    doc: 'Longest publish() or push() waits for the broker (a reconnect, its confirm); then it rejects with AMQP_PUBLISH_TIMEOUT',
    format: 'duration',
    default: 10_000,
  },
  fail_fast: {
    doc: 'While the connection is down, publish(), push() and request() reject at once with AMQP_NOT_CONNECTED instead of waiting for it',
    format: Boolean,
    default: false,
  },
  drain_timeout_ms: {
    doc: 'On stop, how long in-flight handlers may take; those still running are not acked',
    format: 'duration',
    default: 10_000,
  },
  retry: {
    attempts: {
      doc: 'Further attempts of a message whose @pull or @subscribe handler failed, before it is dead-lettered',
      format: 'nat',
      default: 3,
    },
    backoff_ms: {
      doc: 'Ceiling of the delay before the first retry (full jitter under it); doubled for each next one',
      format: 'duration',
      default: 100,
    },
    max_backoff_ms: { doc: 'Longest delay before a retry', format: 'duration', default: 5000 },
  },
};

export interface AmqpSettings {
  url: string;
  heartbeat_s: number;
  prefetch: number;
  confirm: boolean;
  exchange: string;
  codec: string;
  queue_prefix: string;
  reconnect: ReconnectSettings;
  affects_readiness: boolean;
  validate_outgoing: 'auto' | 'on' | 'off';
  request_timeout_ms: number;
  request: {
    total_timeout_ms: number;
    retries: number;
    backoff_ms: number;
    max_backoff_ms: number;
    breaker: BreakerSettings;
  };
  publish_timeout_ms: number;
  fail_fast: boolean;
  drain_timeout_ms: number;
  retry: { attempts: number; backoff_ms: number; max_backoff_ms: number };
}
