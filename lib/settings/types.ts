/**
 * The contract between the settings layer and the rest of Keel. The container asks the provider
 * for one scope per resource (`system.resources.<name>`) and for Keel's own scopes
 * (`system.lifecycle`, ...); everything below is implemented in this folder.
 */
import type { Schema } from 'convict';
import type { SettingsError } from './errors';

/** A convict schema. `SettingsOf<S>` (in schema.ts) infers the value type from it. */
export type SettingsSchema = Schema<Record<string, unknown>>;

export interface SettingsScope {
  /** Full dotted path of the scope, e.g. `system.resources.http`. */
  path: string;
  /** Who owns it, for error messages: a resource name, or `keel` for the framework's own scopes. */
  owner: string;
  schema?: SettingsSchema;
  /** Rules across keys of the scope, checked once every key of it is valid on its own. */
  rules?: readonly SettingsRule[];
}

/**
 * A rule across keys of one scope that no single key's format can check (`cors.credentials` with
 * `cors.origins: ['*']`): a value that breaks it is refused like a bad key, naming `key`.
 */
export interface SettingsRule<T extends object = object> {
  /** The key reported, dotted and relative to the scope (`cors.credentials`). */
  key: string;
  /** What the key must be, for the message (`false while cors.origins lists '*'`). */
  expected: string;
  /** Whether the scope's whole value breaks the rule. */
  breaks(value: T): boolean;
}

export interface SettingsLoadOptions {
  serviceName: string;
  scopes: SettingsScope[];
  /** Values given in code (`createMicroservice(S, { settings })`, `Test.withSettings`): the highest layer. */
  inline?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  warn?: (message: string) => void;
  /** Progress worth a line in the log: which settings file was read, or where none was found. */
  info?: (message: string) => void;
  /**
   * Every layer read, nothing validated yet, no line logged yet: the merged tree as read, so that
   * logging can take its format from it before the load's own lines and a boot error are written.
   */
  onRead?: (tree: Readonly<Record<string, unknown>>) => void;
  /** A live update (etcd) that failed validation and was not applied; defaults to `warn(error.message)`. */
  onUpdateRejected?: (error: SettingsError) => void;
  /** Aborts the wait for etcd (a signal while starting); `load` then rejects with its reason. */
  signal?: AbortSignal;
}

export type Unsubscribe = () => void;

type KeyOf<T> = keyof T & string;
/** No keys: what a leaf or a list has below it. */
type Leaf = Record<never, never>;
/** A nested settings object under `K`, or `Leaf` for a leaf or a list. */
type Nested<T, K extends keyof T> = T[K] extends readonly unknown[]
  ? Leaf
  : T[K] extends object
    ? T[K]
    : Leaf;
type Depth2<T> = { [K in KeyOf<T>]: `${K}.${KeyOf<Nested<T, K>>}` }[KeyOf<T>];
type Depth3<T> = { [K in KeyOf<T>]: `${K}.${Depth2<Nested<T, K>>}` }[KeyOf<T>];

/**
 * The keys `watch` takes on a view of `T`: `''` (the whole scope), each key, and the dotted paths
 * into nested objects (`'reconnect.max_ms'`, three levels deep). Any string where `T` does not say
 * (an index signature).
 */
export type SettingsPath<T> = string extends keyof T ? string : '' | KeyOf<T> | Depth2<T> | Depth3<T>;

/** The value at a `SettingsPath` of `T`. */
export type SettingsAt<T, P extends string> = P extends ''
  ? T
  : P extends keyof T
    ? T[P]
    : P extends `${infer K}.${infer Rest}`
      ? K extends keyof T
        ? SettingsAt<T[K], Rest>
        : unknown
      : unknown;

export interface SettingsView<T = Record<string, unknown>> {
  /** Full dotted path this view is rooted at. */
  readonly path: string;
  /** The whole validated value of the scope. */
  value(): T;
  get<K extends keyof T & string>(key: K): T[K];
  /** Called with the new and previous value of `key` (a dotted path relative to the view; '' for all). */
  watch<const K extends SettingsPath<T>>(
    key: K,
    callback: (next: SettingsAt<T, K>, previous: SettingsAt<T, K>) => void,
  ): Unsubscribe;
}
