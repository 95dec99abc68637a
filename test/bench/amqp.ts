/**
 * AmqpResource against amqplib used directly, same broker, same run, rounds interleaved:
 * - publish-consume: N confirmed messages published to a topic exchange at once, a consumer acking
 *   each; messages/s from the first publish to the last ack. Target: >= 0.9x raw amqplib.
 * - request/response: sequential round trips through direct reply-to; p50. Target: <= 1.1x raw.
 * Both sides use the same prefetch and confirmed, persistent messages. The raw requests carry what
 * Keel's do (equal work): `mandatory`, so a request with no responder comes back at once instead of
 * waiting out its timeout, an `expiration` of the timeout, and a timer per request. The raw side
 * runs twice: with amqplib's socket defaults (Nagle on, a write per frame), what a user of amqplib
 * gets, and with `noDelay: true`, what one who met the 40 ms delayed-ACK stall sets; Keel's socket has
 * TCP_NODELAY and writes a turn's frames at once. Each verdict is against the faster raw variant.
 */
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { AmqpResource, createMicroservice, Microservice, microservice, type App } from '../../lib';
import { RabbitBroker } from '../support/rabbitmq';
import { median, settleHeap } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';

const MESSAGES = 5000;
const ROUND_TRIPS = 1000;
/** The broker itself speeds up over its first rounds: two are discarded. */
const ROUNDS = { warmup: 2, repetitions: 9 };
const PREFETCH = 100;
const THROUGHPUT_TARGET = 0.9;
const LATENCY_TARGET = 1.1;
/** Keel's default `request_timeout_ms`, used by both sides. */
const REQUEST_TIMEOUT_MS = 5000;

@microservice({ name: 'bench_amqp', resources: { amqp: AmqpResource } })
class BenchService extends Microservice {}

type SideName = 'keel' | 'raw' | 'rawNoDelay';

interface Side {
  /** Milliseconds from the first publish to the last of `count` messages consumed. */
  publishConsume(count: number): Promise<number>;
  /** The duration of each of `count` sequential round trips, ms. */
  roundTrips(count: number): Promise<number[]>;
  close(): Promise<void>;
}

function countTo(count: number): { seen(): void; done: Promise<void> } {
  let seen = 0;
  let resolve!: () => void;
  const done = new Promise<void>((ok) => (resolve = ok));
  return {
    seen: () => {
      if (++seen === count) resolve();
    },
    done,
  };
}

async function keelSide(url: string): Promise<Side> {
  const app: App = await createMicroservice(BenchService, {
    settings: {
      system: {
        logging: { profile: 'PRODUCTION', stdout: false },
        resources: { amqp: { url, prefetch: PREFETCH }, report_server: { port: 0 } },
      },
    },
  });
  await app.start();
  const amqp = app.get<AmqpResource>('amqp');
  let counter = countTo(0);
  await amqp.subscribe('bench.keel', () => counter.seen(), { queue: 'bench.keel' });
  await amqp.respond('bench.keel.echo', (message: unknown) => message);
  return {
    async publishConsume(count) {
      counter = countTo(count);
      const began = performance.now();
      const sent: Promise<void>[] = [];
      for (let i = 0; i < count; i++) sent.push(amqp.publish('bench.keel', { i }));
      await Promise.all([...sent, counter.done]);
      return performance.now() - began;
    },
    async roundTrips(count) {
      const durations: number[] = [];
      for (let i = 0; i < count; i++) {
        const began = performance.now();
        await amqp.request('bench.keel.echo', { i });
        durations.push(performance.now() - began);
      }
      return durations;
    },
    close: () => app.stop().then(() => undefined),
  };
}

/** amqplib used directly; `name` keeps each variant's exchange and queues apart. */
async function rawSide(url: string, name: string, socket: { noDelay: boolean }): Promise<Side> {
  const model: ChannelModel = await connect(url, socket);
  const [exchange, queue, echo] = [name, name, `${name}.echo`];
  const publisher: ConfirmChannel = await model.createConfirmChannel();
  await publisher.assertExchange(exchange, 'topic', { durable: true });
  const consumer: Channel = await model.createChannel();
  await consumer.prefetch(PREFETCH);
  await consumer.assertQueue(queue, { durable: true });
  await consumer.bindQueue(queue, exchange, queue);
  let counter = countTo(0);
  await consumer.consume(queue, (message) => {
    if (message === null) return;
    JSON.parse(message.content.toString());
    consumer.ack(message);
    counter.seen();
  });

  const responder = await model.createChannel();
  await responder.prefetch(PREFETCH);
  await responder.assertQueue(echo, { durable: false });
  await responder.consume(echo, (message) => {
    if (message === null) return;
    const { replyTo, correlationId } = message.properties as { replyTo: string; correlationId: string };
    publisher.publish('', replyTo, Buffer.from(JSON.stringify(JSON.parse(message.content.toString()))), {
      correlationId,
      contentType: 'application/json',
    });
    responder.ack(message);
  });
  const requester = await model.createChannel();
  let awaiting: ((reply: ConsumeMessage) => void) | undefined;
  await requester.consume('amq.rabbitmq.reply-to', (reply) => reply !== null && awaiting?.(reply), {
    noAck: true,
  });
  let sequence = 0;
  return {
    async publishConsume(count) {
      counter = countTo(count);
      const began = performance.now();
      const sent: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        sent.push(
          new Promise((resolve, reject) =>
            publisher.publish(
              exchange,
              queue,
              Buffer.from(JSON.stringify({ i })),
              { contentType: 'application/json', persistent: true },
              (error) => (error ? reject(error) : resolve()),
            ),
          ),
        );
      }
      await Promise.all([...sent, counter.done]);
      return performance.now() - began;
    },
    async roundTrips(count) {
      const durations: number[] = [];
      for (let i = 0; i < count; i++) {
        const began = performance.now();
        const correlationId = String(++sequence);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no reply to ${correlationId}`)),
            REQUEST_TIMEOUT_MS,
          );
          awaiting = (reply) => {
            if (reply.properties.correlationId !== correlationId) return;
            clearTimeout(timer);
            JSON.parse(reply.content.toString());
            resolve();
          };
          requester.publish('', echo, Buffer.from(JSON.stringify({ i })), {
            correlationId,
            replyTo: 'amq.rabbitmq.reply-to',
            contentType: 'application/json',
            mandatory: true,
            expiration: String(REQUEST_TIMEOUT_MS),
          });
        });
        durations.push(performance.now() - began);
      }
      return durations;
    },
    close: () => model.close(),
  };
}

export async function main(): Promise<void> {
  const broker = await RabbitBroker.start();
  try {
    const sides: Record<SideName, Side> = {
      keel: await keelSide(broker.url),
      raw: await rawSide(broker.url, 'bench.raw', { noDelay: false }),
      rawNoDelay: await rawSide(broker.url, 'bench.raw_nodelay', { noDelay: true }),
    };
    const names = Object.keys(sides) as SideName[];
    const rate = { keel: [] as number[], raw: [] as number[], rawNoDelay: [] as number[] };
    const p50 = { keel: [] as number[], raw: [] as number[], rawNoDelay: [] as number[] };
    for (let round = 0; round < ROUNDS.warmup + ROUNDS.repetitions; round++) {
      const keep = round >= ROUNDS.warmup;
      // Rotate which side goes first, so that none always runs on a warmer broker.
      const order = names.map((_, index) => names[(index + round) % names.length]);
      for (const name of order) {
        const side = sides[name];
        await settleHeap();
        const ms = await side.publishConsume(MESSAGES);
        await settleHeap();
        const trips = await side.roundTrips(ROUND_TRIPS);
        if (keep) {
          rate[name].push(MESSAGES / (ms / 1000));
          p50[name].push(median(trips));
        }
      }
    }
    for (const side of Object.values(sides)) await side.close();
    // The broker's speed drifts from round to round (it warms up, the machine is shared): each
    // round's sides are compared with each other, and the ratio is the median of those.
    const paired = (keelValues: number[], rawValues: number[]) =>
      median(keelValues.map((value, index) => value / rawValues[index]));
    const throughput = { raw: paired(rate.keel, rate.raw), rawNoDelay: paired(rate.keel, rate.rawNoDelay) };
    const latency = { raw: paired(p50.keel, p50.raw), rawNoDelay: paired(p50.keel, p50.rawNoDelay) };
    // Against the stronger floor: the higher rate, the lower round trip.
    const throughputVerdict = Math.min(throughput.raw, throughput.rawNoDelay);
    const latencyVerdict = Math.max(latency.raw, latency.rawNoDelay);
    console.log(
      '## amqp: AmqpResource vs amqplib, same broker (medians; a ratio is the median of the per-round ratios)\n',
    );
    console.log(
      markdownTable(
        [
          'benchmark',
          'unit',
          'keel',
          'amqplib (defaults)',
          'amqplib, noDelay',
          'keel ÷ defaults',
          'keel ÷ noDelay',
          'target (vs the faster)',
          'verdict',
        ],
        [
          [
            `publish-consume, ${MESSAGES} confirmed messages, prefetch ${PREFETCH}`,
            'msg/s',
            fixed(median(rate.keel), 0),
            fixed(median(rate.raw), 0),
            fixed(median(rate.rawNoDelay), 0),
            times(throughput.raw),
            times(throughput.rawNoDelay),
            `>= ${THROUGHPUT_TARGET}x`,
            verdict(throughputVerdict >= THROUGHPUT_TARGET),
          ],
          [
            `request/response p50, ${ROUND_TRIPS} sequential round trips`,
            'ms',
            fixed(median(p50.keel), 3),
            fixed(median(p50.raw), 3),
            fixed(median(p50.rawNoDelay), 3),
            times(latency.raw),
            times(latency.rawNoDelay),
            `<= ${LATENCY_TARGET}x`,
            verdict(latencyVerdict <= LATENCY_TARGET),
          ],
        ],
      ),
    );
    console.log(
      `\nMedians of ${ROUNDS.repetitions} rounds after ${ROUNDS.warmup} warm-up, one RabbitMQ node started by the bench on 127.0.0.1; load average at the end: ${os
        .loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')}.\n`,
    );
  } finally {
    await broker.stop();
  }
}
