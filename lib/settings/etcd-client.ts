import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { Etcd3, IOptions } from 'etcd3';
import { backoffSteps } from '../resilience/backoff';
import type { EtcdConnectionOptions } from './etcd-options';
import { SettingsError } from './errors';

/** etcd3's watch reconnect delays stay under this, so a restarted etcd is found again within a second. */
const WATCH_RECONNECT_MAX_MS = 1000;

/**
 * An etcd3 client for these options. etcd3 (and grpc under it) is required here, on first use,
 * so a service that does not configure etcd never pays for loading it.
 */
export async function createEtcdClient(options: EtcdConnectionOptions): Promise<Etcd3> {
  const { Etcd3 } = loadEtcd3(options);
  const clientOptions: IOptions = {
    hosts: options.hosts,
    faultHandling: { watchBackoff: backoffSteps({ initialMs: 100, maxMs: WATCH_RECONNECT_MAX_MS }) },
  };
  if (options.tls) {
    clientOptions.credentials = {
      rootCertificate: readPem('KEEL_ETCD_CA_FILE', options.tls.caFile),
      privateKey:
        options.tls.keyFile === undefined ? undefined : readPem('KEEL_ETCD_KEY_FILE', options.tls.keyFile),
      certChain:
        options.tls.certFile === undefined ? undefined : readPem('KEEL_ETCD_CERT_FILE', options.tls.certFile),
    };
  }
  if (options.auth) clientOptions.auth = options.auth;
  const ipHosts = options.tls ? options.hosts.map(hostOf).filter((host) => isIP(host) !== 0) : [];
  if (ipHosts.length === 0) return new Etcd3(clientOptions);
  return withIpIdentity(options.hosts.map(hostOf), clientOptions, () => new Etcd3(clientOptions));
}

/**
 * TLS to an etcd addressed by IP. grpc-js (1.14) sends the target host as the TLS server name, and
 * an IP address is not a valid one (RFC 6066): Node 20-24 warned (DEP0123), Node 26 throws, so
 * every attempt failed until KEEL_ETCD_WAIT_MS ran out. grpc's `ssl_target_name_override` replaces
 * that name, but grpc-js then checks the certificate against the override too, so the check is
 * given back its real subject: the certificate must be valid for one of the configured hosts.
 * etcd3 builds its gRPC credentials in its constructor with no way to pass that check, hence
 * createSsl wrapped for the span of that synchronous call only, on etcd3's own copy of grpc-js.
 */
function withIpIdentity(hosts: string[], clientOptions: IOptions, build: () => Etcd3): Etcd3 {
  const grpc = createRequire(require.resolve('etcd3'))('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  // Here rather than at the top: loading node:tls took 4-5 ms of every cold start, etcd or not.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { checkServerIdentity } = require('node:tls') as typeof import('node:tls');
  const createSsl = grpc.credentials.createSsl;
  const checkIdentity = (_override: string, cert: PeerCertificate): Error | undefined => {
    const failures = hosts.map((host) => checkServerIdentity(host, cert));
    return failures.includes(undefined) ? undefined : failures[0];
  };
  clientOptions.grpcOptions = {
    ...clientOptions.grpcOptions,
    'grpc.ssl_target_name_override': TLS_SERVER_NAME,
  };
  grpc.credentials.createSsl = (rootCerts, privateKey, certChain, verifyOptions) =>
    createSsl(rootCerts, privateKey, certChain, { ...verifyOptions, checkServerIdentity: checkIdentity });
  try {
    return build();
  } finally {
    grpc.credentials.createSsl = createSsl;
  }
}

/** The name sent for SNI when etcd is reached by IP address: any DNS name; etcd serves one certificate. */
const TLS_SERVER_NAME = 'etcd';

function hostOf(url: string): string {
  const address = url.replace(/^https?:\/\//, '');
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  return bracketed ? bracketed[1] : address.replace(/:\d+$/, '');
}

/** etcd3 is an optional peer dependency: only services that read settings from etcd install it. */
function loadEtcd3(options: EtcdConnectionOptions): typeof import('etcd3') {
  try {
    // `require`, not `import()`: jest's vm refuses a dynamic import inside Keel's bundle.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('etcd3') as typeof import('etcd3');
  } catch (error) {
    const missing =
      (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
      /'etcd3'/.test((error as Error).message);
    if (!missing) throw error;
    throw new SettingsError(
      'SETTINGS_ETCD_OPTIONS',
      `KEEL_ETCD_HOSTS is set (${describeHosts(options)}) but the etcd client is not installed: ` +
        'run `npm install etcd3` (an optional peer dependency of keel)',
    );
  }
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new SettingsError(
      'SETTINGS_ETCD_OPTIONS',
      `Cannot read ${variable} ${file}: ${(error as Error).message}`,
    );
  }
}

/** Per-request gRPC options: never wait past the caller's deadline, nor longer than one call timeout. */
export function callDeadline(options: EtcdConnectionOptions, notAfter = Infinity): { deadline: Date } {
  return { deadline: new Date(Math.min(notAfter, Date.now() + options.callTimeoutMs)) };
}

export function describeHosts(options: EtcdConnectionOptions): string {
  return options.hosts.join(', ');
}
