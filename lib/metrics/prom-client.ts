import type * as PromClient from 'prom-client';
import { fallbackTaken } from '../internals/reach';

/**
 * prom-client's pieces, each from its own file. Its index loads them all: the Pushgateway (with
 * https and tls), the cluster aggregator, and every default metric, among them the CPU metric,
 * which loads @opentelemetry/api (51 files) for exemplars Keel never asks for. That index took
 * 50 ms of a cold start on Node 20 here; these files take 20. The paths are not prom-client's
 * public API, so package.json pins its version exactly, each file is checked for what Keel takes
 * from it, and a file that is gone or exports something else gives way to the public entry
 * (`test/contract/prom-client-files.test.ts` forces it).
 */
export const REACH = "prom-client's files under lib/ (lib/metrics/prom-client.ts)";

/** `prom-client/lib/<file>`'s exports; undefined when the installed version has no such file or hides it. */
export function fromPromClient<T>(file: string): T | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file of the package, not its entry
    return require(`prom-client/lib/${file}`) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone, or shut behind an `exports` map: both are another version's layout, not a fault.
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
    throw error;
  }
}

/** prom-client's index, loaded only when a file is not what this version has. */
export function promClientEntry(): typeof PromClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on the fallback
  return require('prom-client') as typeof PromClient;
}

type MetricClass = 'Registry' | 'Counter' | 'Gauge' | 'Histogram' | 'Summary';

/** The class `file` exports as its module, checked by name; otherwise the index's, said once. */
function classFrom<N extends MetricClass>(file: string, name: N): (typeof PromClient)[N] {
  const exported = fromPromClient<(typeof PromClient)[N]>(file);
  if (typeof exported === 'function' && exported.name === name) return exported;
  fallbackTaken(REACH, `prom-client/lib/${file} does not export the ${name} class`);
  return promClientEntry()[name];
}

export const Registry = classFrom('registry', 'Registry');
export const Counter = classFrom('counter', 'Counter');
export const Gauge = classFrom('gauge', 'Gauge');
export const Histogram = classFrom('histogram', 'Histogram');

/** On the first summary: its sliding quantiles load tdigest and bintrees, 2 ms of a start that makes none. */
export function summaryClass(): typeof PromClient.Summary {
  return classFrom('summary', 'Summary');
}
