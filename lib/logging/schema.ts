import convict from 'convict';
import { convictSchema } from '../settings/formats';
import { DEFAULT_MAX_RECORD_CHARS } from './record';
import { DEFAULT_MAX_QUEUE_BYTES } from './sinks/stream';
import {
  LOG_LEVELS,
  LOG_PROFILES,
  isLogProfile,
  unknownProfileMessage,
  type LevelName,
  type LogProfile,
} from './levels';
import { LOG_FORMATS, type LogFormat } from './pretty';

/** The validated `system.logging` subtree; keys follow Tamarco's (reference 3.3). */
export interface LoggingSettings {
  profile: LogProfile;
  /** A level threshold over the profile's (`warn` in tests); empty: the profile decides. */
  level: LevelName | '';
  stdout: boolean;
  /** Bytes of log lines held for stdout while its reader does not keep up; beyond it records are dropped. */
  stdout_max_queue_bytes: number;
  /** Longest JSON line of one record, in characters; a longer record is cut, and says so (`truncated`). */
  max_record_chars: number;
  /** How stdout shows records: `auto` (readable on a terminal with DEVELOP), `json`, `pretty`. */
  format: LogFormat;
  /** Rotating file stream, on when set. */
  file_path: string | null;
  file: {
    /** Rotate when the file would grow past this many bytes; 0 turns size rotation off. */
    max_bytes: number;
    /** Rotate on UTC boundaries of this period (`30s`, `15m`, `1h`, `1d`, `1w`); empty turns it off. */
    period: string;
    /** Rotated files kept (`<file_path>.0` is the newest). */
    count: number;
  };
  logstash: {
    enabled: boolean;
    host: string;
    port: number;
    /** Send the host's fully qualified name in `host` instead of its short name. */
    fqdn: boolean;
    version: number;
  };
  http: {
    enabled: boolean;
    url: string;
    user: string;
    password: string;
    max_time_seconds: number;
    max_records: number;
    /** Records held while logstash is slow or down; beyond it records are dropped and counted. */
    max_queue_records: number;
    backoff_seconds: number;
    max_backoff_seconds: number;
    timeout_seconds: number;
  };
  /** Tamarco's logstash Redis handler: each record's logstash JSON pushed onto a list. */
  redis: {
    enabled: boolean;
    url: string;
    password: string;
    key: string;
    max_time_seconds: number;
    max_records: number;
    /** Records held while Redis is slow or down; beyond it records are dropped and counted. */
    max_queue_records: number;
    backoff_seconds: number;
    max_backoff_seconds: number;
    timeout_seconds: number;
  };
}

export type LoggingSettingsInput = { [K in keyof LoggingSettings]?: DeepPartial<LoggingSettings[K]> };
type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

const PERIOD = /^[1-9]\d*[smhdw]$/;

function positiveInt(value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1) throw new Error('must be an integer of at least 1');
}

/** The last URL accepted: every app validates the same one (most often the default), and parsing it cost more than the rest of the scope. */
let acceptedUrl: string | undefined;

function httpUrl(value: unknown): void {
  if (value === acceptedUrl) return;
  if (typeof value !== 'string' || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new Error('must be an http or https URL');
  }
  acceptedUrl = value;
}

function redisUrl(value: unknown): void {
  if (typeof value !== 'string' || !URL.canParse(value) || !/^rediss?:$/.test(new URL(value).protocol)) {
    throw new Error('must be a redis:// or rediss:// URL');
  }
}

export const loggingSchema = {
  profile: {
    doc: `Log level profile: ${LOG_PROFILES.join(', ')} (DEVELOP and TESTING log debug, PRODUCTION info)`,
    default: 'PRODUCTION' as LogProfile,
    // convict prefixes the key, and the settings layer the scope path.
    format: (value: unknown) => {
      if (!isLogProfile(value)) throw new Error(unknownProfileMessage(value));
    },
    // Watched by the app's log output: a change moves the level of every logger at once.
    live: true,
  },
  level: {
    doc: `Lowest level written, over the profile's: ${LOG_LEVELS.join(', ')} (empty: the profile's)`,
    default: '' as LevelName | '',
    format: ['', ...LOG_LEVELS],
    live: true,
  },
  stdout: { doc: 'Write bunyan JSON lines to stdout', default: true, format: Boolean },
  stdout_max_queue_bytes: {
    doc: 'Bytes of log lines held in memory while stdout is not read (a stalled pipe); records beyond it are dropped and counted',
    default: DEFAULT_MAX_QUEUE_BYTES,
    format: positiveInt,
  },
  max_record_chars: {
    doc: 'Longest JSON line of one record, in characters: a longer record has its long fields cut (and the other fields past the bound left out), with a truncated field saying so',
    default: DEFAULT_MAX_RECORD_CHARS,
    format: positiveInt,
  },
  format: {
    doc: 'stdout lines: auto (readable on a terminal with DEVELOP, JSON otherwise), json, or pretty (readable with DEVELOP); TESTING and PRODUCTION always write JSON',
    default: 'auto' as LogFormat,
    format: [...LOG_FORMATS],
  },
  file_path: {
    doc: 'Write to this rotating file when set',
    default: null as string | null,
    format: String,
    nullable: true,
  },
  file: {
    max_bytes: {
      doc: 'Rotate past this size in bytes (0: never by size)',
      default: 10 * 1024 * 1024,
      format: 'nat',
    },
    period: {
      doc: 'Rotate on UTC boundaries of this period, e.g. 1h, 1d, 1w (empty: never by time)',
      default: '',
      format: (value: unknown) => {
        if (value !== '' && !(typeof value === 'string' && PERIOD.test(value))) {
          throw new Error('must be empty or a count and a unit among s, m, h, d, w (e.g. 1d)');
        }
      },
    },
    count: { doc: 'Rotated files kept', default: 5, format: 'nat' },
  },
  logstash: {
    enabled: { doc: 'Send records to logstash over UDP', default: false, format: Boolean },
    host: { doc: 'Logstash UDP host', default: '127.0.0.1', format: String },
    port: { doc: 'Logstash UDP port', default: 5044, format: 'port' },
    fqdn: { doc: 'Send the fully qualified host name', default: false, format: Boolean },
    version: { doc: 'Logstash JSON event format version (only 1)', default: 1, format: [1] },
  },
  http: {
    enabled: { doc: 'Send records to logstash over HTTP in bulk', default: false, format: Boolean },
    url: { doc: 'Logstash HTTP input URL', default: 'http://127.0.0.1:8080', format: httpUrl },
    user: { doc: 'Basic auth user (empty: no auth)', default: '', format: String },
    password: { doc: 'Basic auth password', default: '', format: String, sensitive: true },
    max_time_seconds: {
      doc: 'Longest a record waits before it is sent',
      default: 15,
      format: 'duration_seconds',
    },
    max_records: {
      doc: 'Records per request; a full batch is sent at once',
      default: 100,
      format: positiveInt,
    },
    max_queue_records: {
      doc: 'Records buffered while logstash is down',
      default: 10000,
      format: positiveInt,
    },
    backoff_seconds: {
      doc: 'First retry delay after a failed request',
      default: 1,
      format: 'duration_seconds',
    },
    max_backoff_seconds: { doc: 'Longest retry delay', default: 30, format: 'duration_seconds' },
    timeout_seconds: { doc: 'Request timeout', default: 10, format: 'duration_seconds' },
  },
  redis: {
    enabled: {
      doc: "Push each record's logstash JSON onto a Redis list (needs the package ioredis)",
      default: false,
      format: Boolean,
    },
    url: { doc: 'Redis URL, redis:// or rediss://', default: 'redis://127.0.0.1:6379', format: redisUrl },
    password: { doc: 'Redis password (beside one in the URL)', default: '', format: String, sensitive: true },
    key: { doc: 'The list records are pushed onto (RPUSH)', default: 'logstash', format: String },
    max_time_seconds: {
      doc: 'Longest a record waits before it is pushed',
      default: 1,
      format: 'duration_seconds',
    },
    max_records: {
      doc: 'Records per RPUSH; a full batch is pushed at once',
      default: 100,
      format: positiveInt,
    },
    max_queue_records: {
      doc: 'Records buffered while Redis is down; beyond it records are dropped and counted',
      default: 10000,
      format: positiveInt,
    },
    backoff_seconds: {
      doc: 'First retry delay after a failed push',
      default: 1,
      format: 'duration_seconds',
    },
    max_backoff_seconds: { doc: 'Longest retry delay', default: 30, format: 'duration_seconds' },
    timeout_seconds: { doc: 'Longest a push may wait for its reply', default: 5, format: 'duration_seconds' },
  },
};

/** Validates a `system.logging` subtree (defaults filled in); used when Keel is configured without the settings layer. */
export function loadLoggingSettings(input: LoggingSettingsInput = {}): LoggingSettings {
  const config = convict<LoggingSettings>(convictSchema(loggingSchema) as convict.Schema<LoggingSettings>);
  config.load(input);
  config.validate({ allowed: 'strict' });
  return config.getProperties();
}
