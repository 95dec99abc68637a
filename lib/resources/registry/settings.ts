import { defineSettings, type SettingsOf } from '../../settings/schema';

/** Outside the settings prefix (`keel/`): the settings source reads every key under its prefix. */
export const DEFAULT_REGISTRY_PREFIX = 'keel-registry/';

function stringMap(value: unknown): asserts value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('must be an object of strings');
  for (const [key, item] of Object.entries(value))
    if (typeof item !== 'string') throw new Error(`${key} must be a string`);
}

/** `system.resources.registry`. */
export const registrySchema = defineSettings({
  enabled: { doc: 'Register this instance in etcd (KEEL_ETCD_HOSTS)', format: Boolean, default: false },
  prefix: {
    doc: 'etcd key prefix of the registry; an entry is <prefix><service>/<instance_id>',
    format: String,
    default: DEFAULT_REGISTRY_PREFIX,
  },
  ttl_s: {
    doc: 'Lease TTL: a crashed instance leaves the registry this long after its last keep-alive',
    format: 'duration_seconds',
    default: 10,
  },
  advertise_host: {
    doc: 'Host peers should call; empty: the address each HTTP server is bound to, or the host name when it is bound to all',
    format: String,
    default: '',
  },
  metadata: {
    doc: 'Strings published with the entry',
    format: stringMap,
    default: {} as Record<string, string>,
  },
});

export type RegistrySettings = SettingsOf<typeof registrySchema>;

/** `system.resources.<name>` of a Discovery. */
export const discoverySchema = defineSettings({
  prefix: {
    doc: 'etcd key prefix of the registry to read',
    format: String,
    default: DEFAULT_REGISTRY_PREFIX,
  },
});

export type DiscoverySettings = SettingsOf<typeof discoverySchema>;
