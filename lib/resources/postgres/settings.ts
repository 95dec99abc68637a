import { reconnectSchema, type ReconnectSettings } from '../../resilience/settings';

export const REQUEST_CONTEXT_MODES = ['off', 'comment', 'application_name'] as const;
export type RequestContextMode = (typeof REQUEST_CONTEXT_MODES)[number];

export const postgresSchema = {
  url: {
    doc: 'postgres:// URL; when set, it wins over host, port, database, user and password. Its credentials are redacted wherever Keel shows it',
    format: String,
    default: '',
  },
  host: { doc: 'Server host (or a Unix socket folder)', format: String, default: '127.0.0.1' },
  port: { doc: 'Server port', format: 'port', default: 5432 },
  database: { doc: 'Database name', format: String, default: 'postgres' },
  user: { doc: 'Role to log in as', format: String, default: 'postgres' },
  password: { doc: 'Password of the role', format: String, default: '', sensitive: true },
  application_name: {
    doc: 'application_name of every connection (empty: the service name)',
    format: String,
    default: '',
  },
  pool: {
    max: { doc: 'Connections the pool opens at most', format: 'nat', default: 10 },
    acquire_timeout_ms: {
      doc: 'How long a query waits for a free connection (or for a new one to connect) before it fails with POOL_TIMEOUT',
      format: 'duration',
      default: 5000,
    },
    idle_timeout_ms: {
      doc: 'An idle connection is closed after this long (0: never)',
      format: 'duration',
      default: 10_000,
    },
  },
  statement_timeout_ms: {
    doc: "The server cancels a statement that runs longer (the session's statement_timeout; 0: no limit)",
    format: 'duration',
    default: 30_000,
  },
  idle_in_transaction_timeout_ms: {
    doc: 'The server ends a session left idle inside a transaction this long (0: no limit)',
    format: 'duration',
    default: 60_000,
  },
  tls: {
    enabled: { doc: 'Connect over TLS', format: Boolean, default: false },
    ca_file: { doc: 'PEM file of the CAs to trust (empty: the system store)', format: String, default: '' },
    cert_file: { doc: 'PEM client certificate (empty: none)', format: String, default: '' },
    key_file: { doc: 'PEM key of the client certificate', format: String, default: '' },
    reject_unauthorized: {
      doc: 'Refuse a server whose certificate does not verify (false only for a test server)',
      format: Boolean,
      default: true,
    },
  },
  reconnect: reconnectSchema,
  affects_readiness: {
    doc: 'While the database is unreachable, /health/ready answers 503 (false: readiness ignores it)',
    format: Boolean,
    default: true,
  },
  stop_timeout_ms: {
    doc: 'On stop, how long running queries and transactions may take before they are cancelled',
    format: 'duration',
    default: 5000,
  },
  request_context: {
    doc: 'The request id of the HTTP request a query serves, in the query: off, comment (a /* request_id=... traceparent=... */ prefix, the trace while tracing is on) or application_name (set per query, one more round trip)',
    format: [...REQUEST_CONTEXT_MODES],
    default: 'off' as RequestContextMode,
  },
};

export interface PostgresSettings {
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  application_name: string;
  pool: { max: number; acquire_timeout_ms: number; idle_timeout_ms: number };
  statement_timeout_ms: number;
  idle_in_transaction_timeout_ms: number;
  tls: {
    enabled: boolean;
    ca_file: string;
    cert_file: string;
    key_file: string;
    reject_unauthorized: boolean;
  };
  reconnect: ReconnectSettings;
  affects_readiness: boolean;
  stop_timeout_ms: number;
  request_context: RequestContextMode;
}
