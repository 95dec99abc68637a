import { SettingsError } from './errors';
import { MAX_TIMER_MS } from './formats';
import { cut } from './redact';

/**
 * How a service reaches etcd, read from the environment:
 *
 * - `KEEL_ETCD_HOSTS`: comma-separated `host:port` (or `https://host:port`) list; etcd is used only when set.
 * - `KEEL_ETCD_PREFIX`: key prefix of the settings tree, default `keel/`.
 * - `KEEL_ETCD_CHECK_KEY`: full etcd key that must exist before settings are read (written last by `keel settings push`).
 * - `KEEL_ETCD_WAIT_MS`: bound for reaching etcd and for the check key, default 60000.
 * - `KEEL_ETCD_CALL_TIMEOUT_MS`: deadline of each etcd request, default 5000.
 * - `KEEL_ETCD_STALL_TIMEOUT_MS`: a member serving the watch that answers nothing for this long is
 *   left for another one, default 3000.
 * - `KEEL_ETCD_CA_FILE`, `KEEL_ETCD_CERT_FILE`, `KEEL_ETCD_KEY_FILE`: PEM files for TLS (client cert optional).
 * - `KEEL_ETCD_USERNAME`, `KEEL_ETCD_PASSWORD`: etcd authentication.
 */
export interface EtcdConnectionOptions {
  hosts: string[];
  prefix: string;
  checkKey?: string;
  waitMs: number;
  callTimeoutMs: number;
  stallTimeoutMs: number;
  tls?: { caFile: string; certFile?: string; keyFile?: string };
  auth?: { username: string; password: string };
}

export const DEFAULT_ETCD_PREFIX = 'keel/';
export const DEFAULT_ETCD_WAIT_MS = 60_000;
const DEFAULT_CALL_TIMEOUT_MS = 5_000;
export const DEFAULT_STALL_TIMEOUT_MS = 3_000;

export function etcdOptionsFromEnv(env: NodeJS.ProcessEnv): EtcdConnectionOptions | undefined {
  const hosts = (env.KEEL_ETCD_HOSTS ?? '')
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host !== '');
  if (hosts.length === 0) return undefined;
  const options: EtcdConnectionOptions = {
    hosts,
    prefix: normalizePrefix(env.KEEL_ETCD_PREFIX ?? DEFAULT_ETCD_PREFIX),
    waitMs: positiveNumber(env, 'KEEL_ETCD_WAIT_MS', DEFAULT_ETCD_WAIT_MS),
    callTimeoutMs: positiveNumber(env, 'KEEL_ETCD_CALL_TIMEOUT_MS', DEFAULT_CALL_TIMEOUT_MS),
    stallTimeoutMs: positiveNumber(env, 'KEEL_ETCD_STALL_TIMEOUT_MS', DEFAULT_STALL_TIMEOUT_MS),
  };
  if (env.KEEL_ETCD_CHECK_KEY) options.checkKey = env.KEEL_ETCD_CHECK_KEY;
  if (env.KEEL_ETCD_CA_FILE) {
    options.tls = {
      caFile: env.KEEL_ETCD_CA_FILE,
      certFile: env.KEEL_ETCD_CERT_FILE,
      keyFile: env.KEEL_ETCD_KEY_FILE,
    };
  }
  if (env.KEEL_ETCD_USERNAME) {
    options.auth = { username: env.KEEL_ETCD_USERNAME, password: env.KEEL_ETCD_PASSWORD ?? '' };
  }
  return options;
}

/** Keys are `<prefix><segment>/<segment>`, so a prefix always ends with a slash (or is empty: the root). */
export function normalizePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value <= MAX_TIMER_MS)) {
    throw new SettingsError(
      'SETTINGS_ETCD_OPTIONS',
      `${name} must be an integer number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${JSON.stringify(cut(raw))}`,
    );
  }
  return value;
}
