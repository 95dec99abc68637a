import type { Etcd3 } from 'etcd3';
import { Discovery, type App } from '../../../lib';
import { until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient } from '../../support/etcd-client';
import { killAll } from '../../support/process';
import { startCaller, startInstance, TTL_S, waitForInstances, type Instance } from './helpers';

jest.setTimeout(120_000);

const PREFIX = 'keel-registry/greeter/';

describeWithEtcd('the service registry on a 3-member etcd cluster', () => {
  let cluster: EtcdCluster;
  let reader: Etcd3;
  let instances: Instance[] = [];
  let caller: App;
  let discovery: Discovery;

  /** Instance ids in etcd, read from any member that answers. */
  async function stored(): Promise<string[]> {
    const keys = await reader.getAll().prefix(PREFIX).keys();
    return keys.map((key) => key.slice(PREFIX.length)).sort();
  }

  function cached(): string[] {
    return discovery
      .instances('greeter')
      .map((entry) => entry.instance_id)
      .sort();
  }

  beforeAll(async () => {
    cluster = await EtcdCluster.start(3);
    reader = etcdClient(cluster.members);
    instances = await Promise.all([0, 1].map(() => startInstance(cluster.hosts)));
    caller = await startCaller(cluster.hosts);
    discovery = caller.get(Discovery);
    await waitForInstances(discovery, 2);
  });

  afterAll(async () => {
    killAll(instances.map((instance) => instance.process));
    await caller?.stop();
    reader?.close();
    await cluster?.stop();
  });

  it('keeps registrations and the discovery cache correct when the leader is SIGKILLed', async () => {
    const before = cached();
    const leader = await cluster.leader();
    await cluster.kill(leader);
    try {
      await survivesLeaderLoss(before);
    } finally {
      // The next test needs all three members, whatever this one found.
      await cluster.restart(leader);
    }
  });

  async function survivesLeaderLoss(before: string[]): Promise<void> {
    // Past one TTL: leases were kept alive through the election, or the entries would be gone.
    await new Promise((resolve) => setTimeout(resolve, (TTL_S + 1) * 1000));
    expect(await stored()).toEqual(before);
    expect(cached()).toEqual(before);
    // The watch still delivers: a new instance appears, a stopped one leaves.
    const third = await startInstance(cluster.hosts);
    instances.push(third);
    await waitForInstances(discovery, 3);
    expect(cached()).toEqual(await stored());
    third.process.child.kill('SIGTERM');
    await third.process.exited;
    await waitForInstances(discovery, 2);
    expect(cached()).toEqual(before);
    for (const instance of instances) expect(instance.process.output()).not.toMatch(/degraded:/);
  }

  it('registers again when every member was down longer than the TTL, and the cache converges', async () => {
    const live = cached();
    await Promise.all(cluster.members.map((member) => cluster.kill(member)));
    await Promise.all(
      instances
        .slice(0, 2)
        .map((instance) => instance.process.waitFor(/degraded: .*registering again/, 20_000)),
    );
    const registryRow = async () => {
      const report = (await (await fetch(`http://127.0.0.1:${instances[0].reportPort}/status`)).json()) as {
        resources: { name: string; status: string; statusText?: string }[];
      };
      return report.resources.find((row) => row.name === 'registry');
    };
    const row = await registryRow();
    expect({ row, output: row?.status === 'CONNECTING' ? '' : instances[0].process.output() }).toMatchObject({
      row: { status: 'CONNECTING', statusText: expect.stringContaining('degraded') },
      output: '',
    });
    await Promise.all(cluster.members.map((member) => cluster.restart(member)));
    await Promise.all(
      instances.slice(0, 2).map((instance) => instance.process.waitFor(/registered again as /, 30_000)),
    );
    await until(() => cached().join() === live.join(), 20_000, 'the discovery cache to hold both instances');
    // Old leases survive a full restart for one more TTL; once they expire the entries must stay.
    await new Promise((resolve) => setTimeout(resolve, (TTL_S + 1) * 1000));
    expect(await stored()).toEqual(live);
    expect(cached()).toEqual(live);
  });
});
