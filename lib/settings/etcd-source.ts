import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
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
   * bounded exponential backoff for at most `options.waitMs`; `signal` gives up at once with its reason.
   */
  static async open(options: EtcdConnectionOptions, signal?: AbortSignal): Promise<EtcdSettingsSource> {
    const client = await createEtcdClient(options);
    if (signal?.aborted === true) {
      client.close();
      signal.throwIfAborted();
    }
    // Closing the client fails the call in flight, which may otherwise wait for its own deadline.
    const onAbort = () => client.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    const deadlineAt = Date.now() + options.waitMs;
    let checkKeySeen = options.checkKey === undefined;
    const outcome = await retryUntil(
      deadlineAt,
      async () => {
        if (!checkKeySeen) {
          checkKeySeen = await client
            .get(options.checkKey as string)
            .options(callDeadline(options, deadlineAt))
            .exists();
          if (!checkKeySeen) return NOT_YET;
        }
        return readSnapshot(client, options, deadlineAt);
      },
      { isFatal: (error) => signal?.aborted === true || isAccessDenied(error), signal },
    );
    signal?.removeEventListener('abort', onAbort);
    // Aborted: onAbort closed the client already.
    signal?.throwIfAborted();
    if (outcome.done) return new EtcdSettingsSource(client, options, outcome.value);
    client.close();
    throw openFailure(options, outcome, checkKeySeen);
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
    let outage = false;
    watcher.on('disconnected', (error: Error) => {
      watcher.request.start_revision = this.snapshot.revision + 1;
      if (outage || this.closed) return;
      outage = true;
      listener.onProblem(
        `etcd watch on ${describeHosts(this.options)} disconnected (${error.message}); will resume after revision ${this.snapshot.revision}`,
      );
    });
    watcher.on('connected', () => {
      if (!outage) return;
      outage = false;
      listener.onProblem(
        `etcd watch on ${describeHosts(this.options)} resumed after revision ${this.snapshot.revision}`,
      );
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
    for (const { kv, type } of response.events) {
      const eventRevision = Number(kv.mod_revision);
      if (eventRevision <= this.snapshot.revision) continue;
      revision = Math.max(revision, eventRevision);
      const key = kv.key.toString();
      const text = type === 'Delete' ? undefined : kv.value.toString();
      if (text === undefined) this.snapshot.entries.delete(key);
      else this.snapshot.entries.set(key, text);
      const change = this.change(key, text, eventRevision);
      if (change) changes.push(change);
    }
    this.snapshot.revision = revision;
    if (changes.length > 0) notify(listener, changes);
  }

  /** After etcd cancels a watch (e.g. the resume revision was compacted): diff a fresh read, then watch again. */
  private async resync(listener: EtcdWatchListener): Promise<void> {
    const outcome = await retryUntil(Infinity, async () =>
      this.closed ? undefined : readSnapshot(this.client, this.options, Infinity),
    );
    if (!outcome.done || outcome.value === undefined || this.closed) return;
    const fresh = outcome.value;
    const keys = new Set([...fresh.entries.keys(), ...this.snapshot.entries.keys()]);
    const changes: EtcdChange[] = [];
    for (const key of keys) {
      const text = fresh.entries.get(key);
      const change =
        text === this.snapshot.entries.get(key) ? undefined : this.change(key, text, fresh.revision);
      if (change) changes.push(change);
    }
    this.snapshot = fresh;
    if (changes.length > 0) notify(listener, changes);
    this.watch(listener);
  }

  /** `text` undefined: the key was deleted. Keys outside the settings tree (the prefix itself) give no change. */
  private change(key: string, text: string | undefined, revision: number): EtcdChange | undefined {
    const path = pathOfKey(this.options.prefix, key);
    if (path === undefined) return undefined;
    return { key, path, value: text === undefined ? undefined : decodeValue(text), revision };
  }
}

const ACCESS_DENIED =
  /etcdserver: (authentication failed|permission denied|user name (is empty|not found)|invalid auth token)/;

function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && ACCESS_DENIED.test(error.message);
}

function openFailure(
  options: EtcdConnectionOptions,
  outcome: { lastError?: unknown; answered: boolean },
  checkKeySeen: boolean,
): SettingsError {
  const hosts = describeHosts(options);
  const cause = outcome.lastError instanceof Error ? outcome.lastError.message : String(outcome.lastError);
  if (isAccessDenied(outcome.lastError)) {
    const user = options.auth ? `KEEL_ETCD_USERNAME=${options.auth.username}` : 'KEEL_ETCD_USERNAME unset';
    return new SettingsError(
      'SETTINGS_ETCD_AUTH',
      `etcd at ${hosts} refused access (${user}): ${cause}`,
      [],
      {
        cause: outcome.lastError,
      },
    );
  }
  // Once etcd has answered that the key is absent, running out of time is about the key, not about etcd.
  if (outcome.answered && !checkKeySeen) {
    return new SettingsError(
      'SETTINGS_ETCD_CHECK_KEY',
      `etcd key "${options.checkKey}" (KEEL_ETCD_CHECK_KEY) did not appear on ${hosts} within ${options.waitMs} ms (KEEL_ETCD_WAIT_MS)`,
    );
  }
  return new SettingsError(
    'SETTINGS_ETCD_UNREACHABLE',
    `etcd unreachable at ${hosts} for ${options.waitMs} ms (KEEL_ETCD_WAIT_MS): ${cause}`,
    [],
    { cause: outcome.lastError },
  );
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
