import type { Registry } from 'prom-client';
import { fallbackTaken } from '../internals/reach';
import { Counter, fromPromClient, promClientEntry, REACH } from './prom-client';

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

type DefaultMetric = (registry: Registry, config: { prefix: string }) => void;

/**
 * What prom-client's `collectDefaultMetrics` registers, in its order, but the CPU counters (see
 * `registerProcessCpu`). Node 20 always has `process.getActiveResourcesInfo`, on which
 * `processResources` depends.
 */
export const DEFAULT_METRICS: readonly string[] = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
];

/**
 * What `registerProcessMetrics` registers, unprefixed, as on Linux (elsewhere prom-client leaves
 * out the memory and file descriptor ones): known before they are registered, so a meter that
 * would take one of these names is refused even while the process metrics wait to be registered.
 */
export const PROCESS_METRIC_NAMES: readonly string[] = [
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_handles',
  'nodejs_active_requests',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds',
];

/** Node.js process metrics (CPU, memory, event loop lag, GC, handles) under the service prefix. */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  const metrics = defaultMetricFiles();
  if (metrics === undefined) {
    // The same metrics, CPU counters included, at the cost of loading prom-client's index.
    promClientEntry().collectDefaultMetrics({ register: registry, prefix });
  } else {
    registerProcessCpu(registry, prefix);
    for (const register of metrics) register(registry, { prefix });
  }
  for (const name of NON_COUNTERS_NAMED_TOTAL) registry.removeSingleMetric(prefix + name);
}

/** Each default metric's file, when every one of them exports its registering function; else undefined, said once. */
function defaultMetricFiles(): DefaultMetric[] | undefined {
  const metrics: DefaultMetric[] = [];
  for (const metric of DEFAULT_METRICS) {
    const register = fromPromClient<DefaultMetric>(`metrics/${metric}`);
    if (typeof register !== 'function') {
      fallbackTaken(REACH, `prom-client/lib/metrics/${metric} does not export a function`);
      return undefined;
    }
    metrics.push(register);
  }
  return metrics;
}

/**
 * prom-client's three CPU counters, same names and meaning. Its own module loads
 * @opentelemetry/api at import for exemplars, which Keel never asks for.
 */
function registerProcessCpu(registry: Registry, prefix: string): void {
  let last = process.cpuUsage();
  const counter = (name: string, help: string, collect?: () => void) =>
    new Counter({ name: prefix + name, help, registers: [registry], ...(collect && { collect }) });
  // One counter's collect sets all three, as in prom-client: the three agree at every scrape.
  const user = counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => {
    const now = process.cpuUsage();
    const userSeconds = (now.user - last.user) / 1e6;
    const systemSeconds = (now.system - last.system) / 1e6;
    last = now;
    user.inc(userSeconds);
    system.inc(systemSeconds);
    total.inc(userSeconds + systemSeconds);
  });
  const system = counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.');
  const total = counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.');
}
