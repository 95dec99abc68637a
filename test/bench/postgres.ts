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
import { Microservice, microservice, PostgresResource } from '../../lib';
import { PostgresServer } from '../support/postgres';
import { DRIVER_ROUNDS, driverTable, startedQuietly, type DriverSide } from './support/driver-rounds';

const SQL = 'SELECT 1 AS one';

@microservice({ name: 'bench_pg', resources: { postgres: PostgresResource } })
class BenchService extends Microservice {}

async function keelSide(url: string): Promise<DriverSide> {
  const app = await startedQuietly(BenchService, {
    postgres: { url, pool: { max: DRIVER_ROUNDS.inFlight } },
  });
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
    max: DRIVER_ROUNDS.inFlight,
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
    const table = await driverTable(sides, { callsPerOperation: 1, call: 'query', raw: 'raw pg' });
    console.log(
      `## postgres: PostgresResource vs pg used directly, \`${SQL}\`, ${DRIVER_ROUNDS.rounds.repetitions} rounds (+${DRIVER_ROUNDS.rounds.warmup} warm-up), medians\n`,
    );
    console.log(table);
    console.log('');
    await Promise.all([sides.keel.close(), sides.raw.close()]);
  } finally {
    await server.stop();
  }
}
