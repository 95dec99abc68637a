import type * as PromClient from 'prom-client';

/**
 * prom-client's pieces, each from its own file. Its index loads them all: the Pushgateway (with
 * https and tls), the cluster aggregator, and every default metric, among them the CPU metric,
 * which loads @opentelemetry/api (51 files) for exemplars Keel never asks for. That index took
 * 50 ms of a cold start on Node 20 here; these files take 20. The paths are not prom-client's
 * public API, so package.json pins its version exactly, and the process metrics test compares
 * what is registered here with what `collectDefaultMetrics` registers.
 */
function fromPromClient<T>(file: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file of the package, not its entry
  return require(`prom-client/lib/${file}`) as T;
}

export const Registry = fromPromClient<typeof PromClient.Registry>('registry');
export const Counter = fromPromClient<typeof PromClient.Counter>('counter');
export const Gauge = fromPromClient<typeof PromClient.Gauge>('gauge');
export const Histogram = fromPromClient<typeof PromClient.Histogram>('histogram');
export const Summary = fromPromClient<typeof PromClient.Summary>('summary');

type Registry = PromClient.Registry;
type DefaultMetric = (registry: Registry, config: { prefix: string }) => void;

/**
 * What `collectDefaultMetrics` registers, but the CPU counters (see `registerProcessCpu`), in its
 * order. Node 20 always has `process.getActiveResourcesInfo`, on which `processResources` depends.
 */
const DEFAULT_METRICS = [
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

export function registerDefaultMetrics(registry: Registry, prefix: string): void {
  registerProcessCpu(registry, prefix);
  for (const metric of DEFAULT_METRICS)
    fromPromClient<DefaultMetric>(`metrics/${metric}`)(registry, { prefix });
}

/** prom-client's three CPU counters, same names and meaning, without its exemplar support. */
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
