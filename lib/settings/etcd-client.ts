import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { Etcd3, IOptions } from 'etcd3';
import { backoffSteps } from '../resilience/backoff';
import type { EtcdConnectionOptions } from './etcd-options';
import { SettingsError } from './errors';

/** etcd3's watch reconnect delays stay under this, so a restarted etcd is found again within a second. */
export const WATCH_RECONNECT_MAX_MS = 1000;

/**
 * An etcd3 client for these options. etcd3 (and grpc under it) is required here, on first use,
 * so a service that does not configure etcd never pays for loading it. Name its type where you use
 * it, `createEtcdClient<Etcd3>(options)` with `import type { Etcd3 } from 'etcd3'`: Keel's declarations
 * never name etcd3, so a project that does not install that optional peer still type-checks them.
 */
export async function createEtcdClient<Client extends object = object>(
  options: EtcdConnectionOptions,
): Promise<Client> {
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
  const client: Etcd3 =
    ipHosts.length === 0
      ? new Etcd3(clientOptions)
      : withIpIdentity(options.hosts.map(hostOf), clientOptions, () => new Etcd3(clientOptions));
  return client as unknown as Client;
}

/**
 * TLS to an etcd addressed by IP. grpc-js (1.14) sends the target host as the TLS server name, and
 * an IP address is not a valid one (RFC 6066): Node 20-24 warned (DEP0123), Node 26 throws, so
 * every attempt failed until KEEL_ETCD_WAIT_MS ran out. grpc's `ssl_target_name_override` replaces
 * that name, but grpc-js then checks the certificate against the override too, so the check is
 * given back its real subject: the host each channel dials. etcd3 builds one set of gRPC
 * credentials in its constructor, for every host, with no way to pass that check: createSsl is
 * wrapped for the span of that synchronous call (on etcd3's own copy of grpc-js), which is exact
 * with one host; with several, each host of etcd3's pool is then given credentials of its own
 * (`pinDialledHosts`). A client this cannot be done for (etcd3's copy of grpc-js has no createSsl,
 * etcd3 did not call it while constructing, or its pool has not the shape this reads) is refused with
 * `SETTINGS_ETCD_OPTIONS` rather than let a certificate go unchecked or one member's pass for
 * another's: there is no public way to the same check (`test/contract/etcd3-credentials.test.ts`).
 */
function withIpIdentity(hosts: string[], clientOptions: IOptions, build: () => Etcd3): Etcd3 {
  const grpc = createRequire(require.resolve('etcd3'))('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  // Here rather than at the top: loading node:tls took 4-5 ms of every cold start, etcd or not.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { checkServerIdentity } = require('node:tls') as typeof import('node:tls');
  const createSsl = grpc.credentials?.createSsl;
  if (typeof createSsl !== 'function')
    throw unpinnable(hosts, "etcd3's copy of @grpc/grpc-js has no credentials.createSsl");
  const credentialsFor = (host: string) => {
    const { rootCertificate, privateKey, certChain } = clientOptions.credentials!;
    return createSsl(rootCertificate, privateKey ?? null, certChain ?? null, {
      checkServerIdentity: (_override: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
    });
  };
  clientOptions.grpcOptions = {
    ...clientOptions.grpcOptions,
    'grpc.ssl_target_name_override': TLS_SERVER_NAME,
  };
  let made = 0;
  grpc.credentials.createSsl = () => {
    made++;
    return credentialsFor(hosts[0]);
  };
  let client: Etcd3;
  try {
    client = build();
  } finally {
    grpc.credentials.createSsl = createSsl;
  }
  const unpinned =
    made === 0
      ? 'etcd3 did not make its credentials with createSsl while constructing'
      : hosts.length > 1 && !pinDialledHosts(client, (address) => credentialsFor(hostOf(address)))
        ? "etcd3's connection pool has not one Host with channelCredentials per member"
        : undefined;
  if (unpinned === undefined) return client;
  client.close();
  throw unpinnable(hosts, unpinned);
}

function unpinnable(hosts: string[], found: string): SettingsError {
  const advice = hosts.length > 1 ? 'list one member, or name them by DNS' : 'name the member by DNS';
  return new SettingsError(
    'SETTINGS_ETCD_OPTIONS',
    `KEEL_ETCD_HOSTS lists ${hosts.length === 1 ? 'an etcd member' : `${hosts.length} etcd members`} by IP address over TLS, and the installed etcd3 does not let Keel check each member's certificate against the address it dials (${found}; etcd3 ~1.1.2 does): ${advice}`,
  );
}

/** What `pinDialledHosts` reads of etcd3 1.1's `ConnectionPool`: one `Host` per member, made in its constructor. */
interface PoolShape {
  pool?: { hosts?: Array<{ host?: unknown; channelCredentials?: unknown }> };
}

/**
 * Gives each member of etcd3's pool the credentials `credentialsFor` makes for its address, before
 * any channel exists (etcd3 makes them on first call). False when the pool is not as expected.
 */
export function pinDialledHosts(client: object, credentialsFor: (address: string) => unknown): boolean {
  const hosts = (client as PoolShape).pool?.hosts;
  if (!Array.isArray(hosts) || hosts.length === 0) return false;
  if (!hosts.every((host) => typeof host.host === 'string' && host.channelCredentials !== undefined))
    return false;
  for (const host of hosts) host.channelCredentials = credentialsFor(host.host as string);
  return true;
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
