import { EtcdSettingsSource, type EtcdChange, type EtcdWatchHealth } from './etcd-source';
import { keyOfPath } from './etcd-keys';
import { etcdOptionsFromEnv } from './etcd-options';
import { readEnvLayer } from './env-layer';
import { issuesError, SettingsError, type SettingsIssue } from './errors';
import { readFileLayer } from './file-layer';
import {
  composeLayers,
  layer,
  originOf,
  refuseUnsafeKeys,
  unsafeKeyError,
  type LayerStack,
  type SettingsLayer,
} from './layers';
import { isSecretPath, isSecretValueLength, registerSecretValues, showValue } from './redact';
import { ScopeSet, type UnknownKey } from './scopes';
import {
  cloneTree,
  deepEqual,
  deepFreeze,
  deepMerge,
  deleteAt,
  getAt,
  leavesOf,
  setAt,
  splitPath,
  isUnsafeSegment,
  unsafeKeyIn,
  type SettingsTree,
} from './tree';
import { ScopedView } from './view';
import { WatchRegistry } from './watchers';
import type { SettingsLoadOptions, SettingsScope, SettingsView, Unsubscribe } from './types';

/** The settings layer's own settings, under `system.settings`. */
export const settingsSchema = {
  unknown_keys: {
    doc: 'What a key no schema declares does: warn (logged, ignored) or error (refused, at boot and in updates)',
    format: ['warn', 'error'],
    default: 'warn',
  },
} as const;

export const SETTINGS_SCOPE: SettingsScope = {
  path: 'system.settings',
  owner: 'keel',
  schema: settingsSchema,
};

/** What `/status` shows of the settings: where they come from and, from etcd, how current they are. */
export interface SettingsHealth {
  source: 'embedded' | 'etcd';
  etcd?: EtcdWatchHealth;
}

/**
 * The one settings tree of a service, merged from its layers (schema defaults, file, etcd,
 * environment, values given in code), validated scope by scope, and kept current at run time.
 */
export class SettingsProvider {
  private tree: SettingsTree;
  private readonly views = new Map<string, ScopedView<unknown>>();
  private readonly watchers: WatchRegistry;
  private unknownKeys = new Set<string>();
  /** Current values of sensitive settings, masked wherever Keel prints text. */
  private readonly secretValues = new Set<string>();
  private readonly unregisterSecrets: () => void;
  private closed = false;

  private constructor(
    private readonly options: SettingsLoadOptions,
    private readonly scopes: ScopeSet,
    private stack: LayerStack,
    private readonly etcd: EtcdSettingsSource | undefined,
  ) {
    this.tree = deepFreeze(composeLayers(stack, options.serviceName));
    this.watchers = new WatchRegistry((message) => this.warn(message));
    this.unregisterSecrets = registerSecretValues(this.secretValues);
    this.collectSecrets();
  }

  /** The environment the env and etcd layers were read from. */
  get env(): NodeJS.ProcessEnv {
    return this.options.env ?? process.env;
  }

  /** Reads every layer and validates every scope at once; rejects with all problems in one `SettingsError`. */
  static async load(options: SettingsLoadOptions): Promise<SettingsProvider> {
    const env = options.env ?? process.env;
    const cwd = options.cwd ?? process.cwd();
    const scopes = new ScopeSet([...options.scopes, SETTINGS_SCOPE]);
    const info = options.info ?? (() => undefined);
    // Told once every layer is read (onRead), so the line takes the format the settings ask for.
    const notes: string[] = [];
    const file = readFileLayer(env, cwd, (note) => notes.push(note));
    const inline = options.inline ?? {};
    // Checked before the copy: structuredClone would keep the key, and a merge would follow it.
    const unsafeInline = unsafeKeyIn(inline);
    if (unsafeInline) throw unsafeKeyError(unsafeInline, internalLayer({}).describe(unsafeInline));
    const etcdOptions = etcdOptionsFromEnv(env);
    const etcd =
      etcdOptions === undefined
        ? undefined
        : await EtcdSettingsSource.open(etcdOptions, (message) => warnWith(options, message), options.signal);
    let provider: SettingsProvider | undefined;
    try {
      const refused = (key: string, message: string): void => rejectKey(options, key, message);
      const stack: LayerStack = {
        defaults: layer('defaults', scopes.defaults(), (path) => `schema default of ${path.join('.')}`),
        file: file ?? layer('file', {}),
        etcd: etcdLayer(etcd, etcd?.tree(refused) ?? {}),
        env: readEnvLayer(env, (path, raw) => scopes.resolveEnvPath(path, raw)),
        internal: internalLayer(cloneTree(inline)),
      };
      // The file layer refused them as it parsed (so does `keel settings push`).
      refuseUnsafeKeys(stack.etcd);
      refuseUnsafeKeys(stack.env);
      provider = new SettingsProvider(options, scopes, stack, etcd);
      const created = provider;
      options.onRead?.(created.tree);
      for (const note of notes) info(note);
      const issues = [
        ...scopes.validate(created.tree, (path) => originOf(stack, options.serviceName, path)),
        ...created.unknownKeyIssues(created.tree, stack),
      ];
      if (issues.length > 0)
        throw issuesError(
          'SETTINGS_INVALID',
          `Invalid settings for service "${options.serviceName}"`,
          issues,
        );
      created.warnAboutUnknownKeys();
      etcd?.watch({
        onChanges: (changes) => created.applyEtcdChanges(changes),
        onProblem: (message) => created.warn(message),
        onRefusedKey: refused,
      });
      return created;
    } catch (error) {
      provider?.unregisterSecrets();
      await etcd?.close();
      throw error;
    }
  }

  /** Where the settings come from and, from etcd, how current they are. */
  health(): SettingsHealth {
    return this.etcd === undefined ? { source: 'embedded' } : { source: 'etcd', etcd: this.etcd.health() };
  }

  /** The view rooted at `path` (e.g. `system.resources.http`); one instance per path. */
  view<T = Record<string, unknown>>(path: string): SettingsView<T> {
    let view = this.views.get(path);
    if (view === undefined) {
      view = new ScopedView<unknown>(path, splitPath(path), this.tree, (key, callback) =>
        this.watch(key, callback),
      );
      this.views.set(path, view);
    }
    return view as SettingsView<T>;
  }

  /** The effective (frozen) value at a full dotted path; undefined when nothing sets it. */
  get(path: string): unknown {
    return getAt(this.tree, splitPath(path));
  }

  /** Calls back with the new and previous value whenever the effective value at `path` changes. */
  watch(path: string, callback: (next: unknown, previous: unknown) => void): Unsubscribe {
    if (this.closed)
      throw new SettingsError('SETTINGS_CLOSED', `Cannot watch "${path}": the settings provider is closed`);
    return this.watchers.add(path, callback);
  }

  /** Merges values into the highest layer; throws and changes nothing when the result is invalid. */
  updateInternal(partial: Record<string, unknown>): void {
    const unsafe = unsafeKeyIn(partial);
    if (unsafe) throw unsafeKeyError(unsafe, internalLayer({}).describe(unsafe));
    const merged = deepMerge(this.stack.internal.tree, cloneTree(partial));
    const issues = this.commit({ ...this.stack, internal: internalLayer(merged) });
    if (issues.length > 0)
      throw issuesError('SETTINGS_UPDATE_REJECTED', 'Rejected settings.updateInternal()', issues);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    this.unregisterSecrets();
    await this.etcd?.close();
  }

  private applyEtcdChanges(changes: readonly EtcdChange[]): void {
    for (const change of changes) {
      if (this.closed) return;
      const unsafe = change.path.some(isUnsafeSegment) ? change.path : unsafeKeyIn(change.value, change.path);
      if (unsafe) {
        rejectKey(this.options, change.key, unsafeKeyError(unsafe, `etcd ${change.key}`).message);
        continue;
      }
      const current = this.stack.etcd.tree;
      const next =
        change.value === undefined
          ? deleteAt(current, change.path)
          : setAt(current, change.path, change.value);
      const issues = this.commit({ ...this.stack, etcd: etcdLayer(this.etcd, next) });
      if (issues.length > 0) this.reject(change, issues);
    }
  }

  /** Applies a new layer stack if every scope it changes is still valid; returns the problems otherwise. */
  private commit(next: LayerStack): SettingsIssue[] {
    const previous = this.tree;
    const tree = deepFreeze(composeLayers(next, this.options.serviceName));
    const changedScope = (scope: { segments: readonly string[] }): boolean =>
      !deepEqual(getAt(previous, scope.segments), getAt(tree, scope.segments));
    const issues = [
      ...this.scopes.validate(tree, (path) => originOf(next, this.options.serviceName, path), changedScope),
      ...this.unknownKeyIssues(tree, next).filter((issue) => !this.unknownKeys.has(issue.path)),
    ];
    if (issues.length > 0) return issues;
    this.stack = next;
    this.tree = tree;
    this.collectSecrets();
    for (const view of this.views.values()) view.refresh(tree);
    this.warnAboutUnknownKeys();
    this.watchers.notify(previous, tree);
    return [];
  }

  private reject(change: EtcdChange, issues: SettingsIssue[]): void {
    const value = change.value === undefined ? '(deleted)' : showValue(change.path, change.value);
    const error = issuesError(
      'SETTINGS_UPDATE_REJECTED',
      `Rejected etcd update ${change.key} = ${value} at revision ${change.revision}; the previous value stays in force`,
      issues,
    );
    if (this.options.onUpdateRejected) this.options.onUpdateRejected(error);
    else this.warn(error.message);
  }

  /** With `system.settings.unknown_keys: error`, every key no schema declares is a problem. */
  private unknownKeyIssues(tree: SettingsTree, stack: LayerStack): SettingsIssue[] {
    if (getAt(tree, ['system', 'settings', 'unknown_keys']) !== 'error') return [];
    return unknownIssues(this.scopes.unknownKeys(tree), (path) =>
      originOf(stack, this.options.serviceName, path),
    );
  }

  private warnAboutUnknownKeys(): void {
    const unknown = this.scopes.unknownKeys(this.tree);
    const fresh = unknown.filter((key) => !this.unknownKeys.has(key.path.join('.')));
    this.unknownKeys = new Set(unknown.map((key) => key.path.join('.')));
    if (fresh.length === 0) return;
    const lines = fresh.map(
      (key) =>
        `  - ${key.path.join('.')} (from ${originOf(this.stack, this.options.serviceName, key.path)}): ${describeUnknown(key)}`,
    );
    this.warn(
      `Unknown settings keys, ignored (system.settings.unknown_keys: error refuses them):\n${lines.join('\n')}`,
    );
  }

  /** The string values of sensitive settings (by schema or by name) and the etcd password, for `maskText`. */
  private collectSecrets(): void {
    this.secretValues.clear();
    const sensitive = this.scopes.sensitivePaths();
    for (const path of sensitive) addSecret(this.secretValues, getAt(this.tree, path));
    for (const [path, value] of leavesOf(this.tree))
      if (isSecretPath(path)) addSecret(this.secretValues, value);
    // Not a setting, but printed nowhere either: an etcd error that quoted it would show it.
    addSecret(this.secretValues, this.etcd?.options.auth?.password);
  }

  private warn(message: string): void {
    warnWith(this.options, message);
  }
}

function warnWith(options: SettingsLoadOptions, message: string): void {
  (options.warn ?? ((text: string) => process.emitWarning(text)))(message);
}

/** A key refused outright (unsafe, malformed): an error in the log, the key ignored. */
function rejectKey(options: SettingsLoadOptions, key: string, message: string): void {
  const error = new SettingsError('SETTINGS_ETCD_KEY', message);
  if (options.onUpdateRejected) options.onUpdateRejected(error);
  else warnWith(options, message);
}

function unknownIssues(
  unknown: readonly UnknownKey[],
  origin: (path: readonly string[]) => string,
): SettingsIssue[] {
  return unknown.map((key) => ({
    path: key.path.join('.'),
    owner: 'keel',
    problem: 'unknown',
    expected: describeUnknown(key),
    origin: origin(key.path),
  }));
}

export function describeUnknown(key: UnknownKey): string {
  return key.closest === undefined
    ? 'no schema declares it'
    : `no schema declares it; did you mean ${key.closest}?`;
}

function addSecret(into: Set<string>, value: unknown): void {
  if (typeof value === 'string' && isSecretValueLength(value)) into.add(value);
}

function internalLayer(tree: SettingsTree): SettingsLayer {
  return layer('internal', tree, (path) => `settings given in code (${path.join('.')})`);
}

function etcdLayer(etcd: EtcdSettingsSource | undefined, tree: SettingsTree): SettingsLayer {
  const prefix = etcd?.options.prefix ?? '';
  return layer('etcd', tree, (path) => `etcd ${keyOfPath(prefix, path)}`);
}

/**
 * The problems a service would find in `tree` as its etcd layer, over its schema defaults, without
 * connecting anywhere: what `keel settings push --service` checks before it writes. `unknown` lists
 * the keys no schema declares (problems too with `system.settings.unknown_keys: error`).
 */
export function checkSettings(options: {
  serviceName: string;
  scopes: readonly SettingsScope[];
  tree: SettingsTree;
  describe: (path: readonly string[]) => string;
}): { issues: SettingsIssue[]; unknown: UnknownKey[] } {
  const scopes = new ScopeSet([...options.scopes, SETTINGS_SCOPE]);
  const stack: LayerStack = {
    defaults: layer('defaults', scopes.defaults(), (path) => `schema default of ${path.join('.')}`),
    file: layer('file', {}),
    etcd: layer('etcd', options.tree, options.describe),
    env: layer('env', {}),
    internal: internalLayer({}),
  };
  const tree = composeLayers(stack, options.serviceName);
  const origin = (path: readonly string[]): string => originOf(stack, options.serviceName, path);
  const unknown = scopes.unknownKeys(tree);
  const issues = scopes.validate(tree, origin);
  if (getAt(tree, ['system', 'settings', 'unknown_keys']) === 'error')
    issues.push(...unknownIssues(unknown, origin));
  return { issues, unknown };
}
