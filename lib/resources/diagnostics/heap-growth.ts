import type { HeapProfiler } from 'node:inspector';
import { pathToFileURL } from 'node:url';
import { shortLocation } from './files';

/**
 * The analyzer's own allocations (the sites of the last look, kept for the next) are not the
 * service's. Told by name within Keel's scripts, not by folder: in the published build, one bundle
 * beside this file holds all of Keel, and a folder rule would hide every allocation Keel makes.
 */
const OWN_FUNCTIONS: ReadonlySet<string> = new Set([
  // Declarations are hoisted: the names are there before this line runs.
  bytesBySite.name,
  topGrowth.name,
  growthTable.name,
  shortLocation.name,
]);
const KEEL_SCRIPTS = pathToFileURL(__dirname).href + '/';

function isOwnFrame({ functionName, url }: HeapProfiler.SamplingHeapProfileNode['callFrame']): boolean {
  return (
    url.startsWith('node:inspector') || (url.startsWith(KEEL_SCRIPTS) && OWN_FUNCTIONS.has(functionName))
  );
}

/** One row of the memory analyzer's table: an allocation site and what it holds. */
export interface SiteGrowth {
  function: string;
  location: string;
  /** Estimated bytes of live objects allocated here. */
  live_bytes: number;
  /** Since the previous look (all of it at the first). */
  growth_bytes: number;
}

/** Live bytes per allocation site (the function that allocated, and its file:line). */
export type SiteBytes = Map<string, { function: string; location: string; bytes: number }>;

export function bytesBySite(profile: HeapProfiler.SamplingHeapProfile): SiteBytes {
  const sites: SiteBytes = new Map();
  const stack: HeapProfiler.SamplingHeapProfileNode[] = [profile.head];
  while (stack.length > 0) {
    const node = stack.pop()!;
    stack.push(...node.children);
    if (node.selfSize === 0) continue;
    if (isOwnFrame(node.callFrame)) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const location = url === '' ? '(native)' : shortLocation(url, lineNumber);
    const name = functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const site = sites.get(key);
    if (site === undefined) sites.set(key, { function: name, location, bytes: node.selfSize });
    else site.bytes += node.selfSize;
  }
  return sites;
}

/** The sites that grew most from `before` to `now`, largest growth first. */
export function topGrowth(before: SiteBytes, now: SiteBytes, top: number): SiteGrowth[] {
  return [...now.entries()]
    .map(([key, site]) => ({
      function: site.function,
      location: site.location,
      live_bytes: site.bytes,
      growth_bytes: site.bytes - (before.get(key)?.bytes ?? 0),
    }))
    .filter((row) => row.growth_bytes > 0)
    .sort((a, b) => b.growth_bytes - a.growth_bytes)
    .slice(0, top);
}

export function growthTable(rows: readonly SiteGrowth[]): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  return rows
    .map(
      (row) =>
        `${`+${kib(row.growth_bytes)}`.padStart(14)} ${kib(row.live_bytes).padStart(13)} live  ${row.function}  ${row.location}`,
    )
    .join('\n');
}
