import { readFileSync } from 'node:fs';
import type { Etcd3, IOptions } from 'etcd3';
import { CappedBackoff } from './backoff';
import type { EtcdConnectionOptions } from './etcd-options';
import { SettingsError } from './errors';

const WATCH_RECONNECT_MAX_MS = 1000;

/**
 * An etcd3 client for these options. etcd3 (and grpc under it) is imported here, on first use,
 * so a service that does not configure etcd never pays for loading it.
 */
export async function createEtcdClient(options: EtcdConnectionOptions): Promise<Etcd3> {
  const { Etcd3 } = await import('etcd3');
  const clientOptions: IOptions = {
    hosts: options.hosts,
    faultHandling: { watchBackoff: new CappedBackoff(0, WATCH_RECONNECT_MAX_MS) },
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
  return new Etcd3(clientOptions);
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
