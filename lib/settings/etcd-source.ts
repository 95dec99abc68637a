import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { NOT_YET, retryUntil } from './backoff';
import { callDeadline, createEtcdClient, describeHosts } from './etcd-client';
import { decodeValue, pathOfKey, treeFromEntries } from './etcd-keys';
import type { EtcdConnectionOptions } from './etcd-options';
import { SettingsError } from './errors';
import type { SettingsTree } from './tree';

export interface EtcdChange {
  key: string;
  path: string[];
  /** The new value; undefined when the key was deleted. */
  value: unknown;
  revision: number;
}

export interface EtcdWatchListener {
  /** Changes in revision order, each delivered exactly once. */
  onChanges(changes: EtcdChange[]): void;
  onProblem(message: string): void;
}

interface Snapshot {
  entries: Map<string, string>;
  revision: number;
}

/**
 * The settings stored in etcd under one prefix: a snapshot read at boot and a watch that resumes
 * from the last revision it delivered, so reconnects neither lose nor repeat a change.
 */
export class EtcdSettingsSource {
  private watcher: Watcher | undefined;
  private closed = false;

  private constructor(
    private readonly client: Etcd3,
    readonly options: EtcdConnectionOptions,
    private snapshot: Snapshot,
  ) {}

  /**
   * Connects, waits for the check key if one is configured, and reads the snapshot, retrying with
   * bounded exponential backoff for at most `options.waitMs`.
   */
  static async open(options: EtcdConnectionOptions): Promise<EtcdSettingsSource> {
    const client = await createEtcdClient(options);
    const deadlineAt = Date.now() + options.waitMs;
    let checkKeySeen = options.checkKey === undefined;
    const outcome = await retryUntil(deadlineAt, async () => {
      if (!checkKeySeen) {
        checkKeySeen = await client
          .get(options.checkKey as string)
          .options(callDeadline(options, deadlineAt))
          .exists();
        if (!checkKeySeen) return NOT_YET;
      }
      return readSnapshot(client, options, deadlineAt);
    });
    if (outcome.done) return new EtcdSettingsSource(client, options, outcome.value);
    client.close();
    if (outcome.lastError !== undefined) {
      const cause = (outcome.lastError as Error).message ?? String(outcome.lastError);
      throw new SettingsError(
        'SETTINGS_ETCD_UNREACHABLE',
        `etcd unreachable at ${describeHosts(options)} for ${options.waitMs} ms (KEEL_ETCD_WAIT_MS): ${cause}`,
        [],
        { cause: outcome.lastError },
      );
    }
    throw new SettingsError(
      'SETTINGS_ETCD_CHECK_KEY',
      `etcd key "${options.checkKey}" (KEEL_ETCD_CHECK_KEY) did not appear on ${describeHosts(options)} within ${options.waitMs} ms (KEEL_ETCD_WAIT_MS)`,
    );
  }

  get revision(): number {
    return this.snapshot.revision;
  }

  tree(): SettingsTree {
    return treeFromEntries(this.options.prefix, this.snapshot.entries);
  }

  /** Starts delivering every change after the snapshot. */
  watch(listener: EtcdWatchListener): void {
    const watcher = this.client
      .watch()
      .prefix(this.options.prefix)
      .startRevision(String(this.snapshot.revision + 1))
      .watcher();
    this.watcher = watcher;
    watcher.on('data', (response) => this.deliver(response, listener));
    // etcd3 would resume from the revision in the last response header, which can be past events
    // it never delivered (Tamarco lost updates this way); resume from the last one we applied.
    watcher.on('disconnected', () => {
      watcher.request.start_revision = this.snapshot.revision + 1;
    });
    watcher.on('error', (error: Error) => {
      if (this.closed) return;
      listener.onProblem(`etcd watch on ${this.options.prefix} failed (${error.message}); reading it again`);
      void this.resync(listener);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) await Promise.race([watcher.cancel(), new Promise((resolve) => setTimeout(resolve, 500))]);
    this.client.close();
  }

  private deliver(response: IWatchResponse, listener: EtcdWatchListener): void {
    const changes: EtcdChange[] = [];
    let revision = this.snapshot.revision;
    for (const event of response.events) {
      const eventRevision = Number(event.kv.mod_revision);
      if (eventRevision <= this.snapshot.revision) continue;
      revision = Math.max(revision, eventRevision);
      const change = this.record(event.kv, event.type === 'Delete', eventRevision);
      if (change) changes.push(change);
    }
    this.snapshot.revision = revision;
    if (changes.length > 0) notify(listener, changes);
  }

  private record(kv: IKeyValue, deleted: boolean, revision: number): EtcdChange | undefined {
    const key = kv.key.toString();
    const path = pathOfKey(this.options.prefix, key);
    if (path === undefined) return undefined;
    const text = kv.value.toString();
    if (deleted) this.snapshot.entries.delete(key);
    else this.snapshot.entries.set(key, text);
    return { key, path, value: deleted ? undefined : decodeValue(text), revision };
  }

  /** After etcd cancels a watch (e.g. the resume revision was compacted): diff a fresh read, then watch again. */
  private async resync(listener: EtcdWatchListener): Promise<void> {
    const outcome = await retryUntil(Infinity, async () =>
      this.closed ? undefined : readSnapshot(this.client, this.options, Infinity),
    );
    if (!outcome.done || outcome.value === undefined || this.closed) return;
    const fresh = outcome.value;
    const changes: EtcdChange[] = [];
    for (const [key, text] of fresh.entries) {
      if (this.snapshot.entries.get(key) !== text)
        changes.push(this.change(key, decodeValue(text), fresh.revision));
    }
    for (const key of this.snapshot.entries.keys()) {
      if (!fresh.entries.has(key)) changes.push(this.change(key, undefined, fresh.revision));
    }
    this.snapshot = fresh;
    if (changes.length > 0) notify(listener, changes);
    this.watch(listener);
  }

  private change(key: string, value: unknown, revision: number): EtcdChange {
    return { key, path: pathOfKey(this.options.prefix, key) ?? [], value, revision };
  }
}

function notify(listener: EtcdWatchListener, changes: EtcdChange[]): void {
  try {
    listener.onChanges(changes);
  } catch (error) {
    // etcd3 rethrows listener errors outside any handler, which would end the process.
    listener.onProblem(`settings change handler failed: ${(error as Error).message}`);
  }
}

async function readSnapshot(
  client: Etcd3,
  options: EtcdConnectionOptions,
  deadlineAt: number,
): Promise<Snapshot> {
  const response = await client
    .getAll()
    .prefix(options.prefix)
    .options(callDeadline(options, deadlineAt))
    .exec();
  const entries = new Map(
    response.kvs.map((kv): [string, string] => [kv.key.toString(), kv.value.toString()]),
  );
  return { entries, revision: Number(response.header.revision) };
}
