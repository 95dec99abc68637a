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
import { performance } from 'node:perf_hooks';
import { Pool, type PoolConfig } from 'pg';
import { createMicroservice, Microservice, microservice, PostgresResource, type App } from '../../lib';
import { PostgresServer } from '../support/postgres';
import { median, settleHeap } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';

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

type Query = () => Promise<unknown>;

interface Side {
  query: Query;
  close(): Promise<void>;
}

async function keelSide(url: string): Promise<Side> {
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
    query: () => postgres.query(SQL, [], { name: 'bench' }),
    close: () => app.stop().then(() => undefined),
  };
}

function rawSide(url: string): Side {
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
  return { query: () => pool.query(SQL), close: () => pool.end() };
}

/** Wall µs and this process's CPU µs per query, one query at a time. */
async function sequential(query: Query, count: number): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < count; i++) await query();
  const used = process.cpuUsage(cpu);
  return { wall: ((performance.now() - began) * 1000) / count, cpu: (used.user + used.system) / count };
}

/** Queries/s and this process's CPU µs per query, IN_FLIGHT at a time. */
async function concurrent(query: Query, count: number): Promise<{ rate: number; cpu: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < count) await query();
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: count / ((performance.now() - began) / 1000), cpu: (used.user + used.system) / count };
}

export async function main(): Promise<void> {
  const server = await PostgresServer.start();
  try {
    const sides = { keel: await keelSide(server.url), raw: rawSide(server.url) };
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
        const one = await sequential(sides[name].query, SEQUENTIAL);
        await settleHeap();
        const many = await concurrent(sides[name].query, CONCURRENT);
        if (keep) {
          latency[name].push(one.wall);
          cpu[name].push(one.cpu);
          rate[name].push(many.rate);
          concurrentCpu[name].push(many.cpu);
        }
      }
    }
    const latencyRatio = median(latency.keel) / median(latency.raw);
    const rateRatio = median(rate.keel) / median(rate.raw);
    const cpuRatio = median(cpu.keel) / median(cpu.raw);
    const concurrentCpuRatio = median(concurrentCpu.keel) / median(concurrentCpu.raw);
    console.log(
      `## postgres: PostgresResource vs pg used directly, \`${SQL}\`, ${ROUNDS.repetitions} rounds (+${ROUNDS.warmup} warm-up), medians\n`,
    );
    console.log(
      markdownTable(
        ['case', 'keel', 'raw pg', 'keel / raw', 'target', 'verdict'],
        [
          [
            `sequential, µs per query (${SEQUENTIAL} a round)`,
            fixed(median(latency.keel), 1),
            fixed(median(latency.raw), 1),
            times(latencyRatio),
            `<= ${LATENCY_TARGET}x`,
            verdict(latencyRatio <= LATENCY_TARGET),
          ],
          [
            'sequential, client CPU µs per query',
            fixed(median(cpu.keel), 1),
            fixed(median(cpu.raw), 1),
            times(cpuRatio),
            '',
            '',
          ],
          [
            `${IN_FLIGHT} in flight, queries/s (${CONCURRENT} a round)`,
            fixed(median(rate.keel), 0),
            fixed(median(rate.raw), 0),
            times(rateRatio),
            `>= ${THROUGHPUT_TARGET}x`,
            verdict(rateRatio >= THROUGHPUT_TARGET),
          ],
          [
            `${IN_FLIGHT} in flight, client CPU µs per query`,
            fixed(median(concurrentCpu.keel), 1),
            fixed(median(concurrentCpu.raw), 1),
            times(concurrentCpuRatio),
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
