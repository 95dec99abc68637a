import type { Etcd3 } from 'etcd3';
import { Discovery, HttpClientResource } from '../../lib';
import { until } from '../support/async';
import { EtcdCluster } from '../support/etcd';
import { etcdClient } from '../support/etcd-client';
import { killAll } from '../support/process';
import { startCaller, startInstance, TTL_S, type Instance } from '../functional/registry/helpers';
import { median } from './support/measure';
import { fixed, markdownTable, times } from './support/table';
import { loadAverage } from './fixtures/http-processes';

const ROUNDS = Number(process.env.REGISTRY_BENCH_ROUNDS ?? 3);

function instanceIdOf(instance: Instance): string {
  return /"instance_id":"([^"]+)"/.exec(instance.process.output())![1];
}

/** When the instance logged its deregistration, from the record's own time. */
function deregisteredAt(instance: Instance): number {
  const line = instance.process
    .output()
    .split('\n')
    .find((text) => text.includes('"msg":"deregistered keel-registry/'));
  return Date.parse((JSON.parse(line!) as { time: string }).time);
}

/** Raw etcd3, the floor: a key on a lease whose keep-alive stops, seen gone by a watch. */
async function rawLeaseExpiry(client: Etcd3, round: number): Promise<number> {
  const key = `bench/raw/${round}`;
  const watcher = await client.watch().key(key).create();
  const gone = new Promise<number>((resolve) => watcher.once('delete', () => resolve(Date.now())));
  const lease = client.lease(TTL_S);
  await lease.put(key).value('x');
  await lease.keepaliveOnce();
  lease.release();
  const releasedAt = Date.now();
  const removedAt = await gone;
  await watcher.cancel();
  return removedAt - releasedAt;
}

/** Raw etcd3, the floor: a delete, seen by a watch. */
async function rawDeleteSeen(client: Etcd3, round: number): Promise<number> {
  const key = `bench/raw-delete/${round}`;
  await client.put(key).value('x');
  const watcher = await client.watch().key(key).create();
  const gone = new Promise<number>((resolve) => watcher.once('delete', () => resolve(Date.now())));
  const deletedAt = Date.now();
  await client.delete().key(key);
  const seenAt = await gone;
  await watcher.cancel();
  return seenAt - deletedAt;
}

/**
 * The registry's two times against raw etcd3 in the same run: from SIGKILL of an instance to its
 * removal from a peer's Discovery cache (floor: a raw lease left to expire, seen by a raw watch),
 * and from an instance's deregistration (SIGTERM; the time its "deregistered" record carries, once
 * the revoke returned) to the last request a busy peer sends it (floor: a raw delete seen by a raw
 * watch); negative when the peer's last request to it left before the revoke returned. A failed
 * request fails the bench. TTL 2 s.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const cluster = await EtcdCluster.start(1);
  const raw = etcdClient(cluster.members);
  const instances: Instance[] = [];
  const caller = await startCaller(cluster.hosts);
  const discovery = caller.get(Discovery);
  const client = caller.get(HttpClientResource);
  const killToRemoval: number[] = [];
  const rawExpiry: number[] = [];
  const deregistrationToLastRequest: number[] = [];
  const rawDelete: number[] = [];
  try {
    instances.push(await startInstance(cluster.hosts));
    for (let round = 0; round < ROUNDS; round++) {
      rawExpiry.push(await rawLeaseExpiry(raw, round));
      rawDelete.push(await rawDeleteSeen(raw, round));

      const victim = await startInstance(cluster.hosts);
      instances.push(victim);
      const id = instanceIdOf(victim);
      await until(() => discovery.instances('greeter').some((entry) => entry.instance_id === id), 10_000);
      const killedAt = Date.now();
      victim.process.child.kill('SIGKILL');
      await until(() => !discovery.instances('greeter').some((entry) => entry.instance_id === id), 30_000);
      killToRemoval.push(Date.now() - killedAt);

      const leaving = await startInstance(cluster.hosts);
      instances.push(leaving);
      const leavingId = instanceIdOf(leaving);
      await until(
        () => discovery.instances('greeter').some((entry) => entry.instance_id === leavingId),
        10_000,
      );
      let lastSent = 0;
      let busy = true;
      const worker = async (): Promise<void> => {
        while (busy) {
          const sentAt = Date.now();
          const response = await client.get('/hello');
          const body = (await response.json()) as { instance_id: string };
          if (body.instance_id === leavingId) lastSent = Math.max(lastSent, sentAt);
        }
      };
      const workers = [worker(), worker()];
      await new Promise((resolve) => setTimeout(resolve, 300));
      leaving.process.child.kill('SIGTERM');
      await leaving.process.exited;
      busy = false;
      await Promise.all(workers);
      deregistrationToLastRequest.push(lastSent - deregisteredAt(leaving));
    }
  } finally {
    killAll(instances.map((instance) => instance.process));
    await caller.stop();
    raw.close();
    await cluster.stop();
  }
  const rows = [
    [
      'SIGKILL → removal from a peer’s Discovery',
      killToRemoval,
      rawExpiry,
      'raw lease left to expire → raw watch',
    ],
    [
      'deregistration → last request a busy peer sends it',
      deregistrationToLastRequest,
      rawDelete,
      'raw delete → raw watch',
    ],
  ] as const;
  console.log(`## Registry: times with ttl_s ${TTL_S}, ${ROUNDS} rounds, one etcd member\n`);
  console.log(
    markdownTable(
      ['measure', 'ms (median)', 'ms (each round)', 'floor', 'floor ms (median)', 'vs floor'],
      rows.map(([name, keel, floor, floorName]) => [
        name,
        fixed(median([...keel]), 0),
        keel.map((value) => fixed(value, 0)).join(', '),
        floorName,
        fixed(median([...floor]), 1),
        // Negative: no request left after the revoke returned; a ratio would mean nothing.
        median([...keel]) < 0 ? '—' : times(median([...keel]) / Math.max(1, median([...floor]))),
      ]),
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
