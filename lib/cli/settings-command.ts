import type { Etcd3, IRequestOp, ITxnResponse } from 'etcd3';
import { stringify } from 'yaml';
import { buildGraph } from '../container/graph';
import { settingsScopes } from '../lifecycle/create';
import { callDeadline, createEtcdClient, describeHosts } from '../settings/etcd-client';
import { decodeValue, entriesOfTree, keyOfPath, treeFromEntries } from '../settings/etcd-keys';
import { etcdOptionsFromEnv, type EtcdConnectionOptions } from '../settings/etcd-options';
import { EtcdSettingsSource } from '../settings/etcd-source';
import { KeelError } from '../errors';
import { issuesError, SettingsError } from '../settings/errors';
import { parseSettingsFile } from '../settings/file-layer';
import { DEFAULT_RESOURCES } from '../resources/defaults';
import { checkSettings, describeUnknown } from '../settings/provider';
import { redact, showValue } from '../settings/redact';
import { ScopeSet } from '../settings/scopes';
import type { SettingsScope } from '../settings/types';
import { getAt, isPlainObject, splitPath } from '../settings/tree';
import { parseCommandArgs } from './command';
import { inspectService } from './load-service';
import { CliError, UsageError, type CliIo } from './io';

/** etcd's default `--max-txn-ops`: one transaction of 128 operations is taken, 129 refused. */
const ETCD_DEFAULT_MAX_TXN_OPS = 128;

/**
 * `keel settings push <file> [--prune] [--service <module>] [--dry-run] [--in-parts]`. Writes only
 * the keys whose value differs from what etcd holds, so watchers see real changes only, in one
 * transaction: a push that fails (etcd refuses it, or keys changed since they were read) writes
 * nothing. With `--service`, the whole tree etcd would hold afterwards is validated against that
 * service's schemas first, and nothing is written when it is invalid. `--dry-run` prints what would
 * change and writes nothing.
 */
export async function settingsPush(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    service: { type: 'string', multiple: true },
    prune: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'in-parts': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('settings push needs exactly one file');
  const [file] = positionals;
  const options = requireEtcd(io.env);
  const entries = entriesOfTree(options.prefix, parseSettingsFile(file), `file ${file}`);
  const services = (values.service ?? []).map((module) => loadServiceScopes(module));
  return withClient(options, async (client) => {
    const read = await client.getAll().prefix(options.prefix).options(callDeadline(options)).exec();
    const stored: Record<string, string> = {};
    for (const kv of read.kvs) stored[kv.key.toString()] = kv.value.toString();
    const plan = planPush(options, entries, stored, values.prune === true);
    for (const service of services) {
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
    const sensitive = sensitiveSettings(services.flatMap((service) => service.scopes));
    const printPlan = () => {
      for (const line of describePlan(plan, options.prefix, sensitive)) io.out.write(`${line}\n`);
    };
    if (values['dry-run'] === true) {
      printPlan();
      io.out.write(
        `dry run: would write ${plan.writes.length} keys and delete ${plan.deletes.length} under "${options.prefix}" on ${describeHosts(options)}; nothing written\n`,
      );
      return 0;
    }
    const operations: IRequestOp[] = [
      ...plan.writes.map(([key, value]) => ({
        request_put: { key: Buffer.from(key), value: Buffer.from(value) },
      })),
      ...plan.deletes.map((key) => ({ request_delete_range: { key: Buffer.from(key) } })),
    ];
    // Last: services waiting on it then read a complete tree.
    if (options.checkKey !== undefined && stored[options.checkKey] !== 'true')
      operations.push({ request_put: { key: Buffer.from(options.checkKey), value: Buffer.from('true') } });
    if (values['in-parts'] === true) await inParts(client, options, operations);
    else await inOneTransaction(client, options, operations, read.header.revision);
    printPlan();
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

/**
 * The service a module exports and the scopes it validates, loaded as `keel run` loads it (a `.ts`
 * file through the TypeScript loader).
 */
function loadServiceScopes(modulePath: string): { name: string; scopes: SettingsScope[] } {
  const graph = buildGraph({
    service: inspectService(modulePath, process.cwd()),
    defaults: DEFAULT_RESOURCES,
  });
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
  const { positionals, values } = parseCommandArgs(args, { service: { type: 'string', multiple: true } });
  if (positionals.length > 1) throw new UsageError('settings get takes at most one path');
  const path = splitPath(positionals[0] ?? '');
  const sensitive = sensitiveSettings(
    (values.service ?? []).flatMap((module) => loadServiceScopes(module).scopes),
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
  const client = await createEtcdClient<Etcd3>(options);
  try {
    return await use(client);
  } catch (error) {
    if (error instanceof KeelError) throw error;
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

/**
 * Every change in one transaction, applied only if no key under the prefix was written since the
 * plan read them (a key deleted meanwhile is not seen): services watching see all of the push or
 * none of it. etcd refuses a transaction over `--max-txn-ops` or `--max-request-bytes` whole.
 */
async function inOneTransaction(
  client: Etcd3,
  options: EtcdConnectionOptions,
  operations: IRequestOp[],
  readRevision: string,
): Promise<void> {
  if (operations.length === 0) return;
  let response: ITxnResponse;
  try {
    response = await client.kv.txn(
      {
        compare: [
          {
            key: Buffer.from(options.prefix),
            range_end: prefixEnd(options.prefix),
            target: 'Mod',
            result: 'Less',
            mod_revision: String(BigInt(readRevision) + 1n),
          },
        ],
        success: operations,
      },
      callDeadline(options),
    );
  } catch (error) {
    const refusal =
      /too many operations in txn request|request is too large|received message larger than max/.exec(
        (error as Error).message,
      );
    if (refusal === null) throw error;
    throw new CliError(
      'CLI_PUSH_TOO_LARGE',
      `etcd refused the push as one transaction (${refusal[0]}: ${operations.length} operations; etcd's --max-txn-ops is ${ETCD_DEFAULT_MAX_TXN_OPS} by default, --max-request-bytes 1.5 MiB); nothing was written. Raise those limits on etcd, push smaller files, or pass --in-parts (not atomic)`,
      { cause: error },
    );
  }
  if (!response.succeeded)
    throw new CliError(
      'CLI_PUSH_CONFLICT',
      `keys under "${options.prefix}" changed on etcd while the push was planned; nothing was written: run it again`,
    );
}

/** `--in-parts`: transactions etcd takes by default, in order; a failure says how far it got. */
async function inParts(
  client: Etcd3,
  options: EtcdConnectionOptions,
  operations: IRequestOp[],
): Promise<void> {
  for (let start = 0; start < operations.length; start += ETCD_DEFAULT_MAX_TXN_OPS) {
    try {
      await client.kv.txn(
        { success: operations.slice(start, start + ETCD_DEFAULT_MAX_TXN_OPS) },
        callDeadline(options),
      );
    } catch (error) {
      throw new CliError(
        'CLI_PUSH_PARTIAL',
        `etcd failed after ${start} of ${operations.length} operations were written (--in-parts writes ${ETCD_DEFAULT_MAX_TXN_OPS} at a time): ${(error as Error).message}; a push again writes what still differs`,
        { cause: error },
      );
    }
  }
}

/** The end of etcd's range for every key that starts with `prefix`. */
function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix);
  for (let index = bytes.length - 1; index >= 0; index--) {
    if (bytes[index] < 0xff) {
      const end = bytes.subarray(0, index + 1);
      end[index]++;
      return end;
    }
  }
  // Every key: etcd reads a range end of one zero byte as "to the end".
  return Buffer.from([0]);
}
