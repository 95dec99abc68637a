/**
 * Keel's meters against raw prom-client, measured in the same run:
 * - `counter.inc()` with two labels, ns/op. Target: <= 1.2x prom-client's `inc(labels)`.
 * - rendering the Prometheus text of 10,000 series, ms. Target: <= 1.2x `registry.metrics()`.
 * The per-call `.labels({...}).inc()` row has no target; it shows the cost of the flyweight lookup.
 */
import * as prom from 'prom-client';

import { Meters } from '../../lib/metrics';
import { medians, required, type Rounds, timed } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';

const INC_OPS = 200_000;
const INC_ROUNDS: Rounds = { warmup: 5, repetitions: 41 };
const SERIES = 10_000;
const TARGET_RATIO = 1.2;

interface Comparison {
  name: string;
  /** A render is short and noisy, an increment loop long: each gets the rounds that steady it. */
  rounds: Rounds;
  unit: string;
  decimals: number;
  keel: () => unknown;
  floor: () => unknown;
  /** Turns the milliseconds of one run into the unit shown. */
  scale: (ms: number) => number;
  target: number | undefined;
}

function perOp(ms: number): number {
  return (ms * 1e6) / INC_OPS;
}

function counterComparisons(): Comparison[] {
  const meters = new Meters({ serviceName: 'bench', processMetrics: false });
  const bound = meters.counter('bound_requests', {
    help: 'requests',
    labels: { method: 'GET', status: 200 },
  });
  const family = meters.counter('family_requests', { help: 'requests', labelNames: ['method', 'status'] });
  const raw = new prom.Counter({
    name: 'raw_requests_total',
    help: 'requests',
    labelNames: ['method', 'status'],
    registers: [new prom.Registry()],
  });
  const labels = { method: 'GET', status: '200' };
  return [
    {
      name: 'counter.inc(), 2 labels bound at creation',
      rounds: INC_ROUNDS,
      unit: 'ns/op',
      decimals: 1,
      keel: () => {
        for (let i = 0; i < INC_OPS; i++) bound.inc();
      },
      floor: () => {
        for (let i = 0; i < INC_OPS; i++) raw.inc(labels);
      },
      scale: perOp,
      target: TARGET_RATIO,
    },
    {
      name: 'counter.labels({2 labels}).inc() per call',
      rounds: INC_ROUNDS,
      unit: 'ns/op',
      decimals: 1,
      keel: () => {
        for (let i = 0; i < INC_OPS; i++) family.labels({ method: 'GET', status: '200' }).inc();
      },
      floor: () => {
        for (let i = 0; i < INC_OPS; i++) raw.inc({ method: 'GET', status: '200' });
      },
      scale: perOp,
      target: undefined,
    },
  ];
}

function renderComparison(): Comparison {
  const meters = new Meters({ serviceName: 'bench', processMetrics: false });
  const keelSeries = meters.counter('series', { help: 'one of many series', labelNames: ['id'] });
  const registry = new prom.Registry();
  const rawSeries = new prom.Counter({
    name: 'bench_series_total',
    help: 'one of many series',
    labelNames: ['id'],
    registers: [registry],
  });
  for (let id = 0; id < SERIES; id++) {
    keelSeries.labels({ id }).inc(id);
    rawSeries.inc({ id: String(id) }, id);
  }
  return {
    name: `render /metrics, ${SERIES.toLocaleString('en')} series`,
    rounds: { warmup: 5, repetitions: 41 },
    unit: 'ms',
    decimals: 2,
    keel: () => meters.render(),
    floor: () => registry.metrics(),
    scale: (ms) => ms,
    target: TARGET_RATIO,
  };
}

/** Both sides in every round, the first one swapping each round, so drift hits both alike. */
async function measure(comparison: Comparison): Promise<{ keel: number; floor: number }> {
  let round = 0;
  const results = await medians(comparison.rounds, async (record) => {
    const sides: [string, () => unknown][] = [
      ['keel', comparison.keel],
      ['floor', comparison.floor],
    ];
    if (round++ % 2 === 1) sides.reverse();
    for (const [label, work] of sides) record(label, await timed(work));
  });
  return {
    keel: comparison.scale(required(results, 'keel')),
    floor: comparison.scale(required(results, 'floor')),
  };
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const comparison of [...counterComparisons(), renderComparison()]) {
    const { keel, floor } = await measure(comparison);
    const ratio = keel / floor;
    rows.push([
      comparison.name,
      comparison.unit,
      fixed(keel, comparison.decimals),
      fixed(floor, comparison.decimals),
      times(ratio),
      comparison.target === undefined ? '-' : `<= ${comparison.target}x`,
      comparison.target === undefined ? '-' : verdict(ratio <= comparison.target),
      `${comparison.rounds.repetitions} rounds`,
    ]);
  }
  console.log('## metrics (medians; both sides alternate within each round)\n');
  const headers = ['benchmark', 'unit', 'keel', 'prom-client', 'ratio', 'target', 'verdict', 'median of'];
  console.log(markdownTable(headers, rows));
  console.log();
}
