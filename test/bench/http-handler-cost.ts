import path from 'node:path';
import { median } from './support/measure';
import { fixed, markdownTable, signed, times, verdict } from './support/table';
import { requestContextByDefault } from '../../lib/context';
import { loadAverage, runCpuWorker } from './fixtures/http-processes';
import { COMPETITORS, type Competitor } from './fixtures/competitors';

const REQUESTS_PER_RUN = Number(process.env.HTTP_HANDLER_REQUESTS ?? 20_000);
const RUNS_PER_PROCESS = 5;
const PROCESSES_PER_SIDE = 3;
const WORKER = path.join(__dirname, 'fixtures', 'http-handler-worker.ts');
/** Issue 15: Keel with every built-in on costs at most fastify-full's CPU per request. */
const CPU_TARGET = 1.0;

interface Side {
  name: string;
  argument: Competitor | 'keel';
  env: NodeJS.ProcessEnv;
  /** The row the target is about. */
  judged?: boolean;
}

const competitor = (name: Competitor): Side => ({ name: COMPETITORS[name], argument: name, env: {} });

const SIDES: readonly Side[] = [
  competitor('bare-koa'),
  competitor('koa-access-line'),
  competitor('koa-full'),
  competitor('fastify'),
  competitor('fastify-full'),
  {
    name: `Keel HttpServerResource (request context ${requestContextByDefault ? 'on' : 'off'} by default)`,
    argument: 'keel',
    env: {},
    judged: true,
  },
  {
    name: 'Keel, access_log off',
    argument: 'keel',
    env: { KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false' },
  },
  { name: 'Keel, enableRequestContext() called', argument: 'keel', env: { KEEL_BENCH_REQUEST_CONTEXT: '1' } },
];

const runWorker = (side: Side): Promise<number[]> =>
  runCpuWorker(WORKER, side.argument, REQUESTS_PER_RUN, RUNS_PER_PROCESS, side.env);

/**
 * The JS cost of a request through each server, without sockets: what the throughput bench's
 * requests per second hide on 2 cores, where autocannon, the kernel's loopback and V8's helper
 * threads share the CPUs with the server. Processes alternate between the sides.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const samples = new Map<Side, number[]>(SIDES.map((side) => [side, []]));
  for (let round = 0; round < PROCESSES_PER_SIDE; round++) {
    for (const side of SIDES) samples.get(side)!.push(...(await runWorker(side)));
  }
  const rows = SIDES.map((side) => {
    const values = samples.get(side)!;
    return {
      name: side.name,
      judged: side.judged === true,
      min: Math.min(...values),
      median: median(values),
    };
  });
  const floor = rows[0];
  const fastifyFull = rows[4];
  console.log(
    `## HTTP handler cost: GET /hello in-process, CPU µs per request, ${PROCESSES_PER_SIDE} processes x ${RUNS_PER_PROCESS} runs x ${REQUESTS_PER_RUN} requests per side, node ${process.version}\n`,
  );
  console.log(
    markdownTable(
      [
        'server (what it includes)',
        'µs/request (min)',
        'µs/request (median)',
        'above bare koa (min)',
        'vs bare koa (min)',
        'vs fastify-full (min)',
        'target',
        'verdict',
      ],
      rows.map((row) => [
        row.name,
        fixed(row.min, 2),
        fixed(row.median, 2),
        row === floor ? '' : signed(row.min - floor.min),
        times(row.min / floor.min),
        times(row.min / fastifyFull.min),
        row.judged ? `CPU <= ${CPU_TARGET}x fastify-full` : '',
        row.judged ? verdict(row.min / fastifyFull.min <= CPU_TARGET) : '',
      ]),
    ),
  );
  console.log(
    '\nCompared on the minimum: another tenant of the machine slows whole processes at a time, which moves medians by up to 2x between runs; nothing makes a run faster than its code.',
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
