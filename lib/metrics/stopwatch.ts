import { performance } from 'node:perf_hooks';

/** Starts timing now; the returned function gives the seconds elapsed (Prometheus's base unit). */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => (performance.now() - start) / 1000;
}
