import { performance } from 'node:perf_hooks';
import { median, settleHeap } from './measure';
import { fixed, markdownTable, times, verdict } from './table';

/** One side of a driver bench: Keel's resource or the driver used directly. */
export interface DriverSide {
  /** The `index`th operation of a round (a query, or SET then GET). */
  operation(index: number): Promise<unknown>;
  close(): Promise<void>;
}

export interface DriverBench {
  /** Operations a round, one at a time, then with `inFlight` at a time. */
  sequential: number;
  concurrent: number;
  inFlight: number;
  rounds: { warmup: number; repetitions: number };
  /** Wire calls in one operation (SET then GET: 2): the figures are per call. */
  callsPerOperation: number;
  /** 'query' or 'command', and how the table names the raw side ('raw pg'). */
  call: string;
  raw: string;
  latencyTarget: number;
  throughputTarget: number;
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
  for (let round = 0; round < bench.rounds.warmup + bench.rounds.repetitions; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      await settleHeap();
      const one = await sequential(sides[name], bench);
      await settleHeap();
      const many = await concurrent(sides[name], bench);
      if (round < bench.rounds.warmup) continue;
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
  const { call, inFlight, callsPerOperation } = bench;
  return markdownTable(
    ['case', 'keel', bench.raw, 'keel / raw', 'target', 'verdict'],
    [
      row(
        `sequential, µs per ${call} (${bench.sequential * callsPerOperation} a round)`,
        latency,
        1,
        `<= ${bench.latencyTarget}x`,
        ratio(latency) <= bench.latencyTarget,
      ),
      row(`sequential, client CPU µs per ${call}`, cpu, 1),
      row(
        `${inFlight} in flight, ${call === 'query' ? 'queries' : `${call}s`}/s (${bench.concurrent * callsPerOperation} a round)`,
        rate,
        0,
        `>= ${bench.throughputTarget}x`,
        ratio(rate) >= bench.throughputTarget,
      ),
      row(`${inFlight} in flight, client CPU µs per ${call}`, concurrentCpu, 1),
    ],
  );
}

/** Wall µs and this process's CPU µs per call, one operation at a time. */
async function sequential(side: DriverSide, bench: DriverBench): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < bench.sequential; i++) await side.operation(i);
  const used = process.cpuUsage(cpu);
  const calls = bench.sequential * bench.callsPerOperation;
  return { wall: ((performance.now() - began) * 1000) / calls, cpu: (used.user + used.system) / calls };
}

/** Calls/s and this process's CPU µs per call, `inFlight` operations at a time. */
async function concurrent(side: DriverSide, bench: DriverBench): Promise<{ rate: number; cpu: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: bench.inFlight }, async () => {
      while (next < bench.concurrent) await side.operation(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  const calls = bench.concurrent * bench.callsPerOperation;
  return { rate: calls / ((performance.now() - began) / 1000), cpu: (used.user + used.system) / calls };
}
