import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSync } from 'esbuild';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import {
  cpuMicroseconds,
  firstOk,
  freePort,
  keelEnv,
  loadAverage,
  loadHello,
  PROJECT_ROOT,
  rssMegabytes,
  spawnNode,
  terminate,
} from './fixtures/http-processes';
import { COMPETITORS, type Competitor } from './fixtures/competitors';

const REPETITIONS = Number(process.env.HTTP_BENCH_STARTS ?? 10);
// Issue 15's RSS target after 20 s of load; fewer seconds or rounds only to try the bench out.
const LOAD_SECONDS = Number(process.env.HTTP_RSS_LOAD_SECONDS ?? 20);
const LOAD_ROUNDS = Number(process.env.HTTP_RSS_LOAD_ROUNDS ?? 3);
const LOAD_CONNECTIONS = 50;
// Issue 15: against bare koa, 1.3x on Node 24 and later (the compile cache, AsyncContextFrame), 1.5x before.
const TIME_TARGET = Number(process.versions.node.split('.')[0]) >= 24 ? 1.3 : 1.5;

/**
 * Both sides run compiled JavaScript, so the loader's compile time is not measured: Keel's
 * samples/hello-http as `npm run build` leaves it in dist/samples (tsc's output, requiring Keel's
 * bundle by its entry), and the competitor fixture compiled by esbuild.
 */
function compileEntries(): { keel: string; competitor: string } {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const source = path.join(__dirname, 'fixtures', 'http-competitor.ts');
  const competitor = path.join(PROJECT_ROOT, '.tmp', 'bench', 'http-competitor.js');
  // Its own files in one, packages left to node_modules and loaded only by the competitor chosen:
  // what tsc's output would load, in a few files fewer.
  buildSync({
    entryPoints: [source],
    outfile: competitor,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
  });
  return { keel: path.join(PROJECT_ROOT, 'dist', 'samples', 'hello-http', 'main.js'), competitor };
}

interface Start {
  ms: number;
  /** CPU time (all threads) until ready: moved less than wall time by the other work on the machine. */
  cpuMs: number;
  rssMb: number;
}

/** Spawn to the first 200 on GET /hello, then the resident memory of the ready process. */
async function coldStart(entry: string, env: (port: number) => NodeJS.ProcessEnv): Promise<Start> {
  const port = await freePort();
  const began = performance.now();
  const child = spawnNode([entry], env(port));
  try {
    const ready = await firstOk(port, '/hello');
    return { ms: ready - began, cpuMs: cpuMicroseconds(child.pid!) / 1000, rssMb: rssMegabytes(child.pid!) };
  } finally {
    await terminate(child);
  }
}

interface Loaded {
  rssMb: number;
  requests: number;
}

/** A process serving GET /hello to autocannon on 127.0.0.1 for LOAD_SECONDS; its RSS at the end. */
async function rssAfterLoad(entry: string, env: (port: number) => NodeJS.ProcessEnv): Promise<Loaded> {
  const port = await freePort();
  const child = spawnNode([entry], env(port));
  try {
    await firstOk(port, '/hello');
    const load = await loadHello(port, child.pid!, LOAD_SECONDS, LOAD_CONNECTIONS);
    if (load.failed > 0) throw new Error(`${load.failed} requests failed under load`);
    return { rssMb: rssMegabytes(child.pid!), requests: load.requestsPerSecond * LOAD_SECONDS };
  } finally {
    await terminate(child);
  }
}

export async function main(): Promise<void> {
  const entries = compileEntries();
  const loadBefore = loadAverage();
  const competitor = (name: Competitor) => ({
    name: COMPETITORS[name],
    entry: entries.competitor,
    env: (port: number) => ({ PORT: String(port), COMPETITOR: name }),
    judged: false,
  });
  const sides = [
    competitor('bare-koa'),
    competitor('koa-full'),
    competitor('fastify'),
    competitor('fastify-full'),
    { name: 'Keel samples/hello-http (all HTTP built-ins)', entry: entries.keel, env: keelEnv, judged: true },
    {
      name: 'Keel, KEEL_COMPILE_CACHE=off',
      entry: entries.keel,
      env: (port: number) => ({ ...keelEnv(port), KEEL_COMPILE_CACHE: 'off' }),
      judged: false,
    },
  ].map((side) => ({ ...side, starts: [] as Start[] }));
  // Interleaved, one warm-up each for the file system cache.
  for (let round = -1; round < REPETITIONS; round++) {
    for (const side of sides) {
      const start = await coldStart(side.entry, side.env);
      if (round >= 0) side.starts.push(start);
    }
  }
  const rows = sides.map((side) => ({
    name: side.name,
    judged: side.judged,
    ms: median(side.starts.map((start) => start.ms)),
    cpuMs: median(side.starts.map((start) => start.cpuMs)),
    rssMb: median(side.starts.map((start) => start.rssMb)),
  }));
  const [bareKoa, koaFull] = rows;
  console.log(
    `## HTTP cold start: spawn to first 200, compiled JS, median of ${REPETITIONS}, node ${process.version}\n`,
  );
  console.log(
    markdownTable(
      [
        'process (what it includes)',
        'spawn to first 200 ms',
        'vs bare koa',
        'CPU ms to first 200',
        'vs bare koa (CPU)',
        'target',
        'RSS after ready MB',
        'vs koa-full RSS',
        'RSS target',
        'verdict',
      ],
      rows.map((row) => [
        row.name,
        fixed(row.ms, 1),
        times(row.ms / bareKoa.ms),
        fixed(row.cpuMs, 0),
        times(row.cpuMs / bareKoa.cpuMs),
        row.judged ? `<= ${TIME_TARGET}x` : '',
        fixed(row.rssMb, 1),
        times(row.rssMb / koaFull.rssMb),
        row.judged ? '<= 1.00x' : '',
        row.judged ? verdict(row.ms / bareKoa.ms <= TIME_TARGET && row.rssMb <= koaFull.rssMb) : '',
      ]),
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
  await rssUnderLoad(sides.slice(0, 2).concat(sides.filter((side) => side.judged)));
}

/** The RSS target's second half: bare koa for reference, koa-full the bar, Keel judged; rounds interleaved. */
async function rssUnderLoad(
  sides: readonly {
    name: string;
    entry: string;
    env: (port: number) => NodeJS.ProcessEnv;
    judged: boolean;
  }[],
): Promise<void> {
  const loadBefore = loadAverage();
  const runs = sides.map(() => [] as Loaded[]);
  for (let round = 0; round < LOAD_ROUNDS; round++) {
    for (const [index, side] of sides.entries()) runs[index].push(await rssAfterLoad(side.entry, side.env));
  }
  const rows = sides.map((side, index) => ({
    ...side,
    rssMb: median(runs[index].map((run) => run.rssMb)),
    requests: median(runs[index].map((run) => run.requests)),
  }));
  const koaFull = rows[1];
  console.log(
    `## RSS after ${LOAD_SECONDS} s of GET /hello, ${LOAD_CONNECTIONS} connections on 127.0.0.1, median of ${LOAD_ROUNDS} processes, node ${process.version}\n`,
  );
  console.log(
    markdownTable(
      [
        'process (what it includes)',
        'requests served (median)',
        'RSS after load MB',
        'vs koa-full',
        'target',
        'verdict',
      ],
      rows.map((row) => [
        row.name,
        fixed(row.requests, 0),
        fixed(row.rssMb, 1),
        times(row.rssMb / koaFull.rssMb),
        row.judged ? '<= 1.00x' : '',
        row.judged ? verdict(row.rssMb <= koaFull.rssMb) : '',
      ]),
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
