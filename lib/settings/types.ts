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
  /** A live update (etcd) that failed validation and was not applied; defaults to `warn(error.message)`. */
  onUpdateRejected?: (error: SettingsError) => void;
  /** Aborts the wait for etcd (a signal while starting); `load` then rejects with its reason. */
  signal?: AbortSignal;
}

export type Unsubscribe = () => void;

export interface SettingsView<T = Record<string, unknown>> {
  /** Full dotted path this view is rooted at. */
  readonly path: string;
  /** The whole validated value of the scope. */
  value(): T;
  get<K extends keyof T & string>(key: K): T[K];
  /** Called with the new and previous value of `key` (a dotted path relative to the view; '' for all). */
  watch(key: string, callback: (next: unknown, previous: unknown) => void): Unsubscribe;
}
