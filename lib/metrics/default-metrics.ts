import type { Registry } from 'prom-client';
import { registerDefaultMetrics } from './prom-client';

/**
 * prom-client's gauges that end in `_total`, which `promtool check metrics` rejects ("non-counter
 * metrics should not have _total suffix"). `sum(<prefix>nodejs_active_handles)` etc. give the same
 * numbers, so they are dropped rather than renamed to something no dashboard knows.
 */
const NON_COUNTERS_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Node.js process metrics (CPU, memory, event loop lag, GC, handles) under the service prefix. */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  registerDefaultMetrics(registry, prefix);
  for (const name of NON_COUNTERS_NAMED_TOTAL) registry.removeSingleMetric(prefix + name);
}
