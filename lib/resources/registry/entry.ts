import { isIP } from 'node:net';
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

/** A DNS name (labels of letters, digits, `-` and `_`) or an IP address: nothing a URL would read as more. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/**
 * The entry of `<service>/<id>` read field by field from what etcd holds, or why it is refused: a
 * value written by hand or by another tool under the prefix is checked, never trusted, so a bad one
 * is skipped rather than turned into a URL. `service` and `id` are the key's, which the entry must repeat.
 */
export function readRegistryEntry(value: unknown, service?: string, id?: string): RegistryEntry | string {
  if (!isPlainObject(value)) return 'not a JSON object';
  const { instance_id, addresses, version, revision, deploy_name, started_at, metadata } = value;
  if (typeof value.service !== 'string' || value.service === '') return '"service" is not a non-empty string';
  if (service !== undefined && value.service !== service)
    return `"service" is ${JSON.stringify(value.service)}, not the key's ${JSON.stringify(service)}`;
  if (typeof instance_id !== 'string' || instance_id === '') return '"instance_id" is not a non-empty string';
  if (id !== undefined && instance_id !== id)
    return `"instance_id" is ${JSON.stringify(instance_id)}, not the key's ${JSON.stringify(id)}`;
  if (!isPlainObject(addresses)) return '"addresses" is not an object';
  const read: Record<string, RegistryAddress> = {};
  for (const [name, address] of Object.entries(addresses)) {
    if (!isPlainObject(address)) return `"addresses.${name}" is not an object`;
    const { host, port } = address;
    if (typeof host !== 'string' || !(isIP(host) !== 0 || HOST_NAME.test(host)))
      return `"addresses.${name}.host" is not a host name or an IP address: ${cut(host)}`;
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535)
      return `"addresses.${name}.port" is not a port from 1 to 65535: ${cut(port)}`;
    read[name] = { host, port: port as number };
  }
  for (const [field, text] of Object.entries({ version, revision, deploy_name, started_at })) {
    if (text !== undefined && typeof text !== 'string') return `"${field}" is not a string`;
  }
  if (
    metadata !== undefined &&
    !(isPlainObject(metadata) && Object.values(metadata).every((v) => typeof v === 'string'))
  )
    return '"metadata" is not an object of strings';
  return {
    instance_id,
    service: value.service,
    ...(version !== undefined && { version: version as string }),
    ...(revision !== undefined && { revision: revision as string }),
    deploy_name: (deploy_name as string | undefined) ?? '',
    addresses: read,
    started_at: (started_at as string | undefined) ?? '',
    metadata: { ...(metadata as Record<string, string> | undefined) },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cut(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
