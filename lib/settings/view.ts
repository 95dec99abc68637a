import { getAt, type SettingsTree } from './tree';
import type { SettingsAt, SettingsPath, SettingsView, Unsubscribe } from './types';
import type { SettingsCallback } from './watchers';

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * A view keeps the current value of its scope, replaced (already frozen) by the provider on every
 * accepted change, so `get` is one property read with no merging or copying.
 */
export class ScopedView<T> implements SettingsView<T> {
  private current: T;

  constructor(
    readonly path: string,
    private readonly segments: readonly string[],
    tree: SettingsTree,
    private readonly subscribe: (path: string, callback: SettingsCallback) => Unsubscribe,
  ) {
    this.current = this.valueIn(tree);
  }

  value(): T {
    return this.current;
  }

  get<K extends keyof T & string>(key: K): T[K] {
    return this.current[key];
  }

  watch<const K extends SettingsPath<T>>(
    key: K,
    callback: (next: SettingsAt<T, K>, previous: SettingsAt<T, K>) => void,
  ): Unsubscribe {
    const path = [this.path, key].filter((part) => part !== '').join('.');
    return this.subscribe(path, callback as (next: unknown, previous: unknown) => void);
  }

  /** Called by the provider after it accepted a new tree. */
  refresh(tree: SettingsTree): void {
    this.current = this.valueIn(tree);
  }

  private valueIn(tree: SettingsTree): T {
    return (getAt(tree, this.segments) ?? EMPTY) as T;
  }
}
