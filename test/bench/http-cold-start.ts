import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSync } from 'esbuild';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import {
  firstOk,
  freePort,
  keelEnv,
  loadAverage,
  PROJECT_ROOT,
  rssMegabytes,
  spawnNode,
  terminate,
} from './fixtures/http-processes';

const REPETITIONS = Number(process.env.HTTP_BENCH_STARTS ?? 10);
const TIME_TARGET = 1.3;
const RSS_TARGET_MB = 65;

/**
 * Both sides run compiled JavaScript, so the loader's compile time is not measured: Keel's
 * samples/hello-http as `npm run build` ships it in dist/, and the bare koa fixture compiled by esbuild.
 */
function compileEntries(): { keel: string; bare: string } {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const source = path.join(__dirname, 'fixtures', 'http-bare-koa.ts');
  const bare = path.join(PROJECT_ROOT, '.tmp', 'bench', 'http-bare-koa.js');
  // Its own two files in one, packages left to node_modules: what tsc's output would load, in one file fewer.
  buildSync({
    entryPoints: [source],
    outfile: bare,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
  });
  return { keel: path.join(PROJECT_ROOT, 'dist', 'samples', 'hello-http', 'main.js'), bare };
}

interface Start {
  ms: number;
  rssMb: number;
}

/** Spawn to the first 200 on GET /hello, then the resident memory of the ready process. */
async function coldStart(entry: string, env: (port: number) => NodeJS.ProcessEnv): Promise<Start> {
  const port = await freePort();
  const began = performance.now();
  const child = spawnNode([entry], env(port));
  try {
    const ready = await firstOk(port, '/hello');
    return { ms: ready - began, rssMb: rssMegabytes(child.pid!) };
  } finally {
    await terminate(child);
  }
}

export async function main(): Promise<void> {
  const entries = compileEntries();
  const loadBefore = loadAverage();
  const sides = [
    { name: 'bare koa + @koa/router', entry: entries.bare, env: (port: number) => ({ PORT: String(port) }) },
    { name: 'Keel samples/hello-http', entry: entries.keel, env: keelEnv },
  ].map((side) => ({ ...side, starts: [] as Start[] }));
  // Interleaved, one warm-up each for the file system cache.
  for (let round = -1; round < REPETITIONS; round++) {
    for (const side of sides) {
      const start = await coldStart(side.entry, side.env);
      if (round >= 0) side.starts.push(start);
    }
  }
  const [floor, keel] = sides.map((side) => ({
    name: side.name,
    ms: median(side.starts.map((start) => start.ms)),
    rssMb: median(side.starts.map((start) => start.rssMb)),
  }));
  const ratio = keel.ms / floor.ms;
  console.log(`## HTTP cold start: spawn to first 200, compiled JS, median of ${REPETITIONS}\n`);
  console.log(
    markdownTable(
      [
        'process',
        'spawn to first 200 ms',
        'vs bare koa',
        'target',
        'RSS after ready MB',
        'RSS target',
        'verdict',
      ],
      [
        [floor.name, fixed(floor.ms, 1), times(1), '', fixed(floor.rssMb, 1), '', ''],
        [
          keel.name,
          fixed(keel.ms, 1),
          times(ratio),
          `<= ${TIME_TARGET}x`,
          fixed(keel.rssMb, 1),
          `<= ${RSS_TARGET_MB} MB`,
          verdict(ratio <= TIME_TARGET && keel.rssMb <= RSS_TARGET_MB),
        ],
      ],
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
