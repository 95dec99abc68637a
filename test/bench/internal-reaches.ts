// What each reach into a dependency's internals saves over the public call its fallback makes:
// the same operation both ways in one process, interleaved, many iterations each; the figure is the
// minimum ns per operation over the rounds (a loaded machine slows whole stretches, never speeds one).
import bunyan from 'bunyan';
import Koa from 'koa';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Counter as PromCounter, Histogram as PromHistogram, Registry } from 'prom-client';
import { Logger } from '../../lib/logging/logger';
import { CounterSeries, HistogramSeries } from '../../lib/metrics/series';
import { markStatusSet, STATUS_SET } from '../../lib/resources/http/server';
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

function nsPerOperation(operation: () => void): number {
  const start = performance.now();
  for (let index = 0; index < ITERATIONS; index++) operation();
  return ((performance.now() - start) * 1e6) / ITERATIONS;
}

export async function main(): Promise<void> {
  const reaches = [...promReaches(), bunyanReach(), koaReach()];
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
}

if (require.main === module) void main();
