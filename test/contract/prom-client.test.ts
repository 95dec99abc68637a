// prom-client's series store (lib/metrics/series.ts): Keel's fast path against prom-client's own
// calls on the pinned version, and the fallback a metric without that store takes.
import {
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from 'prom-client';
import { FALLBACK_WARNING } from '../../lib/internals/reach';
import { warnings } from '../support/warnings';
import { CounterSeries, GaugeSeries, HistogramSeries, seriesStoreOf } from '../../lib/metrics/series';

const BUCKETS = [0.005, 0.1, 1, 5];
const VALUES = [0.005, 0.05, 0.001, 7, -2, 0, 1, 0.5, 5, 12.25];
const LABELS = { method: 'GET', route: '/hello' };

function pair(registry: Registry, name: string) {
  return {
    counter: new PromCounter({
      name: `${name}_total`,
      help: 'h',
      labelNames: ['method', 'route'],
      registers: [registry],
    }),
    histogram: new PromHistogram({
      name: `${name}_seconds`,
      help: 'h',
      labelNames: ['method', 'route'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    gauge: new PromGauge({
      name: `${name}_in_use`,
      help: 'h',
      labelNames: ['method', 'route'],
      registers: [registry],
    }),
  };
}

/** prom-client's public API of a metric and nothing of its store: what an upgrade that moved the store leaves. */
function publicOnly<M extends PromCounter | PromHistogram | PromGauge>(metric: M): M {
  const api = {
    inc: (labels: never, value: number) => (metric as PromCounter).inc(labels, value),
    observe: (labels: never, value: number) => (metric as PromHistogram).observe(labels, value),
    set: (labels: never, value: number) => (metric as PromGauge).set(labels, value),
  };
  return api as unknown as M;
}

describe("prom-client's series store", () => {
  it('has the shape the fast path reads, in the pinned version', () => {
    const { counter, histogram, gauge } = pair(new Registry(), 'shape');
    expect(seriesStoreOf(counter)).toBeDefined();
    expect(seriesStoreOf(gauge)).toBeDefined();
    expect(seriesStoreOf(histogram, (store) => Array.isArray(store.upperBounds))).toBeDefined();
  });

  it("records through the store what prom-client's own calls record, without a warning", async () => {
    const seen = warnings();
    const keel = new Registry();
    const reference = new Registry();
    const fast = pair(keel, 'svc');
    const own = pair(reference, 'svc');
    const counter = new CounterSeries(fast.counter, LABELS);
    const histogram = new HistogramSeries(fast.histogram, LABELS);
    const gauge = new GaugeSeries(fast.gauge, LABELS);
    for (const value of VALUES) {
      counter.inc(2);
      histogram.observe(value);
      gauge.add(value);
      own.counter.inc(LABELS, 2);
      own.histogram.observe(LABELS, value);
      own.gauge.inc(LABELS, value);
    }
    gauge.set(3);
    own.gauge.set(LABELS, 3);
    gauge.add(-1);
    own.gauge.dec(LABELS, 1);
    fast.counter.reset();
    own.counter.reset();
    counter.inc();
    own.counter.inc(LABELS, 1);
    fast.gauge.reset();
    own.gauge.reset();
    gauge.set(4);
    own.gauge.set(LABELS, 4);
    seen.stop();
    expect(await keel.metrics()).toBe(await reference.metrics());
    expect(seen.codes).toEqual([]);
  });

  it("takes prom-client's own calls, and says so once, when a metric has no such store", async () => {
    const seen = warnings();
    const keel = new Registry();
    const reference = new Registry();
    const behind = pair(keel, 'svc');
    const own = pair(reference, 'svc');
    const counter = new CounterSeries(publicOnly(behind.counter), LABELS);
    const histogram = new HistogramSeries(publicOnly(behind.histogram), LABELS);
    const gauge = new GaugeSeries(publicOnly(behind.gauge), LABELS);
    for (const value of VALUES) {
      counter.inc(2);
      histogram.observe(value);
      gauge.add(value);
      own.counter.inc(LABELS, 2);
      own.histogram.observe(LABELS, value);
      own.gauge.inc(LABELS, value);
    }
    gauge.set(3);
    own.gauge.set(LABELS, 3);
    seen.stop();
    expect(await keel.metrics()).toBe(await reference.metrics());
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
  });
});
