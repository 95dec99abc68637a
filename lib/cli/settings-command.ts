import type { Etcd3, IRequestOp } from 'etcd3';
import { stringify } from 'yaml';
import { callDeadline, createEtcdClient, describeHosts } from '../settings/etcd-client';
import { entriesOfTree, treeFromEntries } from '../settings/etcd-keys';
import { etcdOptionsFromEnv, type EtcdConnectionOptions } from '../settings/etcd-options';
import { EtcdSettingsSource } from '../settings/etcd-source';
import { SettingsError } from '../settings/errors';
import { parseSettingsFile } from '../settings/file-layer';
import { redact, showValue } from '../settings/redact';
import { getAt, isPlainObject, splitPath } from '../settings/tree';
import { parseArgs, UsageError, type CliIo } from './io';

/** etcd's default --max-txn-ops is 128; stay below it. */
const OPS_PER_TXN = 100;

export async function settingsPush(args: string[], io: CliIo): Promise<number> {
  const { positional, flags } = parseArgs(args, ['--prune']);
  if (positional.length !== 1) throw new UsageError('settings push needs exactly one file');
  const [file] = positional;
  const options = requireEtcd(io.env);
  const entries = entriesOfTree(options.prefix, parseSettingsFile(file));
  return withClient(options, async (client) => {
    const pushed = new Set(entries.map(([key]) => key));
    await inTransactions(
      client,
      options,
      entries.map(([key, value]) => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } })),
    );
    let pruned: string[] = [];
    if (flags.has('--prune')) {
      const existing = await client.getAll().prefix(options.prefix).options(callDeadline(options)).keys();
      pruned = existing.filter((key) => !pushed.has(key) && key !== options.checkKey);
      await inTransactions(
        client,
        options,
        pruned.map((key) => ({ request_delete_range: { key: Buffer.from(key) } })),
      );
    }
    // Written last: services waiting on it then read a complete tree.
    if (options.checkKey !== undefined)
      await client.put(options.checkKey).value('true').options(callDeadline(options));
    const checkKey =
      options.checkKey === undefined
        ? 'no check key (KEEL_ETCD_CHECK_KEY unset)'
        : `check key ${options.checkKey} written`;
    io.out.write(
      `pushed ${entries.length} keys from ${file} to ${describeHosts(options)} under "${options.prefix}", pruned ${pruned.length}; ${checkKey}\n`,
    );
    return 0;
  });
}

export async function settingsGet(args: string[], io: CliIo): Promise<number> {
  const path = singleOptionalPath(args, 'get');
  const options = requireEtcd(io.env);
  return withClient(options, async (client) => {
    const kvs = await client.getAll().prefix(options.prefix).options(callDeadline(options)).strings();
    const value = getAt(treeFromEntries(options.prefix, Object.entries(kvs)), path);
    if (value === undefined) {
      io.err.write(`keel: nothing stored at "${path.join('.')}" under "${options.prefix}"\n`);
      return 1;
    }
    io.out.write(isPlainObject(value) ? stringify(redact(value)) : `${showValue(path, value)}\n`);
    return 0;
  });
}

export async function settingsWatch(args: string[], io: CliIo): Promise<number> {
  const path = singleOptionalPath(args, 'watch');
  const options = { ...requireEtcd(io.env), checkKey: undefined };
  const source = await EtcdSettingsSource.open(options);
  io.out.write(
    `watching "${options.prefix}${path.join('/')}" on ${describeHosts(options)} from revision ${source.revision + 1}\n`,
  );
  source.watch({
    onChanges: (changes) => {
      for (const change of changes) {
        if (!path.every((segment, index) => change.path[index] === segment)) continue;
        const shown = change.value === undefined ? '(deleted)' : showValue(change.path, change.value);
        io.out.write(`${change.revision} ${change.path.join('.')} = ${shown}\n`);
      }
    },
    onProblem: (message) => io.err.write(`keel: ${message}\n`),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await source.close();
  return 0;
}

function singleOptionalPath(args: string[], command: string): string[] {
  const { positional } = parseArgs(args, []);
  if (positional.length > 1) throw new UsageError(`settings ${command} takes at most one path`);
  return splitPath(positional[0] ?? '');
}

export function requireEtcd(env: NodeJS.ProcessEnv): EtcdConnectionOptions {
  const options = etcdOptionsFromEnv(env);
  if (options === undefined)
    throw new UsageError('KEEL_ETCD_HOSTS is not set (e.g. KEEL_ETCD_HOSTS=127.0.0.1:2379)');
  return options;
}

export async function withClient(
  options: EtcdConnectionOptions,
  use: (client: Etcd3) => Promise<number>,
): Promise<number> {
  const client = await createEtcdClient(options);
  try {
    return await use(client);
  } catch (error) {
    if (error instanceof SettingsError) throw error;
    throw new SettingsError(
      'SETTINGS_ETCD_UNREACHABLE',
      `etcd at ${describeHosts(options)} failed: ${(error as Error).message}`,
      [],
      { cause: error },
    );
  } finally {
    client.close();
  }
}

async function inTransactions(
  client: Etcd3,
  options: EtcdConnectionOptions,
  operations: IRequestOp[],
): Promise<void> {
  for (let start = 0; start < operations.length; start += OPS_PER_TXN) {
    await client.kv.txn({ success: operations.slice(start, start + OPS_PER_TXN) }, callDeadline(options));
  }
}
