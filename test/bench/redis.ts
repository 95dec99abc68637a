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
import { Microservice, microservice, RedisResource } from '../../lib';
import { RedisServer } from '../support/redis';
import { DRIVER_ROUNDS, driverTable, startedQuietly, type DriverSide } from './support/driver-rounds';

const VALUE = 'v'.repeat(32);

@microservice({ name: 'bench_redis', resources: { redis: RedisResource } })
class BenchService extends Microservice {}

async function keelSide(port: number): Promise<DriverSide> {
  const app = await startedQuietly(BenchService, { redis: { port } });
  return { operation: setThenGet(app.get(RedisResource)), close: () => app.stop().then(() => undefined) };
}

/** SET then GET of one of 100 keys: two commands, the same on both sides. */
function setThenGet(client: {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown>;
}): DriverSide['operation'] {
  return async (index) => {
    const key = `key:${index % 100}`;
    await client.set(key, VALUE);
    return client.get(key);
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
  return { operation: setThenGet(redis), close: () => redis.quit().then(() => undefined) };
}

export async function main(): Promise<void> {
  const server = await RedisServer.start();
  try {
    const sides = { keel: await keelSide(server.port), raw: await rawSide(server.port) };
    const table = await driverTable(sides, { callsPerOperation: 2, call: 'command', raw: 'raw ioredis' });
    console.log(
      `## redis: RedisResource vs ioredis used directly, SET then GET of a ${VALUE.length}-byte value, ${DRIVER_ROUNDS.rounds.repetitions} rounds (+${DRIVER_ROUNDS.rounds.warmup} warm-up), medians\n`,
    );
    console.log(table);
    console.log('');
    await Promise.all([sides.keel.close(), sides.raw.close()]);
  } finally {
    await server.stop();
  }
}
