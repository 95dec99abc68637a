import type { Profiler } from 'node:inspector';
import { shortLocation } from './files';

/** One row of the profiler's table. */
export interface FunctionTime {
  function: string;
  location: string;
  self_ms: number;
  /** Of the busy time (everything but idle), 0..1. */
  share: number;
}

/**
 * Self time per function (name and file:line), from the samples and the time between them, as
 * DevTools' bottom-up view counts it; the idle node is left out.
 */
export function topFunctions(profile: Profiler.Profile, top: number): FunctionTime[] {
  const byNode = new Map<number, Profiler.ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { function: string; location: string; us: number }>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busyUs = 0;
  for (let index = 0; index < samples.length; index++) {
    const node = byNode.get(samples[index]);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    // A sample stands for the time until the next one.
    const us = Math.max(0, deltas[index + 1] ?? 0);
    busyUs += us;
    const location = url === '' ? '(native)' : shortLocation(url, lineNumber);
    const name = functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const row = selfUs.get(key);
    if (row === undefined) selfUs.set(key, { function: name, location, us });
    else row.us += us;
  }
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((row) => ({
      function: row.function,
      location: row.location,
      self_ms: Math.round(row.us / 100) / 10,
      share: busyUs === 0 ? 0 : Math.round((row.us / busyUs) * 1000) / 1000,
    }));
}

/** The rows as aligned text, for the message of the log record. */
export function functionTable(rows: readonly FunctionTime[]): string {
  return rows
    .map(
      (row) =>
        `${row.self_ms.toFixed(1).padStart(9)} ms ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.function}  ${row.location}`,
    )
    .join('\n');
}
