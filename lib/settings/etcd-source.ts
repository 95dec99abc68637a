import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { fallbackTaken } from '../internals/reach';
import { Backoff } from '../resilience/backoff';
import { cockatiel } from '../resilience/cockatiel';
import { NOT_YET, retryUntil } from '../resilience/retry-until';
import { callDeadline, createEtcdClient, describeHosts, WATCH_RECONNECT_MAX_MS } from './etcd-client';
import { decodeValue, MALFORMED, malformedKeyMessage, pathOfKey, treeFromEntries } from './etcd-keys';
import type { EtcdConnectionOptions } from './etcd-options';
import { SettingsError } from './errors';
import type { SettingsTree } from './tree';
import { messageOf } from '../util';

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
  /** A key under the prefix that names no setting (`a//b`): ignored. */
  onRefusedKey?(key: string, message: string): void;
}

/** How current the watched settings are: what `/status` and the staleness gauge show. */
export interface EtcdWatchHealth {
  /** The member serving the watch. */
  member: string;
  /** Last revision applied. */
  revision: number;
  /** Seconds since the serving member last answered (a change or a liveness probe). */
  staleness_s: number;
  /** The serving member has not answered within `KEEL_ETCD_STALL_TIMEOUT_MS`. */
  stale: boolean;
}

/** Called with each progress line while `open` waits for etcd. */
export type EtcdProgress = (message: string) => void;

/** While waiting at boot, one line this often, rather than silence for the whole KEEL_ETCD_WAIT_MS. */
const PROGRESS_INTERVAL_MS = 3_000;

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
  /** A client of the one member serving the watch, so a liveness probe asks that member. */
  private watchClient: Etcd3 | undefined;
  private memberIndex = 0;
  private lastAnswerAt = Date.now();
  private stale = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private listener: EtcdWatchListener | undefined;
  private closed = false;
  /** A watch being made again by hand after a disconnect (when etcd3's watcher cannot be told where to resume). */
  private rewatchTimer: NodeJS.Timeout | undefined;
  private readonly rewatchBackoff = new Backoff({ initialMs: 100, maxMs: WATCH_RECONNECT_MAX_MS });

  private constructor(
    private readonly client: Etcd3,
    readonly options: EtcdConnectionOptions,
    private snapshot: Snapshot,
  ) {}

  /**
   * Connects, waits for the check key if one is configured, and reads the snapshot, retrying with
   * bounded exponential backoff for at most `options.waitMs`; `signal` gives up at once with its reason.
   */
  static async open(
    options: EtcdConnectionOptions,
    progress: EtcdProgress = () => undefined,
    signal?: AbortSignal,
  ): Promise<EtcdSettingsSource> {
    const client = await createEtcdClient<Etcd3>(options);
    if (signal?.aborted === true) {
      client.close();
      signal.throwIfAborted();
    }
    // Closing the client fails the call in flight, which may otherwise wait for its own deadline.
    const onAbort = () => client.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    const startedAt = Date.now();
    const deadlineAt = startedAt + options.waitMs;
    let checkKeySeen = options.checkKey === undefined;
    let reportedAt = startedAt;
    const onRetry = (attempt: number, delayMs: number, lastError: unknown): void => {
      const now = Date.now();
      if (now - reportedAt < PROGRESS_INTERVAL_MS) return;
      reportedAt = now;
      const cause =
        lastError === undefined
          ? `key ${options.checkKey} (KEEL_ETCD_CHECK_KEY) not there yet`
          : messageOf(lastError);
      progress(
        `waiting for etcd at ${describeHosts(options)}: attempt ${attempt} failed (${cause}); next attempt in ${delayMs} ms, giving up in ${Math.max(0, Math.round((deadlineAt - now) / 1000))} s (KEEL_ETCD_WAIT_MS)`,
      );
    };
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
      {
        isFatal: (error) => signal?.aborted === true || isAccessDenied(error),
        isNoAttempt: isBrokenCircuit,
        onRetry,
        signal,
      },
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

  /** The settings of the snapshot; each malformed key is left out and passed to `onMalformed`. */
  tree(onMalformed?: (key: string, message: string) => void): SettingsTree {
    return treeFromEntries(this.options.prefix, this.snapshot.entries, (key) =>
      onMalformed?.(key, malformedKeyMessage(key)),
    );
  }

  health(): EtcdWatchHealth {
    return {
      member: this.options.hosts[this.memberIndex],
      revision: this.snapshot.revision,
      staleness_s: (Date.now() - this.lastAnswerAt) / 1000,
      stale: this.stale,
    };
  }

  /**
   * Starts delivering every change after the snapshot, from one member at a time. A probe asks that
   * member for its status every third of `stallTimeoutMs`: a member that stops answering (frozen,
   * partitioned) keeps its TCP connection open and its watch silent, which no stream error reveals.
   * Without an answer within two thirds of it, the watch moves to the next member and resumes after
   * the last revision applied.
   */
  watch(listener: EtcdWatchListener): void {
    this.listener = listener;
    this.lastAnswerAt = Date.now();
    void this.watchMember(listener);
    this.scheduleProbe();
  }

  private answered(): void {
    this.lastAnswerAt = Date.now();
    this.stale = false;
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.options.stallTimeoutMs / 3);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const client = this.watchClient;
    const listener = this.listener;
    if (this.closed || client === undefined || listener === undefined) return;
    try {
      await client.maintenance.status({
        deadline: new Date(Date.now() + (this.options.stallTimeoutMs * 2) / 3),
      });
      if (this.stale && !this.closed)
        listener.onProblem(`etcd member ${this.health().member} answers again; settings are current`);
      this.answered();
    } catch (error) {
      if (this.closed || client !== this.watchClient) return;
      const member = this.health().member;
      if (this.options.hosts.length > 1) {
        this.memberIndex = (this.memberIndex + 1) % this.options.hosts.length;
        listener.onProblem(
          `etcd member ${member} serving the settings watch did not answer within ${this.options.stallTimeoutMs} ms (${messageOf(error)}); watching from ${this.health().member} after revision ${this.snapshot.revision}`,
        );
        await this.watchMember(listener);
      } else if (!this.stale) {
        listener.onProblem(
          `etcd member ${member} serving the settings watch did not answer within ${this.options.stallTimeoutMs} ms (${messageOf(error)}); settings may be stale after revision ${this.snapshot.revision}`,
        );
      }
      this.stale = Date.now() - this.lastAnswerAt >= this.options.stallTimeoutMs;
    }
    this.scheduleProbe();
  }

  /** Closes the watch on the previous member, if any, and watches on `hosts[memberIndex]`. */
  private async watchMember(listener: EtcdWatchListener): Promise<void> {
    const previousClient = this.watchClient;
    this.dropWatcher();
    previousClient?.close();
    const client = await createEtcdClient<Etcd3>({
      ...this.options,
      hosts: [this.options.hosts[this.memberIndex]],
    });
    if (this.closed) {
      client.close();
      return;
    }
    this.watchClient = client;
    this.watchFrom(client, listener, false);
  }

  /** Stops the current watcher, if any, and a pending rewatch: no event of it is delivered after this. */
  private dropWatcher(): void {
    clearTimeout(this.rewatchTimer);
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher === undefined) return;
    watcher.removeAllListeners().on('error', () => undefined);
    // Marks it cancelled, so etcd3 does not watch it again once the closed stream fails; a
    // frozen member never confirms, and closing the client drops its connection without it.
    watcher.cancel().catch(() => undefined);
  }

  /** A watcher on `client` of every change after the last one applied; `outage`: a disconnect not yet followed by a reconnect. */
  private watchFrom(client: Etcd3, listener: EtcdWatchListener, outage: boolean): void {
    const watcher = client
      .watch()
      .prefix(this.options.prefix)
      .startRevision(String(this.snapshot.revision + 1))
      .watcher();
    this.watcher = watcher;
    watcher.on('data', (response) => {
      this.answered();
      this.deliver(response, listener);
    });
    watcher.on('disconnected', (error: Error) => {
      if (this.closed || watcher !== this.watcher) return;
      if (!resumeAfter(watcher, this.snapshot.revision)) this.rewatch(client, listener);
      if (outage) return;
      outage = true;
      listener.onProblem(
        `etcd watch on ${describeHosts(this.options)} disconnected (${error.message}); will resume after revision ${this.snapshot.revision}`,
      );
    });
    watcher.on('connected', () => {
      this.answered();
      this.rewatchBackoff.reset();
      if (!outage) return;
      outage = false;
      listener.onProblem(
        `etcd watch on ${describeHosts(this.options)} resumed after revision ${this.snapshot.revision}`,
      );
    });
    watcher.on('error', (error: Error) => {
      if (this.closed || watcher !== this.watcher) return;
      listener.onProblem(`etcd watch on ${this.options.prefix} failed (${error.message}); reading it again`);
      void this.resync(listener);
    });
  }

  /**
   * The fallback of `resumeAfter`: etcd3 would resume the disconnected watcher where it chooses, so
   * it is cancelled (not connected: etcd3 just forgets it) and a new one made on the same client,
   * after the last revision applied, once the backoff's delay has passed (its stream fails at once
   * while etcd is away).
   */
  private rewatch(client: Etcd3, listener: EtcdWatchListener): void {
    this.dropWatcher();
    this.rewatchTimer = setTimeout(() => {
      if (!this.closed && client === this.watchClient) this.watchFrom(client, listener, true);
    }, this.rewatchBackoff.next());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    clearTimeout(this.rewatchTimer);
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) await Promise.race([watcher.cancel(), new Promise((resolve) => setTimeout(resolve, 500))]);
    this.watchClient?.close();
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
      const change = this.change(key, text, eventRevision, listener);
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
        text === this.snapshot.entries.get(key)
          ? undefined
          : this.change(key, text, fresh.revision, listener);
      if (change) changes.push(change);
    }
    this.snapshot = fresh;
    if (changes.length > 0) notify(listener, changes);
    await this.watchMember(listener);
  }

  /** `text` undefined: the key was deleted. Keys outside the settings tree (the prefix itself) give no change. */
  private change(
    key: string,
    text: string | undefined,
    revision: number,
    listener: EtcdWatchListener,
  ): EtcdChange | undefined {
    const path = pathOfKey(this.options.prefix, key);
    if (path === MALFORMED) {
      if (text !== undefined) listener.onRefusedKey?.(key, malformedKeyMessage(key));
      return undefined;
    }
    if (path === undefined) return undefined;
    return { key, path, value: text === undefined ? undefined : decodeValue(text), revision };
  }
}

const REACH = "etcd3's watcher request (lib/settings/etcd-source.ts)";

/**
 * Has etcd3 resume `watcher`, once its stream is back, after `revision`. etcd3 would resume from
 * the revision in the last response header, which can be past events it never delivered (Tamarco
 * lost updates this way). etcd3 1.1 sends `watcher.request` again when it re-attaches a watcher,
 * so its `start_revision` is set here; false (said once) when the watcher has no such plain field,
 * and the caller makes a new watcher instead. `test/contract/etcd3-watch.test.ts` checks etcd3
 * sends what is set, and that updates made while disconnected arrive, in order, both ways.
 */
export function resumeAfter(watcher: object, revision: number): boolean {
  // `object`, not etcd3's Watcher: these declarations must compile in a project without etcd3.
  const request = Object.getOwnPropertyDescriptor(watcher, 'request')?.value as
    { start_revision?: number | string } | undefined;
  if (typeof request !== 'object' || request === null || !('start_revision' in request)) {
    fallbackTaken(REACH, 'a watcher has no request field with a start_revision');
    return false;
  }
  request.start_revision = revision + 1;
  return true;
}

const ACCESS_DENIED =
  /etcdserver: (authentication failed|permission denied|user name (is empty|not found)|invalid auth token)/;

/**
 * etcd3 refuses calls to a host for a while after failures: that says nothing about why they failed.
 * Told by cockatiel's own predicate (a flag on the error, so etcd3's copy of cockatiel is recognised
 * by Keel's), not by its message.
 */
export function isBrokenCircuit(error: unknown): boolean {
  return cockatiel().isBrokenCircuitError(error);
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && ACCESS_DENIED.test(error.message);
}

function openFailure(
  options: EtcdConnectionOptions,
  outcome: { lastError?: unknown; answered: boolean },
  checkKeySeen: boolean,
): SettingsError {
  const hosts = describeHosts(options);
  const cause = messageOf(outcome.lastError);
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
