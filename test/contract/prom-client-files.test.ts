// prom-client's files under lib/ that Keel loads instead of its index (lib/metrics/prom-client.ts,
// lib/metrics/default-metrics.ts): on the pinned version each is the very class or function the
// public entry exports, and a file that is gone or exports something else gives way to the entry.
import * as promClient from 'prom-client';
import { FALLBACK_WARNING } from '../../lib/internals/reach';
import { warnings } from '../support/warnings';
import type * as Keel from '../../lib/metrics/prom-client';
import type * as DefaultMetrics from '../../lib/metrics/default-metrics';

/**
 * Keel's modules and prom-client's entry loaded afresh; with `mocks`, those files of prom-client are
 * replaced and the entry is the one loaded before (what the installed version exports publicly).
 */
function loadWith(mocks: Record<string, () => object>): {
  files: typeof Keel;
  defaults: typeof DefaultMetrics;
  entry: typeof promClient;
  /** `files.summaryClass()`, called inside the isolation: the summary's file loads on first use. */
  summary: typeof promClient.Summary;
} {
  let loaded: ReturnType<typeof loadWith> | undefined;
  const mocked = Object.keys(mocks).length > 0;
  jest.isolateModules(() => {
    if (mocked) jest.doMock('prom-client', () => promClient);
    for (const [file, factory] of Object.entries(mocks)) jest.doMock(file, factory);
    const files: typeof Keel = jest.requireActual('../../lib/metrics/prom-client');
    loaded = {
      files,
      summary: files.summaryClass(),
      defaults: jest.requireActual('../../lib/metrics/default-metrics'),
      entry: mocked ? promClient : jest.requireActual('prom-client'),
    };
  });
  return loaded!;
}

/** What a registry holds, as the exposition's HELP and TYPE lines say it. */
function described(registry: promClient.Registry): string[] {
  return registry
    .getMetricsAsArray()
    .map((metric) => `${metric.name} ${String(metric.type)} ${metric.help}`)
    .sort();
}

/** What `collectDefaultMetrics` registers, but the `_active_*_total` gauges Keel drops. */
function publicDefaults(prefix: string): string[] {
  const reference = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: reference, prefix });
  return described(reference).filter((line) => !/_active_\w+_total /.test(line));
}

const moved = () => {
  throw Object.assign(new Error("Cannot find module 'prom-client/lib/summary'"), {
    code: 'MODULE_NOT_FOUND',
  });
};

describe("prom-client's files under lib/", () => {
  it("export the public entry's own classes, in the pinned version", () => {
    const seen = warnings();
    const { files, entry, summary } = loadWith({});
    seen.stop();
    expect(files.Registry).toBe(entry.Registry);
    expect(files.Counter).toBe(entry.Counter);
    expect(files.Gauge).toBe(entry.Gauge);
    expect(files.Histogram).toBe(entry.Histogram);
    expect(summary).toBe(entry.Summary);
    expect(seen.codes).toEqual([]);
  });

  it("register through the default metrics' files what collectDefaultMetrics registers", () => {
    const seen = warnings();
    const { defaults } = loadWith({});
    const registry = new promClient.Registry();
    defaults.registerProcessMetrics(registry, 'svc_');
    seen.stop();
    expect(described(registry)).toEqual(publicDefaults('svc_'));
    expect(seen.codes).toEqual([]);
  });

  it("give way to the entry's classes, said once, when a file exports another thing or is gone", () => {
    const seen = warnings();
    const { files, summary } = loadWith({
      'prom-client/lib/counter': () => ({ Counter: promClient.Counter }),
      'prom-client/lib/summary': moved,
    });
    expect(files.Counter).toBe(promClient.Counter);
    expect(summary).toBe(promClient.Summary);
    seen.stop();
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
  });

  it('register through collectDefaultMetrics, said once, when a default metric file is not a function', () => {
    const seen = warnings();
    const { defaults } = loadWith({ 'prom-client/lib/metrics/gc': () => ({ gc: true }) });
    const registry = new promClient.Registry();
    defaults.registerProcessMetrics(registry, 'svc_');
    seen.stop();
    expect(described(registry)).toEqual(publicDefaults('svc_'));
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
  });
});
