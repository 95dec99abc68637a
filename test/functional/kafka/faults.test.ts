import { setTimeout as sleep } from 'node:timers/promises';
import {
  consume,
  KafkaResource,
  Microservice,
  microservice,
  Test,
  type App,
  type KafkaMessageMeta,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { createTopics, describeWithKafka, KafkaCluster } from '../../support/kafka';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

type LogRecord = { level: string; message: string; fields: object };

const outageSeen: number[] = [];

@microservice({ name: 'patient', resources: { kafka: KafkaResource } })
class Patient extends Microservice {
  @consume('outage', { fromBeginning: true })
  onRecord(value: { id: number }, _meta: KafkaMessageMeta): void {
    outageSeen.push(value.id);
  }
}

@microservice({ name: 'sender', resources: { kafka: KafkaResource } })
class Sender extends Microservice {}

/** The ids a worker printed as handled, in order. */
const handledBy = (worker: ServiceProcess) =>
  [...worker.output().matchAll(/"msg":"handled job (\d+)"/g)].map((match) => Number(match[1]));

describeWithKafka('KafkaResource faults on a real Kafka broker', () => {
  let cluster: KafkaCluster;
  let sender: App;
  const spawned: ServiceProcess[] = [];
  const kafka = (app: App) => app.get<KafkaResource>('kafka');
  const settings = () => ({
    system: {
      resources: {
        kafka: {
          brokers: cluster.brokers,
          health_interval_ms: 300,
          producer: { publish_timeout_ms: 90_000 },
          consumer: { max_wait_ms: 50, session_timeout_ms: 6000, heartbeat_interval_ms: 500 },
        },
      },
    },
  });
  const worker = (topic: string, env: Record<string, string> = {}) => {
    const child = spawnService('test/functional/kafka/fixtures/worker.ts', {
      KEEL__SYSTEM__RESOURCES__KAFKA__BROKERS: cluster.brokers.join(','),
      KEEL__SYSTEM__RESOURCES__KAFKA__CONSUMER__MAX_WAIT_MS: '50',
      KEEL__SYSTEM__RESOURCES__KAFKA__CONSUMER__SESSION_TIMEOUT_MS: '6000',
      KEEL__SYSTEM__RESOURCES__KAFKA__CONSUMER__HEARTBEAT_INTERVAL_MS: '500',
      WORKER_TOPIC: topic,
      ...env,
    });
    spawned.push(child);
    return child;
  };
  const publishJobs = (topic: string, from: number, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, index) =>
        kafka(sender).publish(topic, { id: from + index }, { key: String(from + index) }),
      ),
    );

  beforeAll(async () => {
    cluster = await KafkaCluster.start();
    await createTopics(cluster.brokers, [
      { topic: 'jobs', partitions: 4 },
      { topic: 'inflight', partitions: 4 },
      { topic: 'hang', partitions: 1 },
      { topic: 'outage', partitions: 1 },
    ]);
    sender = await Test.createMicroservice(Sender, { log: quietLog() }).withSettings(settings()).start();
  }, 120_000);

  afterAll(async () => {
    killAll(spawned);
    await sender?.stop();
    await cluster?.stop();
  }, 60_000);

  it('two consumers of four partitions: SIGKILL one, the survivor takes its partitions, nothing lost; SIGTERM one, it commits before leaving', async () => {
    await publishJobs('jobs', 0, 400);
    const first = worker('jobs', { WORKER_DELAY_MS: '5' });
    const second = worker('jobs', { WORKER_DELAY_MS: '5' });
    await first.waitFor(/joined group 'workers' with partitions \[\d/, 30_000);
    await second.waitFor(/joined group 'workers' with partitions \[\d/, 30_000);
    await until(() => handledBy(first).length >= 20, 30_000, 'the first worker handling records');
    first.child.kill('SIGKILL');
    await first.exited;
    await until(
      () => new Set([...handledBy(first), ...handledBy(second)]).size === 400,
      60_000,
      'every record of the first 400 handled',
    );
    const duplicates = handledBy(first).length + handledBy(second).length - 400;
    // Redone: what the killed worker had handled but not committed, at most its last batches.
    expect(duplicates).toBeGreaterThanOrEqual(0);
    expect(duplicates).toBeLessThan(200);

    const third = worker('jobs', { WORKER_DELAY_MS: '5' });
    await until(
      () => (third.output().match(/joined group 'workers'/g) ?? []).length > 0,
      30_000,
      'the third worker joined',
    );
    // Both have their partitions once the second has (re)joined after the third.
    await until(
      () => /joined group 'workers' with partitions \[\d/.test(third.output()),
      30_000,
      'the third worker assigned',
    );
    await publishJobs('jobs', 400, 400);
    await until(
      () => handledBy(second).filter((id) => id >= 400).length >= 20,
      30_000,
      'the second worker handling the next 400',
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const finishedBySecond = new Set(handledBy(second).filter((id) => id >= 400));
    await until(
      () => new Set([...finishedBySecond, ...handledBy(third).filter((id) => id >= 400)]).size === 400,
      60_000,
      'every record of the next 400 handled',
    );
    const redelivered = handledBy(third).filter((id) => finishedBySecond.has(id));
    expect(redelivered).toEqual([]);
    third.child.kill('SIGTERM');
    expect(await third.exited).toEqual({ code: 0, signal: null });
  }, 150_000);

  it('SIGTERM with 100 records in hand: each is finished or handled by the next consumer, exit 0', async () => {
    await publishJobs('inflight', 0, 100);
    const busy = worker('inflight', { WORKER_DELAY_MS: '40' });
    await until(() => handledBy(busy).length >= 10, 30_000, 'the worker under way');
    busy.child.kill('SIGTERM');
    expect(await busy.exited).toEqual({ code: 0, signal: null });
    expect(handledBy(busy).length).toBeLessThan(100);
    const next = worker('inflight');
    await until(
      () => new Set([...handledBy(busy), ...handledBy(next)]).size === 100,
      30_000,
      'every record handled by one of them',
    );
    // What the first finished it committed on its way out: none of it is handled again.
    expect(handledBy(next).filter((id) => handledBy(busy).includes(id))).toEqual([]);
    next.child.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('a hanging handler: the stop keeps to the drain budget and names it; the record is not committed', async () => {
    await publishJobs('hang', 0, 1);
    const stuck = worker('hang', {
      WORKER_HANG: '1',
      KEEL__SYSTEM__RESOURCES__KAFKA__CONSUMER__DRAIN_TIMEOUT_MS: '1500',
    });
    await stuck.waitFor(/joined group 'workers' with partitions \[0\]/, 30_000);
    await stuck.waitFor(/"msg":"hanging on job 0"/, 30_000);
    stuck.child.kill('SIGTERM');
    expect(await stuck.exited).toEqual({ code: 0, signal: null });
    expect(stuck.output()).toMatch(
      /worker\.work still running after 1500 ms on hang\[0\]@0 \(running \d+ ms\); not committed/,
    );
  }, 60_000);

  it('the broker unreachable at boot and for 30 s mid-run: CONNECTING, not ready, logged; nothing lost when it returns', async () => {
    const records: LogRecord[] = [];
    await kafka(sender).publish('outage', { id: 0 });
    await cluster.kill(1, 'SIGKILL');
    const senderRow = () => sender.status().resources.find((row) => row.name === 'kafka')!;
    await until(() => senderRow().status === 'CONNECTING', 20_000, 'the sender CONNECTING');
    expect(senderRow()).toMatchObject({ ready: false });
    expect(senderRow().statusText).toMatch(/^the cluster at 127\.0\.0\.1:\d+ does not answer: /);

    // Started while the broker is down: it starts, CONNECTING, and its consumer waits.
    const patient = await Test.createMicroservice(Patient, { log: quietLog(records) })
      .withSettings(settings())
      .start();
    try {
      const patientRow = () => patient.status().resources.find((row) => row.name === 'kafka')!;
      expect(patientRow().status).toBe('CONNECTING');
      expect(records.some(({ level, message }) => level === 'warn' && /does not answer/.test(message))).toBe(
        true,
      );
      const published = Promise.all(
        Array.from({ length: 50 }, (_, index) => kafka(sender).publish('outage', { id: index + 1 })),
      );
      await sleep(30_000);
      await cluster.startNode(1);
      await published;
      await until(
        () => patientRow().status === 'STARTED' && senderRow().status === 'STARTED',
        30_000,
        'both STARTED',
      );
      expect(records.some(({ message }) => /the cluster answers/.test(message))).toBe(true);
      await until(() => new Set(outageSeen).size === 51, 60_000, 'all 51 records consumed');
      expect(senderRow().ready).toBeUndefined();
    } finally {
      await patient.stop();
    }
  }, 150_000);
});
