import { performance } from 'node:perf_hooks';
import { createMicroservice, type App, type Microservice, type ResourceClass } from '../../../lib';
import { median, settleHeap } from './measure';
import { fixed, markdownTable, times, verdict } from './table';

/** One side of a driver bench: Keel's resource or the driver used directly. */
export interface DriverSide {
  /** The `index`th operation of a round (a query, or SET then GET). */
  operation(index: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * What both driver benches measure: operations a round one at a time, then `inFlight` at a time;
 * an even number of kept rounds, so that each side leads as often (with 9, one side led 5). The
 * targets are issue 26's for PostgreSQL's trivial query, applied to Redis too.
 */
export const DRIVER_ROUNDS = {
  sequential: 4000,
  concurrent: 8000,
  inFlight: 10,
  rounds: { warmup: 2, repetitions: 10 },
  latencyTarget: 1.05,
  throughputTarget: 0.95,
} as const;

export interface DriverBench {
  /** Wire calls in one operation (SET then GET: 2): the figures are per call. */
  callsPerOperation: number;
  /** 'query' or 'command', and how the table names the raw side ('raw pg'). */
  call: string;
  raw: string;
}

/** Keel's side: `Service` created and started with settings for `resources`, its logs silent. */
export async function startedQuietly(
  Service: ResourceClass<Microservice>,
  resources: Record<string, Record<string, unknown>>,
): Promise<App> {
  const app = await createMicroservice(Service, {
    settings: {
      system: {
        logging: { profile: 'PRODUCTION', stdout: false },
        resources: { ...resources, report_server: { port: 0 } },
      },
    },
  });
  await app.start();
  return app;
}

type BySide = { keel: number[]; raw: number[] };

/**
 * Both sides in the same run, rounds interleaved and the first side rotated, the heap settled
 * before each measure: an even number of kept rounds leads with each side as often.
 */
export async function driverTable(
  sides: { keel: DriverSide; raw: DriverSide },
  bench: DriverBench,
): Promise<string> {
  const names = ['keel', 'raw'] as const;
  const latency: BySide = { keel: [], raw: [] };
  const cpu: BySide = { keel: [], raw: [] };
  const rate: BySide = { keel: [], raw: [] };
  const concurrentCpu: BySide = { keel: [], raw: [] };
  const { rounds, inFlight, latencyTarget, throughputTarget } = DRIVER_ROUNDS;
  for (let round = 0; round < rounds.warmup + rounds.repetitions; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      await settleHeap();
      const one = await sequential(sides[name], bench);
      await settleHeap();
      const many = await concurrent(sides[name], bench);
      if (round < rounds.warmup) continue;
      latency[name].push(one.wall);
      cpu[name].push(one.cpu);
      rate[name].push(many.rate);
      concurrentCpu[name].push(many.cpu);
    }
  }
  const ratio = (values: BySide) => median(values.keel) / median(values.raw);
  const row = (label: string, values: BySide, digits: number, target = '', met?: boolean) => [
    label,
    fixed(median(values.keel), digits),
    fixed(median(values.raw), digits),
    times(ratio(values)),
    target,
    met === undefined ? '' : verdict(met),
  ];
  const { call, callsPerOperation } = bench;
  return markdownTable(
    ['case', 'keel', bench.raw, 'keel / raw', 'target', 'verdict'],
    [
      row(
        `sequential, µs per ${call} (${DRIVER_ROUNDS.sequential * callsPerOperation} a round)`,
        latency,
        1,
        `<= ${latencyTarget}x`,
        ratio(latency) <= latencyTarget,
      ),
      row(`sequential, client CPU µs per ${call}`, cpu, 1),
      row(
        `${inFlight} in flight, ${call === 'query' ? 'queries' : `${call}s`}/s (${DRIVER_ROUNDS.concurrent * callsPerOperation} a round)`,
        rate,
        0,
        `>= ${throughputTarget}x`,
        ratio(rate) >= throughputTarget,
      ),
      row(`${inFlight} in flight, client CPU µs per ${call}`, concurrentCpu, 1),
    ],
  );
}

/** Wall µs and this process's CPU µs per call, one operation at a time. */
async function sequential(side: DriverSide, bench: DriverBench): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < DRIVER_ROUNDS.sequential; i++) await side.operation(i);
  const used = process.cpuUsage(cpu);
  const calls = DRIVER_ROUNDS.sequential * bench.callsPerOperation;
  return { wall: ((performance.now() - began) * 1000) / calls, cpu: (used.user + used.system) / calls };
}

/** Calls/s and this process's CPU µs per call, `DRIVER_ROUNDS.inFlight` operations at a time. */
async function concurrent(side: DriverSide, bench: DriverBench): Promise<{ rate: number; cpu: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: DRIVER_ROUNDS.inFlight }, async () => {
      while (next < DRIVER_ROUNDS.concurrent) await side.operation(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  const calls = DRIVER_ROUNDS.concurrent * bench.callsPerOperation;
  return { rate: calls / ((performance.now() - began) / 1000), cpu: (used.user + used.system) / calls };
}
