import { SettingsError } from '../../settings/errors';

export const kafkaSchema = {
  brokers: {
    doc: 'Bootstrap brokers, host:port each; the client learns the rest of the cluster from them',
    format: Array,
    default: ['127.0.0.1:9092'],
  },
  client_id: {
    doc: "The client id the brokers see; the service's name when empty",
    format: String,
    default: '',
  },
  codec: { doc: 'Codec records are encoded with, by registered name', format: String, default: 'json' },
  ssl: {
    enabled: { doc: 'Connect over TLS', format: Boolean, default: false },
    ca: { doc: 'PEM CA certificates to trust (empty: the system store)', format: String, default: '' },
    cert: { doc: 'PEM client certificate, for mutual TLS', format: String, default: '' },
    key: { doc: 'PEM private key of the client certificate', format: String, default: '', sensitive: true },
    reject_unauthorized: {
      doc: 'Refuse a broker certificate that does not verify (false is refused unless insecure is set)',
      format: Boolean,
      default: true,
    },
  },
  sasl: {
    mechanism: {
      doc: "SASL mechanism ('' for none): plain, scram-sha-256 or scram-sha-512",
      format: ['', 'plain', 'scram-sha-256', 'scram-sha-512'],
      default: '',
    },
    username: { doc: 'SASL user', format: String, default: '', sensitive: true },
    password: { doc: 'SASL password', format: String, default: '', sensitive: true },
  },
  insecure: {
    doc: 'Allow SASL credentials over plaintext and unverified TLS certificates (never in production)',
    format: Boolean,
    default: false,
  },
  connect_timeout_ms: { doc: 'Time to open a connection to a broker', format: 'duration', default: 3000 },
  request_timeout_ms: { doc: 'Time a broker has to answer a request', format: 'duration', default: 30_000 },
  health_interval_ms: {
    doc: 'How often the resource asks the cluster whether it answers (what /status shows)',
    format: 'duration',
    default: 5000,
  },
  validate_outgoing: {
    doc: 'Check a record published with a schema before sending it (a mismatch throws a ContractError): auto (not when NODE_ENV is production), on or off',
    format: ['auto', 'on', 'off'],
    default: 'auto',
  },
  affects_readiness: {
    doc: 'While the cluster does not answer, /health/ready answers 503 (false: readiness ignores it)',
    format: Boolean,
    default: true,
  },
  producer: {
    idempotent: {
      doc: 'Idempotent producer: a retried send is written once (needs acks all)',
      format: Boolean,
      default: true,
    },
    acks: {
      doc: "Acknowledgements publish() waits for: 'all' in-sync replicas, 'leader', or 'none'",
      format: ['all', 'leader', 'none'],
      default: 'all',
    },
    compression: { doc: 'Compression of record batches', format: ['none', 'gzip'], default: 'none' },
    linger_ms: {
      doc: 'How long a publish waits for others to join its batch (0: only those published while a send is in flight)',
      format: 'duration',
      default: 0,
    },
    batch_max_records: { doc: 'Records in one produce request at most', format: 'nat', default: 1000 },
    publish_timeout_ms: {
      doc: 'publish() rejects when the cluster has not acknowledged the record within this time',
      format: 'duration',
      default: 30_000,
    },
  },
  consumer: {
    session_timeout_ms: {
      doc: 'A group member silent this long is dropped and its partitions reassigned',
      format: 'duration',
      default: 30_000,
    },
    heartbeat_interval_ms: { doc: 'Heartbeat to the group coordinator', format: 'duration', default: 3000 },
    max_wait_ms: { doc: 'Longest wait of a fetch for new records', format: 'duration', default: 500 },
    max_bytes_per_partition: {
      doc: 'Bytes one fetch takes from a partition at most: with concurrency, what bounds the records held in memory',
      format: 'nat',
      default: 1024 * 1024,
    },
    max_value_bytes: {
      doc: 'A record with a larger value is dead-lettered unread',
      format: 'nat',
      default: 1024 * 1024,
    },
    handler_timeout_ms: {
      doc: 'A handler that has not settled by then counts as failed (retried, then dead-lettered)',
      format: 'duration',
      default: 30_000,
    },
    drain_timeout_ms: {
      doc: 'On stop, how long in-flight handlers may take; the records of those still running are not committed',
      format: 'duration',
      default: 10_000,
    },
    retry: {
      attempts: {
        doc: 'Further runs of a record whose handler failed, before it is dead-lettered',
        format: 'nat',
        default: 3,
      },
      backoff_ms: {
        doc: 'Ceiling of the delay before the first retry (full jitter under it); doubled for each next one. Also the first wait before a consumer tries to join its group again',
        format: 'duration',
        default: 100,
      },
      max_backoff_ms: { doc: 'Longest delay before a retry', format: 'duration', default: 5000 },
    },
  },
};

export interface KafkaSettings {
  brokers: string[];
  client_id: string;
  codec: string;
  ssl: { enabled: boolean; ca: string; cert: string; key: string; reject_unauthorized: boolean };
  sasl: { mechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  insecure: boolean;
  connect_timeout_ms: number;
  request_timeout_ms: number;
  health_interval_ms: number;
  validate_outgoing: 'auto' | 'on' | 'off';
  affects_readiness: boolean;
  producer: {
    idempotent: boolean;
    acks: 'all' | 'leader' | 'none';
    compression: 'none' | 'gzip';
    linger_ms: number;
    batch_max_records: number;
    publish_timeout_ms: number;
  };
  consumer: {
    session_timeout_ms: number;
    heartbeat_interval_ms: number;
    max_wait_ms: number;
    max_bytes_per_partition: number;
    max_value_bytes: number;
    handler_timeout_ms: number;
    drain_timeout_ms: number;
    retry: { attempts: number; backoff_ms: number; max_backoff_ms: number };
  };
}

/** Unsafe combinations fail the start, naming the key to change. */
export function checkKafkaSettings(resource: string, settings: KafkaSettings): void {
  const key = (path: string) => `system.resources.${resource}.${path}`;
  const refuse = (path: string, expected: string, why: string) => {
    throw new SettingsError('SETTINGS_INVALID', `KafkaResource '${resource}': ${key(path)} ${why}`, [
      { path: key(path), owner: resource, problem: 'invalid', expected, origin: 'settings' },
    ]);
  };
  if (
    settings.brokers.length === 0 ||
    settings.brokers.some((broker) => !/^[^:\s]+:\d+$/.test(String(broker)))
  ) {
    refuse(
      'brokers',
      'a list of host:port',
      `must list host:port entries, got ${JSON.stringify(settings.brokers)}`,
    );
  }
  if (settings.insecure) return;
  if (settings.sasl.mechanism !== '' && !settings.ssl.enabled) {
    refuse(
      'ssl.enabled',
      'true while sasl.mechanism is set',
      `is false, so SASL credentials would cross the network in clear: enable TLS (or set ${key('insecure')} for a test)`,
    );
  }
  if (settings.ssl.enabled && !settings.ssl.reject_unauthorized) {
    refuse(
      'ssl.reject_unauthorized',
      'true',
      `is false, so any certificate would be trusted: set it true (or ${key('insecure')} for a test)`,
    );
  }
  if (settings.producer.idempotent && settings.producer.acks !== 'all') {
    refuse(
      'producer.acks',
      "'all' while producer.idempotent is true",
      `must be 'all' for an idempotent producer`,
    );
  }
}
