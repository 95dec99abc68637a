import { SettingsProvider } from '../../../lib/settings';
import { until } from '../../support/async';
import { describeWithEtcd, EtcdCluster, type EtcdMember } from '../../support/etcd';
import { etcdClient, putSetting, putSettingEventually } from '../../support/etcd-client';
import { httpSchema } from '../../unit/settings/schemas';

jest.setTimeout(90_000);

const HTTP = 'system.resources.http';
const PORT = 'system.resources.http.port';

function load(members: readonly EtcdMember[], prefix: string): Promise<SettingsProvider> {
  return SettingsProvider.load({
    serviceName: 'billing',
    scopes: [{ path: HTTP, owner: 'http', schema: httpSchema }],
    env: { KEEL_ETCD_HOSTS: members.map((member) => member.endpoint).join(','), KEEL_ETCD_PREFIX: prefix },
    cwd: __dirname,
    warn: () => undefined,
  });
}

describeWithEtcd('etcd settings layer, three members', () => {
  let cluster: EtcdCluster;
  const closing: Array<{ close(): unknown }> = [];

  beforeEach(async () => {
    cluster = await EtcdCluster.start(3);
  });

  afterEach(async () => {
    await Promise.all(closing.splice(0).map((item) => item.close()));
    await cluster?.stop();
  });

  it('delivers a change made through a survivor after the leader is killed, and keeps reading', async () => {
    const settings = await load(cluster.members, 'keel/');
    closing.push(settings);
    const seen: unknown[] = [];
    settings.watch(PORT, (next) => seen.push(next));
    const leader = await cluster.leader();
    await cluster.kill(leader);
    const survivors = cluster.running();
    const writer = etcdClient(survivors);
    closing.push(writer);
    await putSettingEventually(writer, 'keel/', PORT, 9100);
    await until(() => seen.includes(9100), 30_000, 'the change made after the leader died');
    expect(settings.view(HTTP).get('port')).toBe(9100);
    const reader = await load(cluster.members, 'keel/');
    closing.push(reader);
    expect(reader.view(HTTP).get('port')).toBe(9100);
  });

  it('resumes its watch from the last revision it saw: changes made while disconnected arrive once, in order', async () => {
    const [watched] = cluster.members;
    const settings = await load([watched], 'keel/');
    closing.push(settings);
    const seen: unknown[] = [];
    settings.watch(PORT, (next) => seen.push(next));
    const writer = etcdClient(cluster.members.slice(1));
    closing.push(writer);
    await putSettingEventually(writer, 'keel/', PORT, 1);
    await until(() => seen.length === 1, 10_000, 'the first change');
    await cluster.kill(watched);
    for (const port of [2, 3, 4, 5, 6]) await putSettingEventually(writer, 'keel/', PORT, port);
    await cluster.restart(watched);
    await until(() => seen.length >= 6, 30_000, 'the changes made while the watched member was down');
    await putSettingEventually(writer, 'keel/', PORT, 7);
    await until(() => seen.length >= 7, 10_000, 'a change after the reconnect');
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('reads everything again when the revision to resume from was compacted while it was away', async () => {
    const [watched] = cluster.members;
    const problems: string[] = [];
    const settings = await SettingsProvider.load({
      serviceName: 'billing',
      scopes: [{ path: HTTP, owner: 'http', schema: httpSchema }],
      env: { KEEL_ETCD_HOSTS: watched.endpoint },
      cwd: __dirname,
      warn: (message) => problems.push(message),
    });
    closing.push(settings);
    const seen: unknown[] = [];
    settings.watch(PORT, (next) => seen.push(next));
    settings.watch('system.resources.http.host', (next) => seen.push(next));
    const writer = etcdClient(cluster.members.slice(1));
    closing.push(writer);
    await putSettingEventually(writer, 'keel/', PORT, 1);
    await until(() => seen.length === 1, 10_000, 'the first change');
    await cluster.kill(watched);
    for (const port of [2, 3, 4]) await putSettingEventually(writer, 'keel/', PORT, port);
    await putSetting(writer, 'keel/', 'system.resources.http.host', '10.9.9.9');
    const { header } = await writer.kv.range({ key: Buffer.from('keel/') });
    await writer.kv.compact({ revision: header.revision, physical: true });
    await cluster.restart(watched);
    await until(
      () => settings.get('system.resources.http.host') === '10.9.9.9',
      30_000,
      'the state after the resync',
    );
    expect(settings.view(HTTP).get('port')).toBe(4);
    // The compacted history is gone: the resync applies the current state, one change per differing key.
    expect(seen[0]).toBe(1);
    expect(seen.slice(1)).toHaveLength(2);
    expect(seen.slice(1)).toEqual(expect.arrayContaining([4, '10.9.9.9']));
    expect(problems.some((message) => message.includes('reading it again'))).toBe(true);
  });
});
