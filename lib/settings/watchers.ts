import { deepEqual, getAt, splitPath } from './tree';
import type { Unsubscribe } from './types';

export type SettingsCallback = (next: unknown, previous: unknown) => void;

interface WatchedPath {
  readonly segments: readonly string[];
  readonly callbacks: Set<SettingsCallback>;
}

/** Callbacks by full dotted path, called when the effective value at that path changes. */
export class WatchRegistry {
  private readonly byPath = new Map<string, WatchedPath>();

  constructor(private readonly report: (message: string) => void) {}

  add(path: string, callback: SettingsCallback): Unsubscribe {
    let watched = this.byPath.get(path);
    if (watched === undefined) {
      watched = { segments: splitPath(path), callbacks: new Set() };
      this.byPath.set(path, watched);
    }
    watched.callbacks.add(callback);
    const { callbacks } = watched;
    return () => {
      callbacks.delete(callback);
      if (callbacks.size === 0 && this.byPath.get(path)?.callbacks === callbacks) this.byPath.delete(path);
    };
  }

  notify(before: unknown, after: unknown): void {
    const calls: Array<() => void> = [];
    for (const [path, { segments, callbacks }] of this.byPath) {
      const previous = getAt(before, segments);
      const next = getAt(after, segments);
      if (deepEqual(previous, next)) continue;
      for (const callback of callbacks) calls.push(() => this.call(path, callback, next, previous));
    }
    for (const call of calls) call();
  }

  clear(): void {
    this.byPath.clear();
  }

  private call(path: string, callback: SettingsCallback, next: unknown, previous: unknown): void {
    try {
      callback(next, previous);
    } catch (error) {
      this.report(`A settings watcher of "${path}" threw: ${(error as Error).message}`);
    }
  }
}
