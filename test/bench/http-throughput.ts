import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import {
  firstOk,
  freePort,
  keelEnv,
  loadAverage,
  loadInRounds,
  type LoadSample,
  spawnTs,
  terminate,
} from './fixtures/http-processes';
import { COMPETITORS, type Competitor } from './fixtures/competitors';

const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.HTTP_BENCH_CONNECTIONS ?? 50);
// Issue 15: Keel with all its built-ins against the same features on fastify, in one run.
const RPS_TARGET = 1.0;
const CPU_TARGET = 1.0;

/**
 * GET /hello through HttpServerResource with its default middleware (request id, access log line,
 * metrics, errors, drain gate, body reader) against the same features built by hand on koa and on
 * fastify, and against bare koa and bare fastify; each server in its own process, loaded by
 * autocannon from this one, rounds interleaved so that drift hits all alike.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const competitor = (name: Competitor) => ({
    name: COMPETITORS[name],
    entry: 'test/bench/fixtures/http-competitor.ts',
    env: (port: number) => ({ PORT: String(port), COMPETITOR: name }),
    judged: false,
  });
  const targets = [
    competitor('bare-koa'),
    competitor('koa-access-line'),
    competitor('koa-full'),
    competitor('fastify'),
    competitor('fastify-full'),
    {
      name: 'Keel HttpServerResource (request id, access line, metrics, errors, drain, body reader, /metrics)',
      entry: 'samples/hello-http/main.ts',
      env: keelEnv,
      judged: true,
    },
    {
      name: 'Keel, access_log off',
      entry: 'samples/hello-http/main.ts',
      env: (port: number) => ({ ...keelEnv(port), KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false' }),
      judged: false,
    },
  ];
  const running = await Promise.all(
    targets.map(async (target) => {
      const port = await freePort();
      const child = spawnTs(target.entry, target.env(port));
      await firstOk(port, '/hello');
      return { ...target, port, child, samples: [] as LoadSample[] };
    }),
  );
  try {
    await loadInRounds(running, ROUNDS, SECONDS, CONNECTIONS);
  } finally {
    await Promise.all(running.map((server) => terminate(server.child)));
  }
  const rows = running.map((server) => ({
    name: server.name,
    judged: server.judged,
    rps: median(server.samples.map((sample) => sample.requestsPerSecond)),
    p99: median(server.samples.map((sample) => sample.p99Ms)),
    cpu: median(server.samples.map((sample) => sample.serverCpuMicrosecondsPerRequest)),
    failed: server.samples.reduce((sum, sample) => sum + sample.failed, 0),
  }));
  const bareKoa = rows[0];
  const fastifyFull = rows[4];
  console.log(
    `## HTTP throughput: GET /hello, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s each, node ${process.version}\n`,
  );
  console.log(
    markdownTable(
      [
        'server (what it includes)',
        'req/s (median)',
        'p99 ms (median)',
        'failed',
        'server CPU µs/request',
        'vs bare koa (req/s)',
        'vs fastify-full (req/s)',
        'vs fastify-full (CPU/request)',
        'target',
        'verdict',
      ],
      rows.map((row) => [
        row.name,
        fixed(row.rps, 0),
        fixed(row.p99, 1),
        String(row.failed),
        fixed(row.cpu, 1),
        times(row.rps / bareKoa.rps),
        times(row.rps / fastifyFull.rps),
        times(row.cpu / fastifyFull.cpu),
        row.judged ? `req/s >= ${RPS_TARGET}x, CPU <= ${CPU_TARGET}x` : '',
        row.judged
          ? verdict(row.rps / fastifyFull.rps >= RPS_TARGET && row.cpu / fastifyFull.cpu <= CPU_TARGET)
          : '',
      ]),
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
