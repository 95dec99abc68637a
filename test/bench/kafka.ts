/**
 * KafkaResource against kafkajs used directly, same broker, same run, rounds interleaved:
 * - produce-consume: N records of 1 KB JSON published at once, a consumer group member handling
 *   each; records/s from the first publish to the last handled. Target: >= 0.9x raw kafkajs.
 * - end-to-end latency: sequential publish → handled round trips; p50 and p99. Target: p50 <= 1.1x raw.
 * Both sides: an idempotent producer, acks all, one request in flight; the consumer resolves each
 * offset after its record and kafkajs commits after each batch. The raw side produces twice: one
 * `send()` per record (what a kafkajs user writes for a record at a time) and `sendBatch()` of up to
 * 1000 records (Keel's batching, by hand); the throughput verdict is against the faster.
 * The CPU row is this process's CPU time (process.cpuUsage) over each produce-consume window, per
 * record: what another tenant of a loaded machine does not move the way it moves wall time.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { createMicroservice, KafkaResource, Microservice, microservice, type App } from '../../lib';
import { createTopics, KafkaCluster } from '../support/kafka';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';

const RECORDS = 5000;
const ROUND_TRIPS = 200;
const ROUNDS = { warmup: 1, repetitions: 3 };
const VALUE = { pad: 'x'.repeat(1000) };

@microservice({ name: 'bench_kafka', resources: { kafka: KafkaResource } })
class BenchService extends Microservice {}

type SideName = 'keel' | 'rawSend' | 'rawBatch';

interface Side {
  /** Milliseconds from the first publish to the last record handled. */
  produceConsume(count: number): Promise<number>;
  roundTrips(count: number): Promise<number[]>;
  close(): Promise<void>;
}

function counter() {
  let target = 0;
  let seen = 0;
  let resolve: () => void = () => undefined;
  return {
    expect(count: number): Promise<void> {
      target = count;
      seen = 0;
      return new Promise<void>((ok) => (resolve = ok));
    },
    seen(): void {
      if (++seen === target) resolve();
    },
  };
}

async function keelSide(brokers: string[], topic: string): Promise<Side> {
  const app: App = await createMicroservice(BenchService, {
    settings: {
      system: {
        logging: { profile: 'PRODUCTION', stdout: false },
        resources: { kafka: { brokers, consumer: { max_wait_ms: 10 } }, report_server: { port: 0 } },
      },
    },
  });
  await app.start();
  const kafka = app.get<KafkaResource>('kafka');
  const count = counter();
  await kafka.consume(topic, () => count.seen(), { group: `${topic}-group`, concurrency: 4 });
  return {
    async produceConsume(n) {
      const done = count.expect(n);
      const began = performance.now();
      await Promise.all([
        ...Array.from({ length: n }, (_, i) => kafka.publish(topic, VALUE, { key: String(i) })),
        done,
      ]);
      return performance.now() - began;
    },
    async roundTrips(n) {
      const durations: number[] = [];
      for (let i = 0; i < n; i++) {
        const done = count.expect(1);
        const began = performance.now();
        await Promise.all([kafka.publish(topic, VALUE, { key: String(i) }), done]);
        durations.push(performance.now() - began);
      }
      return durations;
    },
    close: () => app.stop(),
  };
}

async function rawSide(brokers: string[], topic: string, batched: boolean): Promise<Side> {
  const kafka = new Kafka({ brokers, clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer: Consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 10 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic });
  const count = counter();
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
      for (const message of batch.messages) {
        if (!isRunning()) break;
        JSON.parse(message.value!.toString());
        count.seen();
        resolveOffset(message.offset);
        await heartbeat();
      }
    },
  });
  const encode = (i: number) => ({
    key: String(i),
    value: Buffer.from(JSON.stringify(VALUE)),
    headers: { 'content-type': 'application/json' },
  });
  const produce = async (n: number) => {
    if (!batched) {
      await Promise.all(
        Array.from({ length: n }, (_, i) => producer.send({ topic, acks: -1, messages: [encode(i)] })),
      );
      return;
    }
    for (let from = 0; from < n; from += 1000) {
      const messages = Array.from({ length: Math.min(1000, n - from) }, (_, i) => encode(from + i));
      await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1 });
    }
  };
  return {
    async produceConsume(n) {
      const done = count.expect(n);
      const began = performance.now();
      await Promise.all([produce(n), done]);
      return performance.now() - began;
    },
    async roundTrips(n) {
      const durations: number[] = [];
      for (let i = 0; i < n; i++) {
        const done = count.expect(1);
        const began = performance.now();
        await Promise.all([producer.send({ topic, acks: -1, messages: [encode(i)] }), done]);
        durations.push(performance.now() - began);
      }
      return durations;
    },
    async close() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)];

export async function main(): Promise<void> {
  const cluster = await KafkaCluster.start();
  try {
    const topics = { keel: 'bench-keel', rawSend: 'bench-raw-send', rawBatch: 'bench-raw-batch' };
    await createTopics(
      cluster.brokers,
      Object.values(topics).map((topic) => ({ topic, partitions: 4 })),
    );
    const sides: Record<SideName, Side> = {
      keel: await keelSide(cluster.brokers, topics.keel),
      rawSend: await rawSide(cluster.brokers, topics.rawSend, false),
      rawBatch: await rawSide(cluster.brokers, topics.rawBatch, true),
    };
    const names = Object.keys(sides) as SideName[];
    const rate: Record<SideName, number[]> = { keel: [], rawSend: [], rawBatch: [] };
    const p50: Record<SideName, number[]> = { keel: [], rawSend: [], rawBatch: [] };
    const p99: Record<SideName, number[]> = { keel: [], rawSend: [], rawBatch: [] };
    const cpu: Record<SideName, number[]> = { keel: [], rawSend: [], rawBatch: [] };
    for (let round = 0; round < ROUNDS.warmup + ROUNDS.repetitions; round++) {
      const order = names.map((_, index) => names[(index + round) % names.length]);
      for (const name of order) {
        const cpuBefore = process.cpuUsage();
        const ms = await sides[name].produceConsume(RECORDS);
        const used = process.cpuUsage(cpuBefore);
        const trips = await sides[name].roundTrips(ROUND_TRIPS);
        if (round < ROUNDS.warmup) continue;
        rate[name].push(RECORDS / (ms / 1000));
        cpu[name].push((used.user + used.system) / RECORDS);
        p50[name].push(percentile(trips, 0.5));
        p99[name].push(percentile(trips, 0.99));
      }
    }
    for (const side of Object.values(sides)) await side.close();
    const paired = (a: number[], b: number[]) => median(a.map((value, index) => value / b[index]));
    const throughput =
      Math.max(median(rate.rawSend), median(rate.rawBatch)) === median(rate.rawBatch)
        ? paired(rate.keel, rate.rawBatch)
        : paired(rate.keel, rate.rawSend);
    const latency = paired(p50.keel, p50.rawBatch);
    console.log(
      '## kafka: KafkaResource vs kafkajs, same broker (medians; a ratio is the median of the per-round ratios)\n',
    );
    console.log(
      markdownTable(
        [
          'benchmark',
          'unit',
          'keel',
          'kafkajs send()',
          'kafkajs sendBatch()',
          'keel ÷ faster raw',
          'target',
          'verdict',
        ],
        [
          [
            `produce-consume, ${RECORDS} records of 1 KB JSON, acks all, idempotent`,
            'records/s',
            fixed(median(rate.keel), 0),
            fixed(median(rate.rawSend), 0),
            fixed(median(rate.rawBatch), 0),
            times(throughput),
            '>= 0.9x',
            verdict(throughput >= 0.9),
          ],
          [
            'client CPU a record in produce-consume (process.cpuUsage)',
            'µs',
            fixed(median(cpu.keel), 1),
            fixed(median(cpu.rawSend), 1),
            fixed(median(cpu.rawBatch), 1),
            times(paired(cpu.keel, cpu.rawBatch)),
            '-',
            '-',
          ],
          [
            `end-to-end p50, ${ROUND_TRIPS} sequential records`,
            'ms',
            fixed(median(p50.keel), 2),
            fixed(median(p50.rawSend), 2),
            fixed(median(p50.rawBatch), 2),
            times(latency),
            '<= 1.1x',
            verdict(latency <= 1.1),
          ],
          [
            `end-to-end p99, ${ROUND_TRIPS} sequential records`,
            'ms',
            fixed(median(p99.keel), 2),
            fixed(median(p99.rawSend), 2),
            fixed(median(p99.rawBatch), 2),
            times(paired(p99.keel, p99.rawBatch)),
            '-',
            '-',
          ],
        ],
      ),
    );
    console.log(
      `\nMedians of ${ROUNDS.repetitions} rounds after ${ROUNDS.warmup} warm-up, one KRaft node started by the bench on 127.0.0.1; load average at the end: ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}.\n`,
    );
  } finally {
    await cluster.stop();
  }
}
