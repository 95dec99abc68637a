// What each reach into a dependency's internals saves over the public call its fallback makes:
// the same operation both ways in one process, interleaved, many iterations each; the figure is the
// minimum ns per operation over the rounds (a loaded machine slows whole stretches, never speeds one).
import Router from '@koa/router';
import bunyan from 'bunyan';
import Koa, { type Middleware } from 'koa';
import { execFileSync } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WatchBuilder, type Etcd3, type Watcher } from 'etcd3';
import { Counter as PromCounter, Histogram as PromHistogram, Registry } from 'prom-client';
import { Logger } from '../../lib/logging/logger';
import { DEFAULT_METRICS } from '../../lib/metrics/default-metrics';
import { CounterSeries, HistogramSeries } from '../../lib/metrics/series';
import type { HttpState } from '../../lib/resources/http/context';
import { DirectRoutes } from '../../lib/resources/http/direct-routes';
import { markStatusSet, STATUS_SET } from '../../lib/resources/http/server';
import { etcdOptionsFromEnv } from '../../lib/settings/etcd-options';
import { EtcdSettingsSource } from '../../lib/settings/etcd-source';
import { until } from '../support/async';
import { etcdBinary, EtcdCluster } from '../support/etcd';
import { etcdClient, putSetting } from '../support/etcd-client';
import { TcpProxy } from '../support/tcp-proxy';
import { median } from './support/measure';
import { fixed, markdownTable, times } from './support/table';

const ITERATIONS = Number(process.env.REACH_ITERATIONS ?? 200_000);
const ROUNDS = 7;

interface Reach {
  name: string;
  /** Keel's fast path, one operation. */
  fast: () => void;
  /** What the fallback does instead: the dependency's public call. */
  fallback: () => void;
}

const labels = { method: 'GET', route: '/users/:id', status: '200' };

function promReaches(): Reach[] {
  const registry = new Registry();
  const counter = new PromCounter({
    name: 'c',
    help: 'h',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const histogram = new PromHistogram({
    name: 'h',
    help: 'h',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const counterSeries = new CounterSeries(counter, labels);
  const histogramSeries = new HistogramSeries(histogram, labels);
  let value = 0;
  return [
    {
      name: 'prom-client series store: counter inc (bound labels)',
      fast: () => counterSeries.inc(),
      fallback: () => counter.inc(labels, 1),
    },
    {
      name: 'prom-client series store: histogram observe (bound labels, 11 buckets)',
      fast: () => histogramSeries.observe((value = (value + 0.013) % 3)),
      fallback: () => histogram.observe(labels, (value = (value + 0.013) % 3)),
    },
  ];
}

function bunyanReach(): Reach {
  const sink = { write: (_record: object) => undefined };
  const target = bunyan.createLogger({
    name: 'svc',
    streams: [{ type: 'raw', level: bunyan.INFO, stream: sink }],
  });
  const fast = new Logger({ level: bunyan.INFO }, target, sink);
  const fields = { request_id: 'r-1', method: 'GET', status: 200 };
  return {
    name: 'bunyan logger fields and record builder: info(fields, message) to a raw stream',
    fast: () => fast.info(fields, 'GET /users/1 200'),
    // The fallback's path: bunyan's own call on the same logger.
    fallback: () => target.info(fields, 'GET /users/1 200'),
  };
}

/** Dropped: koa's private `_explicitStatus` against Keel's own mark set around koa's public setter. */
function koaReach(): Reach {
  const contextOf = (app: Koa) => {
    const request = new IncomingMessage(new Socket());
    return app.createContext(request, new ServerResponse(request));
  };
  const plain = contextOf(new Koa());
  const marked = new Koa();
  markStatusSet(marked as never);
  const ours = contextOf(marked);
  // Read after the loops, so the marks' reads are not dead code to the JIT.
  let seen = 0;
  process.on('exit', () => void (seen < 0 && console.log(seen)));
  return {
    name: "koa's _explicitStatus (dropped): set ctx.status, then read whether it was set",
    fast: () => {
      plain.status = 202;
      if ((plain.response as unknown as { _explicitStatus?: boolean })._explicitStatus) seen++;
    },
    fallback: () => {
      ours.status = 202;
      if ((ours.response as unknown as { [STATUS_SET]?: true })[STATUS_SET]) seen++;
    },
  };
}

/**
 * @koa/router's dispatch for a literal route: DirectRoutes against the router's own `routes()` and
 * `allowedMethods()`, the middleware its fallback takes, on a router of 20 routes as a service has.
 * Each call of the router's middleware returns a promise resolved after the loop: its allocation
 * is counted, the microtask that settles it is not, so the saving is if anything understated.
 */
function routerReach(): Reach {
  const router = new Router<HttpState>();
  const direct = new DirectRoutes(router);
  const handler = (ctx: { body: unknown }) => {
    ctx.body = 'ok';
  };
  for (let index = 0; index < 10; index++) {
    const literal = router.register(`/things${index}`, ['GET'], handler);
    if (!(literal instanceof Router)) direct.add(literal);
    router.register(`/things${index}/:id`, ['GET', 'PUT'], handler);
  }
  const app = new Koa<HttpState>();
  const request = new IncomingMessage(new Socket());
  request.method = 'GET';
  request.url = '/things7';
  const ctx = app.createContext(request, new ServerResponse(request));
  const fast = direct.middleware() as Middleware;
  const routes = router.routes() as unknown as Middleware;
  const allowed = router.allowedMethods() as unknown as Middleware;
  const next = () => Promise.resolve();
  return {
    name: '@koa/router dispatch: GET of a literal route among 20, DirectRoutes vs routes()+allowedMethods()',
    fast: () => void fast(ctx, next),
    fallback: () => void routes(ctx, () => allowed(ctx, next)),
  };
}

/**
 * CPU ms a fresh Node spends requiring what Keel needs of prom-client: its files under lib/ (the
 * fast path) or its index (the fallback). The minimum over `runs` processes, each measuring its own
 * `process.cpuUsage()` around the require only, so Node's own start is not counted.
 */
function promClientLoadMs(runs: number): {
  files: number;
  entry: number;
  filesModules: number;
  entryModules: number;
} {
  const load = (what: string) => {
    const script = `const before = process.cpuUsage(); ${what}; const spent = process.cpuUsage(before);
      console.log(JSON.stringify({ ms: (spent.user + spent.system) / 1000, modules: Object.keys(require.cache).length }))`;
    let best = { ms: Infinity, modules: 0 };
    for (let run = 0; run < runs; run++) {
      const seen = JSON.parse(
        execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }),
      ) as typeof best;
      if (seen.ms < best.ms) best = seen;
    }
    return best;
  };
  // Equal work: the index loads every default metric, and so does a Meters with process metrics.
  const files = [
    'registry',
    'counter',
    'gauge',
    'histogram',
    'util',
    ...DEFAULT_METRICS.map((metric) => `metrics/${metric}`),
  ]
    .map((file) => `require('prom-client/lib/${file}')`)
    .join('; ');
  const fast = load(files);
  const entry = load(`require('prom-client')`);
  return { files: fast.ms, entry: entry.ms, filesModules: fast.modules, entryModules: entry.modules };
}

/**
 * etcd3's watcher request (settings/etcd-source.ts): not a per-request reach, it runs once a
 * disconnect. What it saves is measured as the time from the network coming back to the first update
 * made while cut off being delivered, by the fast path (etcd3 resumes the one watcher) and by the
 * fallback (a new watcher after Keel's own backoff), forced as test/contract/etcd3-watch.test.ts does.
 * Wall-clock ms, both ways alternated on one etcd behind a TCP proxy.
 */
async function etcdResumeMs(rounds: number): Promise<{ fast: number[]; fallback: number[] } | undefined> {
  if (etcdBinary() === undefined) return undefined;
  const cluster = await EtcdCluster.start();
  const proxy = await TcpProxy.start(cluster.members[0].endpoint);
  const writer: Etcd3 = etcdClient(cluster.members);
  const original = WatchBuilder.prototype.watcher;
  const resumeOnce = async (prefix: string, forced: boolean): Promise<number> => {
    if (forced) {
      WatchBuilder.prototype.watcher = function (this: WatchBuilder): Watcher {
        const made = original.call(this);
        const request = made.request;
        Object.defineProperty(made, 'request', { get: () => ({ ...request }) });
        return made;
      };
    }
    const options = etcdOptionsFromEnv({
      KEEL_ETCD_HOSTS: proxy.endpoint,
      KEEL_ETCD_PREFIX: prefix,
      KEEL_ETCD_STALL_TIMEOUT_MS: '600000',
    })!;
    await putSetting(writer, prefix, 'n', 0);
    const source = await EtcdSettingsSource.open(options);
    const values: unknown[] = [];
    const problems: string[] = [];
    try {
      source.watch({
        onChanges: (batch) => values.push(...batch.map((change) => change.value)),
        onProblem: (line) => problems.push(line),
      });
      await putSetting(writer, prefix, 'n', 1);
      await until(() => values.length === 1, 30_000, 'the update before the cut');
      proxy.cut();
      await until(() => problems.length > 0, 30_000, 'the disconnect');
      await putSetting(writer, prefix, 'n', 2);
      const mendedAt = performance.now();
      proxy.mend();
      await until(() => values.length === 2, 30_000, 'the update made while cut off');
      return performance.now() - mendedAt;
    } finally {
      await source.close();
      WatchBuilder.prototype.watcher = original;
      proxy.mend();
    }
  };
  const fast: number[] = [];
  const fallback: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      fast.push(await resumeOnce(`bench/resume-${round}-fast/`, false));
      fallback.push(await resumeOnce(`bench/resume-${round}-fallback/`, true));
    }
  } finally {
    writer.close();
    await proxy.stop();
    await cluster.stop();
  }
  return { fast, fallback };
}

function nsPerOperation(operation: () => void): number {
  const start = performance.now();
  for (let index = 0; index < ITERATIONS; index++) operation();
  return ((performance.now() - start) * 1e6) / ITERATIONS;
}

export async function main(): Promise<void> {
  const reaches = [...promReaches(), bunyanReach(), routerReach(), koaReach()];
  const rows = reaches.map((reach) => {
    let fast = Infinity;
    let fallback = Infinity;
    nsPerOperation(reach.fast);
    nsPerOperation(reach.fallback);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating which side goes first, so neither always runs on a warmer or colder stretch.
      if (round % 2 === 0) {
        fast = Math.min(fast, nsPerOperation(reach.fast));
        fallback = Math.min(fallback, nsPerOperation(reach.fallback));
      } else {
        fallback = Math.min(fallback, nsPerOperation(reach.fallback));
        fast = Math.min(fast, nsPerOperation(reach.fast));
      }
    }
    return [
      reach.name,
      fixed(fast, 1),
      fixed(fallback, 1),
      fixed(fallback - fast, 1),
      times(fallback / fast),
    ];
  });
  console.log(
    `## Internal reaches: ns per operation, fast path vs the public call its fallback makes (min of ${ROUNDS} rounds x ${ITERATIONS}, node ${process.version})\n`,
  );
  console.log(markdownTable(['reach', 'fast ns', 'public ns', 'saved ns', 'public ÷ fast'], rows));
  const resume = await etcdResumeMs(ROUNDS);
  if (resume === undefined) console.log('\n(no etcd binary on PATH: the watch resume is not measured)');
  else {
    console.log(
      `\n## etcd3's watcher request: ms from the network back to the update made while cut off (${ROUNDS} rounds each, wall clock)\n`,
    );
    const row = (name: string, ms: number[]) => [
      name,
      fixed(median(ms), 1),
      fixed(Math.min(...ms), 1),
      fixed(Math.max(...ms), 1),
    ];
    console.log(
      markdownTable(
        ['way', 'median ms', 'min ms', 'max ms'],
        [
          row('fast path: start_revision set, etcd3 resumes its watcher', resume.fast),
          row('fallback: the watcher cancelled, a new one after the backoff', resume.fallback),
        ],
      ),
    );
  }
  const load = promClientLoadMs(ROUNDS);
  console.log(`\n## prom-client loaded at start: CPU ms in a fresh process (min of ${ROUNDS} processes)\n`);
  console.log(
    markdownTable(
      ['what is required', 'CPU ms', 'modules loaded'],
      [
        [
          `prom-client/lib/{registry,counter,gauge,histogram,util} and the ${DEFAULT_METRICS.length} default metrics' files (fast path)`,
          fixed(load.files, 1),
          String(load.filesModules),
        ],
        ["prom-client's index (the fallback)", fixed(load.entry, 1), String(load.entryModules)],
      ],
    ),
  );
}

if (require.main === module) void main();
