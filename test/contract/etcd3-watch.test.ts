// etcd3's watcher request, which the settings watch sets on a disconnect so that it resumes after
// the last revision applied (settings/etcd-source.ts `resumeAfter`): on the pinned version etcd3
// sends that request again when it re-attaches the watcher; through Keel's source, updates made while
// the watch was cut off all arrive, in order, with the fast path and with its fallback forced.
import { WatchBuilder, type Etcd3, type Watcher } from 'etcd3';
import { FALLBACK_WARNING } from '../../lib/internals/reach';
import { createEtcdClient } from '../../lib/settings/etcd-client';
import { etcdOptionsFromEnv } from '../../lib/settings/etcd-options';
import { EtcdSettingsSource, resumeAfter, type EtcdChange } from '../../lib/settings/etcd-source';
import { until } from '../support/async';
import { describeWithEtcd, EtcdCluster } from '../support/etcd';
import { etcdClient, putSetting } from '../support/etcd-client';
import { TcpProxy } from '../support/tcp-proxy';
import { warnings } from '../support/warnings';

const WAIT_MS = 30_000;
let prefixes = 0;

describeWithEtcd("etcd3's watcher request", () => {
  let cluster: EtcdCluster;
  let proxy: TcpProxy;
  let writer: Etcd3;

  beforeAll(async () => {
    cluster = await EtcdCluster.start();
    proxy = await TcpProxy.start(cluster.members[0].endpoint);
    writer = etcdClient(cluster.members);
  });

  afterAll(async () => {
    writer?.close();
    await proxy?.stop();
    await cluster?.stop();
  });

  afterEach(() => {
    proxy.mend();
    jest.restoreAllMocks();
  });

  const options = (prefix: string) =>
    etcdOptionsFromEnv({
      KEEL_ETCD_HOSTS: proxy.endpoint,
      KEEL_ETCD_PREFIX: prefix,
      // One member: a silent one is only called stale, which this test does not look at.
      KEEL_ETCD_STALL_TIMEOUT_MS: '600000',
    })!;

  it('is a plain field with start_revision, which etcd3 sends again when it re-attaches the watcher', async () => {
    const prefix = `contract/watch-${++prefixes}/`;
    const first = await writer.put(`${prefix}k`).value('a').exec();
    const second = await writer.put(`${prefix}k`).value('b').exec();
    const client = await createEtcdClient<Etcd3>(options(prefix));
    const values: string[] = [];
    let disconnects = 0;
    const watcher = client.watch().key(`${prefix}k`).startRevision(second.header.revision).watcher();
    try {
      watcher.on('put', (kv) => values.push(kv.value.toString()));
      // Resume at the first put, before the one already delivered: only the request can say so.
      watcher.on('disconnected', () => {
        disconnects++;
        resumeAfter(watcher, Number(first.header.revision) - 1);
      });
      await until(() => values.length === 1, WAIT_MS, 'the second put');
      expect(Object.getOwnPropertyDescriptor(watcher, 'request')?.value).toHaveProperty('start_revision');
      proxy.cut();
      await until(() => disconnects > 0, WAIT_MS, 'the disconnect');
      proxy.mend();
      await until(() => values.length === 3, WAIT_MS, 'both puts again');
      expect(values).toEqual(['b', 'a', 'b']);
    } finally {
      await watcher.cancel().catch(() => undefined);
      client.close();
    }
  });

  /** Changes of `prefix`n seen through Keel's source across a cut: 1 before, 2..6 while cut off. */
  async function acrossACut(prefix: string): Promise<{ changes: EtcdChange[]; problems: string[] }> {
    await putSetting(writer, prefix, 'n', 0);
    const source = await EtcdSettingsSource.open(options(prefix));
    const changes: EtcdChange[] = [];
    const problems: string[] = [];
    try {
      source.watch({
        onChanges: (batch) => changes.push(...batch),
        onProblem: (line) => problems.push(line),
      });
      await putSetting(writer, prefix, 'n', 1);
      await until(() => changes.length === 1, WAIT_MS, 'the update before the cut');
      proxy.cut();
      await until(() => problems.some((line) => line.includes('disconnected')), WAIT_MS, 'the disconnect');
      for (let value = 2; value <= 6; value++) await putSetting(writer, prefix, 'n', value);
      proxy.mend();
      await until(() => changes.length >= 6, WAIT_MS, 'the updates made while cut off');
      await until(
        () => problems.some((line) => line.includes('resumed after revision')),
        WAIT_MS,
        'the resume',
      );
      return { changes, problems };
    } finally {
      await source.close();
    }
  }

  function expectEveryUpdateOnceInOrder(changes: EtcdChange[]): void {
    expect(changes.map((change) => change.value)).toEqual([1, 2, 3, 4, 5, 6]);
    const revisions = changes.map((change) => change.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(6);
  }

  it('gives every update made while the watch was cut off, once and in order', async () => {
    const made = jest.spyOn(WatchBuilder.prototype, 'watcher');
    const seen = warnings();
    const { changes, problems } = await acrossACut(`contract/watch-${++prefixes}/`);
    seen.stop();
    expectEveryUpdateOnceInOrder(changes);
    expect(problems.filter((line) => line.includes('disconnected'))).toHaveLength(1);
    expect(seen.codes).toEqual([]);
    // etcd3 resumed the one watcher itself.
    expect(made).toHaveBeenCalledTimes(1);
  });

  it('gives the same by a new watcher, said once, when a watcher has no request field to set', async () => {
    const watcher = WatchBuilder.prototype.watcher;
    // As an upgrade that made the request private would leave it: what is read is a copy.
    const made = jest.spyOn(WatchBuilder.prototype, 'watcher').mockImplementation(function (
      this: WatchBuilder,
    ): Watcher {
      const made = watcher.call(this);
      const request = made.request;
      Object.defineProperty(made, 'request', { get: () => ({ ...request }) });
      return made;
    });
    const seen = warnings();
    const { changes, problems } = await acrossACut(`contract/watch-${++prefixes}/`);
    seen.stop();
    expectEveryUpdateOnceInOrder(changes);
    expect(problems.filter((line) => line.includes('disconnected'))).toHaveLength(1);
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
    // The disconnected watcher was left, and at least one new one made after the last revision applied.
    expect(made.mock.calls.length).toBeGreaterThan(1);
  });
});
