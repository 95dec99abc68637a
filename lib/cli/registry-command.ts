import { readRegistryEntry, type RegistryEntry } from '../resources/registry/entry';
import { DEFAULT_REGISTRY_PREFIX } from '../resources/registry/settings';
import { callDeadline, describeHosts } from '../settings/etcd-client';
import { normalizePrefix } from '../settings/etcd-options';
import { parseCommandArgs } from './command';
import { UsageError, type CliIo } from './io';
import { requireEtcd, withClient } from './settings-command';

/**
 * `keel registry list [service] [--json]`: the instances registered under KEEL_REGISTRY_PREFIX
 * (default `keel-registry/`), one line each, or their entries as JSON.
 */
export async function registryList(args: string[], io: CliIo): Promise<number> {
  const { positionals, values: flags } = parseCommandArgs(args, { json: { type: 'boolean' } });
  if (positionals.length > 1) throw new UsageError('registry list takes at most one service name');
  const [service] = positionals;
  const asJson = flags.json === true;
  const options = requireEtcd(io.env);
  const prefix = normalizePrefix(io.env.KEEL_REGISTRY_PREFIX ?? DEFAULT_REGISTRY_PREFIX);
  const scope = service === undefined ? prefix : `${prefix}${service}/`;
  return withClient(options, async (client) => {
    const values = await client.getAll().prefix(scope).options(callDeadline(options)).strings();
    const entries = Object.values(values)
      .map(parseEntry)
      .filter((entry): entry is RegistryEntry => entry !== undefined)
      .sort((a, b) => a.service.localeCompare(b.service) || a.instance_id.localeCompare(b.instance_id));
    if (asJson) {
      io.out.write(`${JSON.stringify(entries, null, 2)}\n`);
      return 0;
    }
    if (entries.length === 0) {
      io.err.write(`keel: no instance registered under "${scope}" on ${describeHosts(options)}\n`);
      return 0;
    }
    for (const entry of entries) io.out.write(`${line(entry)}\n`);
    return 0;
  });
}

function parseEntry(text: string): RegistryEntry | undefined {
  try {
    const entry = readRegistryEntry(JSON.parse(text));
    return typeof entry === 'string' ? undefined : entry;
  } catch {
    return undefined;
  }
}

function line(entry: RegistryEntry): string {
  const addresses = Object.entries(entry.addresses)
    .map(([name, { host, port }]) => `${name}=${host}:${port}`)
    .join(',');
  return [
    entry.service,
    entry.instance_id,
    addresses || '-',
    entry.version ?? '-',
    entry.revision?.slice(0, 12) ?? '-',
    entry.deploy_name,
    entry.started_at,
  ].join('  ');
}
