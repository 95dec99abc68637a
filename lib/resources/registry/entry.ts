import { normalizePrefix } from '../../settings/etcd-options';

/** Where one HTTP server of an instance can be reached. */
export interface RegistryAddress {
  host: string;
  port: number;
}

/** The JSON value of `<prefix><service>/<instance_id>`. */
export interface RegistryEntry {
  instance_id: string;
  service: string;
  version?: string;
  revision?: string;
  deploy_name: string;
  /** By HTTP server resource name (`http`, `admin_http`, ...). */
  addresses: Record<string, RegistryAddress>;
  /** ISO time the instance registered first. */
  started_at: string;
  metadata: Record<string, string>;
}

export function registryKey(prefix: string, service: string, instanceId: string): string {
  return `${normalizePrefix(prefix)}${service}/${instanceId}`;
}

/** A value someone else wrote under the prefix is skipped rather than trusted. */
export function isRegistryEntry(value: unknown): value is RegistryEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<RegistryEntry>;
  return (
    typeof entry.instance_id === 'string' &&
    typeof entry.service === 'string' &&
    typeof entry.addresses === 'object' &&
    entry.addresses !== null
  );
}
