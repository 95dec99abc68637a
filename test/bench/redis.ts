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
import { Redis, type RedisOptions } from 'ioredis';
import { createMicroservice, Microservice, microservice, RedisResource, type App } from '../../lib';
import { RedisServer } from '../support/redis';
import { driverTable, type DriverSide } from './support/driver-rounds';

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

async function keelSide(port: number): Promise<DriverSide> {
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
    operation: async (index) => {
      const key = `key:${index % 100}`;
      await redis.set(key, VALUE);
      return redis.get(key);
    },
    close: () => app.stop().then(() => undefined),
  };
}

async function rawSide(port: number): Promise<DriverSide> {
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
    operation: async (index) => {
      const key = `key:${index % 100}`;
      await redis.set(key, VALUE);
      return redis.get(key);
    },
    close: () => redis.quit().then(() => undefined),
  };
}

export async function main(): Promise<void> {
  const server = await RedisServer.start();
  try {
    const sides = { keel: await keelSide(server.port), raw: await rawSide(server.port) };
    const table = await driverTable(sides, {
      sequential: SEQUENTIAL,
      concurrent: CONCURRENT,
      inFlight: IN_FLIGHT,
      rounds: ROUNDS,
      callsPerOperation: 2,
      call: 'command',
      raw: 'raw ioredis',
      latencyTarget: LATENCY_TARGET,
      throughputTarget: THROUGHPUT_TARGET,
    });
    console.log(
      `## redis: RedisResource vs ioredis used directly, SET then GET of a ${VALUE.length}-byte value, ${ROUNDS.repetitions} rounds (+${ROUNDS.warmup} warm-up), medians\n`,
    );
    console.log(table);
    console.log('');
    await Promise.all([sides.keel.close(), sides.raw.close()]);
  } finally {
    await server.stop();
  }
}
