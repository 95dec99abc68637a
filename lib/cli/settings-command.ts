import { resolve } from 'node:path';
import type { Etcd3, IRequestOp } from 'etcd3';
import { stringify } from 'yaml';
import { microserviceOptionsOf } from '../container/decorators';
import { buildGraph } from '../container/graph';
import type { ResourceClass } from '../container/provider';
import { settingsScopes } from '../lifecycle/app';
import type { Microservice } from '../lifecycle/microservice';
import { callDeadline, createEtcdClient, describeHosts } from '../settings/etcd-client';
import { decodeValue, entriesOfTree, keyOfPath, treeFromEntries } from '../settings/etcd-keys';
import { etcdOptionsFromEnv, type EtcdConnectionOptions } from '../settings/etcd-options';
import { EtcdSettingsSource } from '../settings/etcd-source';
import { issuesError, SettingsError } from '../settings/errors';
import { parseSettingsFile } from '../settings/file-layer';
import { checkSettings, describeUnknown } from '../settings/provider';
import { maskText, redact, showValue } from '../settings/redact';
import { ScopeSet } from '../settings/scopes';
import type { SettingsScope } from '../settings/types';
import { getAt, isPlainObject, splitPath } from '../settings/tree';
import { parseCommandArgs } from './command';
import { UsageError, type CliIo } from './io';

/** etcd's default --max-txn-ops is 128; stay below it. */
const OPS_PER_TXN = 100;

/**
 * `keel settings push <file> [--prune] [--service <module>] [--dry-run]`. Writes only the keys
 * whose value differs from what etcd holds, so watchers see real changes only. With `--service`,
 * the whole tree etcd would hold afterwards is validated against that service's schemas first, and
 * nothing is written when it is invalid. `--dry-run` prints what would change and writes nothing.
 */
export async function settingsPush(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    service: { type: 'string' },
    prune: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('settings push needs exactly one file');
  const [file] = positionals;
  const servicePath = values.service;
  const options = requireEtcd(io.env);
  const entries = entriesOfTree(options.prefix, parseSettingsFile(file));
  const service = servicePath === undefined ? undefined : loadServiceScopes(servicePath);
  return withClient(options, async (client) => {
    const stored = await client.getAll().prefix(options.prefix).options(callDeadline(options)).strings();
    const plan = planPush(options, entries, stored, values.prune === true);
    if (service) {
      const { issues, unknown } = checkSettings({
        serviceName: service.name,
        scopes: service.scopes,
        tree: treeFromEntries(options.prefix, plan.result),
        describe: (path) => `etcd ${keyOfPath(options.prefix, path)} after the push`,
      });
      for (const key of unknown)
        if (!issues.some((issue) => issue.path === key.path.join('.')))
          io.err.write(`keel: warning: ${key.path.join('.')}: ${describeUnknown(key)}\n`);
      if (issues.length > 0) {
        const error = issuesError(
          'SETTINGS_INVALID',
          `Refused to push ${file}: the settings of service "${service.name}" would be invalid; nothing was written`,
          issues,
        );
        io.err.write(`keel: ${error.message}\n`);
        return 1;
      }
    }
    const sensitive = sensitiveSettings(service?.scopes ?? []);
    for (const line of describePlan(plan, options.prefix, sensitive)) io.out.write(`${line}\n`);
    if (values['dry-run'] === true) {
      io.out.write(
        `dry run: would write ${plan.writes.length} keys and delete ${plan.deletes.length} under "${options.prefix}" on ${describeHosts(options)}; nothing written\n`,
      );
      return 0;
    }
    await inTransactions(client, options, [
      ...plan.writes.map(([key, value]) => ({
        request_put: { key: Buffer.from(key), value: Buffer.from(value) },
      })),
      ...plan.deletes.map((key) => ({ request_delete_range: { key: Buffer.from(key) } })),
    ]);
    // Written last: services waiting on it then read a complete tree.
    if (options.checkKey !== undefined && stored[options.checkKey] !== 'true')
      await client.put(options.checkKey).value('true').options(callDeadline(options));
    const checkKey =
      options.checkKey === undefined
        ? 'no check key (KEEL_ETCD_CHECK_KEY unset)'
        : `check key ${options.checkKey} written`;
    io.out.write(
      `pushed ${plan.writes.length} keys from ${file} to ${describeHosts(options)} under "${options.prefix}" (${plan.unchanged} unchanged), pruned ${plan.deletes.length}; ${checkKey}\n`,
    );
    return 0;
  });
}

interface PushPlan {
  /** Keys to put: new, or holding another value. */
  writes: Array<[string, string]>;
  deletes: string[];
  unchanged: number;
  /** Every key under the prefix as it would be afterwards. */
  result: Array<[string, string]>;
  /** What each changed key held before (undefined: absent). */
  before: Map<string, string | undefined>;
}

function planPush(
  options: EtcdConnectionOptions,
  entries: Array<[string, string]>,
  stored: Record<string, string>,
  prune: boolean,
): PushPlan {
  const storedAt = (key: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(stored, key) ? stored[key] : undefined;
  const pushed = new Map(entries);
  const writes = entries.filter(([key, value]) => storedAt(key) !== value);
  const deletes = prune
    ? Object.keys(stored).filter((key) => !pushed.has(key) && key !== options.checkKey)
    : [];
  const result = new Map(Object.entries(stored));
  for (const [key, value] of entries) result.set(key, value);
  for (const key of deletes) result.delete(key);
  const before = new Map<string, string | undefined>();
  for (const [key] of writes) before.set(key, storedAt(key));
  for (const key of deletes) before.set(key, storedAt(key));
  return { writes, deletes, unchanged: entries.length - writes.length, result: [...result], before };
}

/**
 * One line per change, `+` new, `~` changed (old → new), `-` deleted; secrets redacted, by name and
 * by what the schemas mark `sensitive`.
 */
function describePlan(plan: PushPlan, prefix: string, sensitive: SensitiveAt): string[] {
  const shown = (key: string, text: string | undefined): string => {
    const path = key.startsWith(prefix) ? splitKey(key.slice(prefix.length)) : key.split('/');
    return text === undefined ? '(absent)' : showValue(path, decodeValue(text), sensitive(path));
  };
  return [
    ...plan.writes.map(([key, value]) => {
      const old = plan.before.get(key);
      return old === undefined
        ? `+ ${key} = ${shown(key, value)}`
        : `~ ${key}: ${shown(key, old)} -> ${shown(key, value)}`;
    }),
    ...plan.deletes.map((key) => `- ${key} (was ${shown(key, plan.before.get(key))})`),
  ];
}

/** `--name value` or `--name=value`, taken out of `args`. */

/** The service a module exports (the class decorated with `@microservice`), and the scopes it validates. */
function loadServiceScopes(modulePath: string): { name: string; scopes: SettingsScope[] } {
  const resolved = resolve(modulePath);
  let exported: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exported = require(resolved) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--service ${modulePath}: cannot load it: ${maskText((error as Error).message)}`);
  }
  const services = Object.values(exported).filter(
    (value): value is ResourceClass<Microservice> =>
      typeof value === 'function' && microserviceOptionsOf(value) !== undefined,
  );
  if (services.length !== 1)
    throw new UsageError(
      `--service ${modulePath} must export exactly one class decorated with @microservice, found ${services.length}`,
    );
  const graph = buildGraph({ service: services[0] });
  return { name: graph.serviceName, scopes: settingsScopes(graph) };
}

/** Whether the value at a settings path is one a schema marks `sensitive: true`. */
type SensitiveAt = (path: readonly string[]) => boolean;

/**
 * What the schemas of `scopes` mark sensitive, at its own path or under `system.microservices.<service>`,
 * which overrides it for one service.
 */
function sensitiveSettings(scopes: readonly SettingsScope[]): SensitiveAt {
  if (scopes.length === 0) return () => false;
  const paths = new Set(new ScopeSet(scopes).sensitivePaths().map((path) => path.join('.')));
  return (path) => {
    const general = path[0] === 'system' && path[1] === 'microservices' ? ['system', ...path.slice(3)] : path;
    return paths.has(general.join('.'));
  };
}

function splitKey(relative: string): string[] {
  return relative === '' ? [] : relative.split('/');
}

/**
 * `keel settings get [path] [--service <module>]`: the stored tree or one value, secrets redacted by
 * name and, with `--service`, by what that service's schemas mark `sensitive`.
 */
export async function settingsGet(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { service: { type: 'string' } });
  if (positionals.length > 1) throw new UsageError('settings get takes at most one path');
  const path = splitPath(positionals[0] ?? '');
  const sensitive = sensitiveSettings(
    values.service === undefined ? [] : loadServiceScopes(values.service).scopes,
  );
  const options = requireEtcd(io.env);
  return withClient(options, async (client) => {
    const kvs = await client.getAll().prefix(options.prefix).options(callDeadline(options)).strings();
    const value = getAt(treeFromEntries(options.prefix, Object.entries(kvs)), path);
    if (value === undefined) {
      io.err.write(`keel: nothing stored at "${path.join('.')}" under "${options.prefix}"\n`);
      return 1;
    }
    io.out.write(
      isPlainObject(value)
        ? stringify(redact(value, (below) => sensitive([...path, ...below])))
        : `${showValue(path, value, sensitive(path))}\n`,
    );
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
  const { positionals } = parseCommandArgs(args, {});
  if (positionals.length > 1) throw new UsageError(`settings ${command} takes at most one path`);
  return splitPath(positionals[0] ?? '');
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
