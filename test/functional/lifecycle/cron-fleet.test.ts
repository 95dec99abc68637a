import { EtcdCluster, describeWithEtcd } from '../../support/etcd';
import { etcdClient } from '../../support/etcd-client';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

const PREFIX = 'fleet-test/';
const RAN = /^ran (\S+) by (\S+)$/gm;

/** Every `ran <tick> by <instance>` line of the instances, as [tick, instance]. */
function runsOf(instances: readonly ServiceProcess[]): [string, string][] {
  return instances.flatMap((instance) =>
    [...instance.output().matchAll(RAN)].map((match) => [match[1], match[2]] as [string, string]),
  );
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeWithEtcd("@cron fleet: 'one' across three instances on a real etcd", () => {
  let cluster: EtcdCluster;
  const spawned: ServiceProcess[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
  }, 30_000);

  afterAll(async () => {
    killAll(spawned);
    await cluster?.stop();
  }, 30_000);

  it('each tick runs exactly once in the fleet; SIGKILL the one that ran the last: the next ticks run elsewhere', async () => {
    const instances = [0, 1, 2].map(() =>
      spawnService('test/functional/lifecycle/fixtures/fleet-cron.ts', {
        KEEL_ETCD_HOSTS: cluster.hosts,
        KEEL_ETCD_PREFIX: PREFIX,
        KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
      }),
    );
    spawned.push(...instances);
    await Promise.all(instances.map((instance) => instance.waitFor(/ ready in [\d.]+ ms/, 30_000)));
    // Six ticks once all three are up: every one of them asked for each.
    const readyAt = runsOf(instances).length;
    await waitUntil(() => runsOf(instances).length >= readyAt + 6, 'six ticks');

    const before = runsOf(instances);
    const [, holderId] = before.at(-1)!;
    const holder = instances.find((instance) => instance.output().includes(`by ${holderId}`))!;
    holder.child.kill('SIGKILL');
    await holder.exited;
    // What had run when it was gone: it may have run a tick after `before` was read.
    const atKill = runsOf(instances);
    const lastAtKill = atKill
      .map(([tick]) => tick)
      .sort()
      .at(-1)!;
    await waitUntil(() => runsOf(instances).length >= atKill.length + 4, 'four ticks after the kill');
    await Promise.all(
      instances
        .filter((instance) => instance !== holder)
        .map((instance) => {
          instance.child.kill('SIGTERM');
          return instance.exited;
        }),
    );

    const all = runsOf(instances);
    const ticks = all.map(([tick]) => tick);
    // Never twice.
    expect(new Set(ticks).size).toBe(ticks.length);
    // After the kill, only the others ran.
    const after = all.filter(([tick]) => tick > lastAtKill);
    expect(after.length).toBeGreaterThanOrEqual(4);
    expect(after.every(([, id]) => id !== holderId)).toBe(true);

    // None lost: every second from the first tick to the last was claimed in etcd, and each run
    // is on the record of the instance holding its claim; a tick missing from the logs can only be
    // one the killed instance claimed and died on.
    const client = etcdClient(cluster.members);
    try {
      const claims = await client.getAll().prefix(`${PREFIX}cron/fleet_cron/sweep/`).strings();
      const claimed = new Map(Object.entries(claims).map(([key, id]) => [key.split('/').at(-1)!, id]));
      const sorted = [...ticks].sort();
      for (let t = Date.parse(sorted[0]); t <= Date.parse(sorted.at(-1)!); t += 1000) {
        const tick = new Date(t).toISOString();
        expect([tick, claimed.has(tick)]).toEqual([tick, true]);
        if (!ticks.includes(tick)) expect(claimed.get(tick)).toBe(holderId);
      }
      for (const [tick, id] of all) expect([tick, claimed.get(tick)]).toEqual([tick, id]);
    } finally {
      client.close();
    }
    for (const instance of instances.filter((other) => other !== holder))
      expect(await instance.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
