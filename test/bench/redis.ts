/**
 * RedisResource against ioredis used directly, same redis-server (the bench's own, on a free
 * port), same run, rounds interleaved and the first side rotated. Both are one ioredis connection
 * with the options Keel sets from its defaults (commandTimeout 2000 ms: a timer per command on
 * both sides, connectTimeout, the offline queue), so the work on the wire is equal; what differs
 * is Keel's per-command path: `command(name)` over `call`, the counter by command and outcome,
 * the duration histogram, the error mapping.
 * One operation is `SET k v` then `GET k`; figures are per command.
 * - sequential: one command at a time; µs per command. Target: Keel <= 1.05x raw ioredis
 *   (issue 26 states its figure for PostgreSQL's trivial query; the same bound here).
 *   Beside it, this process's CPU µs per command.
 * - concurrent: 10 operations in flight on the connection; commands/s. Target: Keel >= 0.95x.
 */
import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import { createMicroservice, Microservice, microservice, RedisResource, type App } from '../../lib';
import { RedisServer } from '../support/redis';
import { median, settleHeap } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';

const SEQUENTIAL = 4000;
const CONCURRENT = 8000;
const IN_FLIGHT = 10;
// An even count: each side runs first in as many kept rounds as the other (with 9, one side led 5).
const ROUNDS = { warmup: 2, repetitions: 10 };
const LATENCY_TARGET = 1.05;
const THROUGHPUT_TARGET = 0.95;
const VALUE = 'v'.repeat(32);

@microservice({ name: 'bench_redis', resources: { redis: RedisResource } })
class BenchService extends Microservice {}

/** SET then GET of one key: two commands. */
type Operation = (key: string) => Promise<unknown>;

interface Side {
  operation: Operation;
  close(): Promise<void>;
}

async function keelSide(port: number): Promise<Side> {
  const app: App = await createMicroservice(BenchService, {
    settings: {
      system: {
        logging: { profile: 'PRODUCTION', stdout: false },
        resources: { redis: { port }, report_server: { port: 0 } },
      },
    },
  });
  await app.start();
  const redis = app.get(RedisResource);
  return {
    operation: async (key) => {
      await redis.set(key, VALUE);
      return redis.get(key);
    },
    close: () => app.stop().then(() => undefined),
  };
}

async function rawSide(port: number): Promise<Side> {
  // Keel's defaults, as ioredis options: the same connection, a timer per command on both sides.
  const options: RedisOptions = {
    host: '127.0.0.1',
    port,
    db: 0,
    lazyConnect: true,
    commandTimeout: 2000,
    connectTimeout: 5000,
    enableOfflineQueue: true,
  };
  const redis = new Redis(options);
  redis.on('error', () => undefined);
  await redis.connect();
  return {
    operation: async (key) => {
      await redis.set(key, VALUE);
      return redis.get(key);
    },
    close: () => redis.quit().then(() => undefined),
  };
}

/** Wall µs and this process's CPU µs per command, one operation at a time. */
async function sequential(operation: Operation, count: number): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < count; i++) await operation(`key:${i % 100}`);
  const used = process.cpuUsage(cpu);
  const commands = count * 2;
  return {
    wall: ((performance.now() - began) * 1000) / commands,
    cpu: (used.user + used.system) / commands,
  };
}

/** Commands/s and this process's CPU µs per command, IN_FLIGHT operations at a time. */
async function concurrent(operation: Operation, count: number): Promise<{ rate: number; cpu: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) await operation(`key:${next++ % 100}`);
    }),
  );
  const used = process.cpuUsage(cpu);
  const commands = count * 2;
  return {
    rate: commands / ((performance.now() - began) / 1000),
    cpu: (used.user + used.system) / commands,
  };
}

export async function main(): Promise<void> {
  const server = await RedisServer.start();
  try {
    const sides = { keel: await keelSide(server.port), raw: await rawSide(server.port) };
    const names = ['keel', 'raw'] as const;
    const latency = { keel: [] as number[], raw: [] as number[] };
    const cpu = { keel: [] as number[], raw: [] as number[] };
    const rate = { keel: [] as number[], raw: [] as number[] };
    const concurrentCpu = { keel: [] as number[], raw: [] as number[] };
    for (let round = 0; round < ROUNDS.warmup + ROUNDS.repetitions; round++) {
      const keep = round >= ROUNDS.warmup;
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        await settleHeap();
        const one = await sequential(sides[name].operation, SEQUENTIAL);
        await settleHeap();
        const many = await concurrent(sides[name].operation, CONCURRENT);
        if (keep) {
          latency[name].push(one.wall);
          cpu[name].push(one.cpu);
          rate[name].push(many.rate);
          concurrentCpu[name].push(many.cpu);
        }
      }
    }
    const ratio = (values: { keel: number[]; raw: number[] }) => median(values.keel) / median(values.raw);
    const latencyRatio = ratio(latency);
    const rateRatio = ratio(rate);
    console.log(
      `## redis: RedisResource vs ioredis used directly, SET then GET of a ${VALUE.length}-byte value, ${ROUNDS.repetitions} rounds (+${ROUNDS.warmup} warm-up), medians\n`,
    );
    console.log(
      markdownTable(
        ['case', 'keel', 'raw ioredis', 'keel / raw', 'target', 'verdict'],
        [
          [
            `sequential, µs per command (${SEQUENTIAL * 2} a round)`,
            fixed(median(latency.keel), 1),
            fixed(median(latency.raw), 1),
            times(latencyRatio),
            `<= ${LATENCY_TARGET}x`,
            verdict(latencyRatio <= LATENCY_TARGET),
          ],
          [
            'sequential, client CPU µs per command',
            fixed(median(cpu.keel), 1),
            fixed(median(cpu.raw), 1),
            times(ratio(cpu)),
            '',
            '',
          ],
          [
            `${IN_FLIGHT} in flight, commands/s (${CONCURRENT * 2} a round)`,
            fixed(median(rate.keel), 0),
            fixed(median(rate.raw), 0),
            times(rateRatio),
            `>= ${THROUGHPUT_TARGET}x`,
            verdict(rateRatio >= THROUGHPUT_TARGET),
          ],
          [
            `${IN_FLIGHT} in flight, client CPU µs per command`,
            fixed(median(concurrentCpu.keel), 1),
            fixed(median(concurrentCpu.raw), 1),
            times(ratio(concurrentCpu)),
            '',
            '',
          ],
        ],
      ),
    );
    console.log('');
    await Promise.all([sides.keel.close(), sides.raw.close()]);
  } finally {
    await server.stop();
  }
}
