import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const exposedGc = (globalThis as { gc?: () => void }).gc;
const SWEEP_PAUSE_MS = 20;

/**
 * Collects garbage between samples when the runner started node with --expose-gc, so that one
 * sample does not pay for the garbage of the previous one, then leaves the event loop idle for a
 * moment: V8 sweeps on helper threads after a full GC, and on a 2-core machine that sweeping would
 * otherwise compete with the measured code.
 */
export async function settleHeap(): Promise<void> {
  exposedGc?.();
  await sleep(SWEEP_PAUSE_MS);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export type Recorder = (label: string, value: number) => void;

export interface Rounds {
  warmup: number;
  repetitions: number;
}

/**
 * Runs `round` warmup + repetitions times; each round records any number of labelled durations.
 * Warm-up rounds are discarded; the result maps each label to its median over the repetitions.
 */
export async function medians(
  rounds: Rounds,
  round: (record: Recorder) => Promise<void>,
): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>();
  for (let index = 0; index < rounds.warmup + rounds.repetitions; index++) {
    const keep = index >= rounds.warmup;
    await round((label, value) => {
      if (!keep) return;
      const list = samples.get(label) ?? [];
      list.push(value);
      samples.set(label, list);
    });
  }
  return new Map([...samples].map(([label, values]) => [label, median(values)]));
}

export interface Timing {
  wallMs: number;
  /**
   * CPU time of this process (all threads, GC helpers included). On a machine shared with other
   * work, it moves less than wall time when the scheduler hands the cores to someone else.
   */
  cpuMs: number;
}

/** Wall and CPU time taken by `work`, after settling the heap so earlier garbage is not billed to it. */
export async function timedWithCpu(work: () => unknown): Promise<Timing> {
  await settleHeap();
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  await work();
  const wallMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Wall-clock milliseconds taken by `work`, after settling the heap. */
export async function timed(work: () => unknown): Promise<number> {
  return (await timedWithCpu(work)).wallMs;
}

export function required(results: ReadonlyMap<string, number>, label: string): number {
  const value = results.get(label);
  if (value === undefined) throw new Error(`no samples recorded for ${label}`);
  return value;
}
