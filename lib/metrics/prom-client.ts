import type * as PromClient from 'prom-client';

/**
 * prom-client's pieces, each from its own file. Its index loads them all: the Pushgateway (with
 * https and tls), the cluster aggregator, and every default metric, among them the CPU metric,
 * which loads @opentelemetry/api (51 files) for exemplars Keel never asks for. That index took
 * 50 ms of a cold start on Node 20 here; these files take 20. The paths are not prom-client's
 * public API, so package.json pins its version exactly, and the process metrics test compares
 * what default-metrics.ts registers with what `collectDefaultMetrics` registers.
 */
export function fromPromClient<T>(file: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file of the package, not its entry
  return require(`prom-client/lib/${file}`) as T;
}

export const Registry = fromPromClient<typeof PromClient.Registry>('registry');
export const Counter = fromPromClient<typeof PromClient.Counter>('counter');
export const Gauge = fromPromClient<typeof PromClient.Gauge>('gauge');
export const Histogram = fromPromClient<typeof PromClient.Histogram>('histogram');

/** On the first summary: its sliding quantiles load tdigest and bintrees, 2 ms of a start that makes none. */
export function summaryClass(): typeof PromClient.Summary {
  return fromPromClient<typeof PromClient.Summary>('summary');
}
