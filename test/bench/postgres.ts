/**
 * PostgresResource against pg used directly, same server, same run, rounds interleaved and the
 * first side rotated. Both use a pg Pool of 10 with the same connection parameters (Keel's
 * statement_timeout, idle_in_transaction_session_timeout and application_name), so the work on the
 * wire is equal; what differs is Keel's per-query path: the checkout it tracks, the duration
 * histogram by query name, the pool gauges and the error wrapping.
 * - sequential: `SELECT 1`, one at a time; µs per query. Target: Keel <= 1.05x raw pg.
 *   Beside it, this process's CPU µs per query: Keel's own cost, without the server's time.
 * - concurrent: `SELECT 1`, 10 in flight; queries/s. Target: Keel >= 0.95x raw pg.
 *   Beside it, the CPU µs per query: with the server on the same two cores, the client's CPU is
 *   what the throughput loses, and it is steady where the rate moves with the machine's load.
 */
import { Pool, type PoolConfig } from 'pg';
import { createMicroservice, Microservice, microservice, PostgresResource, type App } from '../../lib';
import { PostgresServer } from '../support/postgres';
import { driverTable, type DriverSide } from './support/driver-rounds';

const SEQUENTIAL = 4000;
const CONCURRENT = 8000;
const IN_FLIGHT = 10;
// An even count: each side runs first in as many kept rounds as the other (with 9, one side led 5).
const ROUNDS = { warmup: 2, repetitions: 10 };
const LATENCY_TARGET = 1.05;
const THROUGHPUT_TARGET = 0.95;
const SQL = 'SELECT 1 AS one';

@microservice({ name: 'bench_pg', resources: { postgres: PostgresResource } })
class BenchService extends Microservice {}

async function keelSide(url: string): Promise<DriverSide> {
  const app: App = await createMicroservice(BenchService, {
    settings: {
      system: {
        logging: { profile: 'PRODUCTION', stdout: false },
        resources: { postgres: { url, pool: { max: IN_FLIGHT } }, report_server: { port: 0 } },
      },
    },
  });
  await app.start();
  const postgres = app.get(PostgresResource);
  return {
    operation: () => postgres.query(SQL, [], { name: 'bench' }),
    close: () => app.stop().then(() => undefined),
  };
}

function rawSide(url: string): DriverSide {
  // Keel's defaults, as startup parameters: the same connection, the same server settings.
  const config: PoolConfig = {
    connectionString: url,
    max: IN_FLIGHT,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 5000,
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'bench_pg',
  };
  const pool = new Pool(config);
  pool.on('error', () => undefined);
  return { operation: () => pool.query(SQL), close: () => pool.end() };
}

export async function main(): Promise<void> {
  const server = await PostgresServer.start();
  try {
    const sides = { keel: await keelSide(server.url), raw: rawSide(server.url) };
    const table = await driverTable(sides, {
      sequential: SEQUENTIAL,
      concurrent: CONCURRENT,
      inFlight: IN_FLIGHT,
      rounds: ROUNDS,
      callsPerOperation: 1,
      call: 'query',
      raw: 'raw pg',
      latencyTarget: LATENCY_TARGET,
      throughputTarget: THROUGHPUT_TARGET,
    });
    console.log(
      `## postgres: PostgresResource vs pg used directly, \`${SQL}\`, ${ROUNDS.repetitions} rounds (+${ROUNDS.warmup} warm-up), medians\n`,
    );
    console.log(table);
    console.log('');
    await Promise.all([sides.keel.close(), sides.raw.close()]);
  } finally {
    await server.stop();
  }
}
