import { reconnectSchema, type ReconnectSettings } from '../../resilience/settings';

export const REDIS_MODES = ['standalone', 'sentinel', 'cluster'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];

export const redisSchema = {
  mode: {
    doc: 'standalone (host/port or url), sentinel (nodes are the sentinels, sentinel.master_name the group) or cluster (nodes are seed nodes)',
    format: [...REDIS_MODES],
    default: 'standalone' as RedisMode,
  },
  url: {
    doc: 'standalone: redis:// or rediss:// URL; when set, it wins over host, port, db, username and password. Its credentials are redacted wherever Keel shows it',
    format: String,
    default: '',
  },
  host: { doc: 'standalone: server host', format: String, default: '127.0.0.1' },
  port: { doc: 'standalone: server port', format: 'port', default: 6379 },
  nodes: {
    doc: 'sentinel and cluster: comma-separated host:port list (the sentinels, or the cluster seed nodes)',
    format: String,
    default: '',
  },
  db: { doc: 'Database number (not in cluster mode)', format: 'nat', default: 0 },
  username: { doc: 'ACL user (empty: the default user)', format: String, default: '' },
  password: {
    doc: 'Password of the user (the servers, in cluster and sentinel mode)',
    format: String,
    default: '',
    sensitive: true,
  },
  sentinel: {
    master_name: {
      doc: 'sentinel: the name the sentinels monitor the master under',
      format: String,
      default: 'mymaster',
    },
    password: {
      doc: 'sentinel: password of the sentinels themselves (empty: none)',
      format: String,
      default: '',
      sensitive: true,
    },
  },
  tls: {
    enabled: { doc: 'Connect over TLS', format: Boolean, default: false },
    ca_file: { doc: 'PEM file of the CAs to trust (empty: the system store)', format: String, default: '' },
    reject_unauthorized: {
      doc: 'Refuse a server whose certificate does not verify (false only for a test server)',
      format: Boolean,
      default: true,
    },
  },
  key_prefix: { doc: 'Prefix of every key this resource touches (empty: none)', format: String, default: '' },
  command_timeout_ms: {
    doc: 'A command without a reply this long fails with REDIS_TIMEOUT (also one queued while disconnected)',
    format: 'duration',
    default: 2000,
  },
  connect_timeout_ms: { doc: 'Longest one connection attempt may take', format: 'duration', default: 5000 },
  offline_queue: {
    doc: 'While disconnected, commands wait for the connection (up to command_timeout_ms); false: they fail at once',
    format: Boolean,
    default: true,
  },
  reconnect: reconnectSchema,
  affects_readiness: {
    doc: 'While disconnected, /health/ready answers 503 (false: readiness ignores it, as for a cache)',
    format: Boolean,
    default: true,
  },
  stop_timeout_ms: {
    doc: 'On stop, how long the commands already sent get for their replies before the connection is closed',
    format: 'duration',
    default: 5000,
  },
};

export interface RedisSettings {
  mode: RedisMode;
  url: string;
  host: string;
  port: number;
  nodes: string;
  db: number;
  username: string;
  password: string;
  sentinel: { master_name: string; password: string };
  tls: { enabled: boolean; ca_file: string; reject_unauthorized: boolean };
  key_prefix: string;
  command_timeout_ms: number;
  connect_timeout_ms: number;
  offline_queue: boolean;
  reconnect: ReconnectSettings;
  affects_readiness: boolean;
  stop_timeout_ms: number;
}
