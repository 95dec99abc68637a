import { EtcdSettingsSource, type EtcdChange } from './etcd-source';
import { keyOfPath } from './etcd-keys';
import { etcdOptionsFromEnv } from './etcd-options';
import { readEnvLayer } from './env-layer';
import { issuesError, SettingsError, type SettingsIssue } from './errors';
import { readFileLayer } from './file-layer';
import { composeLayers, layer, originOf, type LayerStack, type SettingsLayer } from './layers';
import { showValue } from './redact';
import { ScopeSet } from './scopes';
import {
  cloneTree,
  deepEqual,
  deepFreeze,
  deepMerge,
  deleteAt,
  getAt,
  setAt,
  splitPath,
  type SettingsTree,
} from './tree';
import { ScopedView } from './view';
import { WatchRegistry } from './watchers';
import type { SettingsLoadOptions, SettingsView, Unsubscribe } from './types';

/**
 * The one settings tree of a service, merged from its layers (schema defaults, file, etcd,
 * environment, values given in code), validated scope by scope, and kept current at run time.
 */
export class SettingsProvider {
  private tree: SettingsTree;
  private readonly views = new Map<string, ScopedView<unknown>>();
  private readonly watchers: WatchRegistry;
  private unknownKeys = new Set<string>();
  private closed = false;

  private constructor(
    private readonly options: SettingsLoadOptions,
    private readonly scopes: ScopeSet,
    private stack: LayerStack,
    private readonly etcd: EtcdSettingsSource | undefined,
  ) {
    this.tree = deepFreeze(composeLayers(stack, options.serviceName));
    this.watchers = new WatchRegistry((message) => this.warn(message));
  }

  /** Reads every layer and validates every scope at once; rejects with all problems in one `SettingsError`. */
  static async load(options: SettingsLoadOptions): Promise<SettingsProvider> {
    const env = options.env ?? process.env;
    const cwd = options.cwd ?? process.cwd();
    const scopes = new ScopeSet(options.scopes);
    const file = readFileLayer(env, cwd);
    const etcdOptions = etcdOptionsFromEnv(env);
    const etcd =
      etcdOptions === undefined ? undefined : await EtcdSettingsSource.open(etcdOptions, options.signal);
    try {
      const stack: LayerStack = {
        defaults: layer('defaults', scopes.defaults(), (path) => `schema default of ${path.join('.')}`),
        file: file ?? layer('file', {}),
        etcd: etcdLayer(etcd, etcd?.tree() ?? {}),
        env: readEnvLayer(env, (path, raw) => scopes.resolveEnvPath(path, raw)),
        internal: internalLayer(cloneTree(options.inline ?? {})),
      };
      const provider = new SettingsProvider(options, scopes, stack, etcd);
      const issues = scopes.validate(provider.tree, (path) => originOf(stack, options.serviceName, path));
      if (issues.length > 0)
        throw issuesError(
          'SETTINGS_INVALID',
          `Invalid settings for service "${options.serviceName}"`,
          issues,
        );
      provider.warnAboutUnknownKeys();
      etcd?.watch({
        onChanges: (changes) => provider.applyEtcdChanges(changes),
        onProblem: (message) => provider.warn(message),
      });
      return provider;
    } catch (error) {
      await etcd?.close();
      throw error;
    }
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
    const merged = deepMerge(this.stack.internal.tree, cloneTree(partial));
    const issues = this.commit({ ...this.stack, internal: internalLayer(merged) });
    if (issues.length > 0)
      throw issuesError('SETTINGS_UPDATE_REJECTED', 'Rejected settings.updateInternal()', issues);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    await this.etcd?.close();
  }

  private applyEtcdChanges(changes: readonly EtcdChange[]): void {
    for (const change of changes) {
      if (this.closed) return;
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
    const issues = this.scopes.validate(
      tree,
      (path) => originOf(next, this.options.serviceName, path),
      changedScope,
    );
    if (issues.length > 0) return issues;
    this.stack = next;
    this.tree = tree;
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

  private warnAboutUnknownKeys(): void {
    const unknown = this.scopes.unknownKeys(this.tree);
    const fresh = unknown.filter((key) => !this.unknownKeys.has(key));
    this.unknownKeys = new Set(unknown);
    if (fresh.length > 0)
      this.warn(`Unknown settings keys (no schema declares them, ignored): ${fresh.join(', ')}`);
  }

  private warn(message: string): void {
    (this.options.warn ?? ((text: string) => process.emitWarning(text)))(message);
  }
}

function internalLayer(tree: SettingsTree): SettingsLayer {
  return layer('internal', tree, (path) => `settings given in code (${path.join('.')})`);
}

function etcdLayer(etcd: EtcdSettingsSource | undefined, tree: SettingsTree): SettingsLayer {
  const prefix = etcd?.options.prefix ?? '';
  return layer('etcd', tree, (path) => `etcd ${keyOfPath(prefix, path)}`);
}
