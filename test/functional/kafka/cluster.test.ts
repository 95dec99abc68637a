import { Kafka, logLevel } from 'kafkajs';
import {
  consume,
  KafkaResource,
  Microservice,
  microservice,
  Test,
  type App,
  type KafkaConsumerState,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { createTopics, describeWithKafka, KafkaCluster } from '../../support/kafka';

const TOPIC = 'burst';
const RECORDS = 10_000;
/** Publishes in flight at once: a burst, but one that is still going when the leader dies. */
const WINDOW = 200;

/** Every id either reader handled, duplicates included. */
const handled: number[] = [];

@microservice({ name: 'reader', resources: { kafka: KafkaResource } })
class Reader extends Microservice {
  @consume(TOPIC, { group: 'burst-readers', fromBeginning: true, concurrency: 2 })
  onRecord(value: { id: number }): void {
    handled.push(value.id);
  }
}

@microservice({ name: 'burster', resources: { kafka: KafkaResource } })
class Burster extends Microservice {}

describeWithKafka(
  'KafkaResource on a three-node KRaft cluster (replication 3, min.insync.replicas 2)',
  () => {
    let cluster: KafkaCluster;
    const apps: App[] = [];
    const settings = () => ({
      system: {
        resources: {
          kafka: {
            brokers: cluster.brokers,
            health_interval_ms: 300,
            request_timeout_ms: 10_000,
            producer: { publish_timeout_ms: 120_000 },
            consumer: { max_wait_ms: 50, session_timeout_ms: 6000, heartbeat_interval_ms: 500 },
          },
        },
      },
    });
    const admin = () =>
      new Kafka({
        brokers: cluster.brokers,
        clientId: 'keel-test-admin',
        logLevel: logLevel.NOTHING,
      }).admin();
    const partitionInfo = async () => {
      const client = admin();
      await client.connect();
      try {
        const { topics } = await client.fetchTopicMetadata({ topics: [TOPIC] });
        return topics[0].partitions;
      } finally {
        await client.disconnect();
      }
    };

    beforeAll(async () => {
      cluster = await KafkaCluster.start({ nodes: 3, heapMb: 256 });
      await createTopics(cluster.brokers, [{ topic: TOPIC, partitions: 2, replicas: 3 }]);
    }, 240_000);

    afterAll(async () => {
      for (const app of apps.splice(0)) await app.stop();
      await cluster?.stop();
    }, 90_000);

    it('SIGKILL of the partition leader during 10,000 confirmed publishes: none lost, duplicates bounded, the node rejoins', async () => {
      const start = async (service: typeof Reader | typeof Burster) => {
        const app = await Test.createMicroservice(service, { log: quietLog() })
          .withSettings(settings())
          .start();
        apps.push(app);
        return app;
      };
      const readers = [await start(Reader), await start(Reader)];
      const burster = await start(Burster);
      const consumers = (app: App) =>
        (
          app.status().resources.find((row) => row.name === 'kafka')!.details as {
            consumers: KafkaConsumerState[];
          }
        ).consumers;
      const joined = () =>
        readers.every((app) => consumers(app).every((consumer) => consumer.partitions.length === 1));
      await until(joined, 60_000, 'both readers holding one partition each');

      const [first] = await partitionInfo();
      expect(first.replicas).toHaveLength(3);
      expect(first.isr).toHaveLength(3);
      const leader = first.leader;

      const kafka = burster.get<KafkaResource>('kafka');
      const confirmed: number[] = [];
      const failed: string[] = [];
      let next = 0;
      const lane = async () => {
        while (next < RECORDS) {
          const id = next++;
          try {
            await kafka.publish(TOPIC, { id }, { key: String(id) });
            confirmed.push(id);
          } catch (error) {
            failed.push((error as Error).message);
          }
        }
      };
      const burst = Promise.all(Array.from({ length: WINDOW }, lane));
      await until(() => confirmed.length >= 2_000, 120_000, '2,000 publishes confirmed');
      await cluster.kill(leader, 'SIGKILL');
      const confirmedBeforeKill = confirmed.length;
      await burst;
      // The kill came in the middle of the burst, not after it.
      expect(confirmedBeforeKill).toBeLessThan(RECORDS);

      // An unconfirmed publish is allowed to be lost; a confirmed one is not.
      const wanted = new Set(confirmed);
      await until(
        () => {
          const seen = new Set(handled);
          return [...wanted].every((id) => seen.has(id));
        },
        180_000,
        `every confirmed record consumed (${confirmed.length} confirmed, ${failed.length} failed: ${failed[0] ?? ''})`,
      );
      const unique = new Set(handled).size;
      const duplicates = handled.length - unique;
      console.log(
        `three-node cluster: ${confirmed.length} of ${RECORDS} publishes confirmed (${failed.length} failed), ` +
          `node ${leader} killed after ${confirmedBeforeKill}; ${unique} records consumed, 0 confirmed lost, ${duplicates} duplicates`,
      );
      expect(failed).toEqual([]);
      expect(confirmed).toHaveLength(RECORDS);
      // Redelivered: at most what the readers had handled and not yet committed when the group moved.
      expect(duplicates).toBeLessThan(RECORDS / 5);

      await cluster.startNode(leader);
      await until(() => cluster.isRunning(leader), 10_000, `node ${leader} running again`);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const partitions = await partitionInfo();
        if (partitions.every((partition) => partition.isr.includes(leader))) break;
        if (Date.now() > deadline) {
          throw new Error(
            `node ${leader} not back in every ISR: ${JSON.stringify(partitions)}\n${cluster.output(leader)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }, 600_000);
  },
);
