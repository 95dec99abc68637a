import type { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram } from 'prom-client';
import type { BoundLabels } from './labels';
import { fallbackTaken } from '../internals/reach';
import { fromPromClient } from './prom-client';

/**
 * prom-client's own store of a metric's series, in the version package.json pins: `hashMap` by the
 * key `hashObject` makes of the labels (lib/util.js), a counter's or a gauge's `{ value }`, a histogram's
 * `{ bucketValues, sum, count }` with one bucket key per upper bound. The test "records what
 * prom-client's own calls record" compares the exposition of both paths.
 */
interface Store<S> {
  hashMap: Record<string, S | undefined>;
  sortedLabelNames: readonly string[];
}

interface CounterValue {
  value: number;
}

interface HistogramValue {
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

type HashObject = (labels: BoundLabels, sortedLabelNames: readonly string[]) => string;

const REACH = "prom-client's series store (lib/metrics/series.ts)";

function loadHashObject(): HashObject | undefined {
  const hash = fromPromClient<{ hashObject?: unknown }>('util')?.hashObject;
  return typeof hash === 'function' ? (hash as HashObject) : undefined;
}

let hashObject: HashObject | undefined | null = null;

/**
 * `metric`'s series store and prom-client's key function, when both have the shape this version
 * has; otherwise `undefined`, said once, and the series records through prom-client's own calls.
 */
export function seriesStoreOf<S>(
  metric: object,
  extra: (store: Record<string, unknown>) => boolean = () => true,
): { store: Store<S>; hash: HashObject } | undefined {
  if (hashObject === null) hashObject = loadHashObject();
  const store = metric as Partial<Store<S>> & Record<string, unknown>;
  const shaped =
    hashObject !== undefined &&
    typeof store.hashMap === 'object' &&
    store.hashMap !== null &&
    Array.isArray(store.sortedLabelNames) &&
    extra(store);
  if (shaped) return { store: store as Store<S>, hash: hashObject! };
  fallbackTaken(
    REACH,
    hashObject === undefined
      ? 'prom-client/lib/util has no hashObject'
      : 'a metric has no hashMap/sortedLabelNames',
  );
  return undefined;
}

/**
 * One series of a counter or a gauge, its labels resolved once: both keep `{ value }`. prom-client's
 * `inc(labels, value)` and `set(labels, value)` validate the labels and build their key on every
 * call; a meter that bound every label has done both. The first call, and the first after a
 * `reset()` or `remove()`, goes through prom-client to make the series.
 */
abstract class ValueSeries<M extends PromCounter | PromGauge> {
  /** Undefined when the store has another shape: then every call goes through prom-client. */
  private store: Store<CounterValue> | undefined;
  private readonly key: string = '';

  constructor(
    protected readonly metric: M,
    protected readonly labels: BoundLabels,
    private readonly kind: string,
  ) {
    const reached = seriesStoreOf<CounterValue>(metric);
    this.store = reached?.store;
    if (reached) this.key = reached.hash(labels, reached.store.sortedLabelNames);
  }

  /** The series if it has the expected shape; undefined for prom-client's own call to record. */
  protected shapedSeries(): CounterValue | undefined {
    const series = this.store?.hashMap[this.key];
    if (typeof series?.value === 'number') return series;
    // A series without a numeric `value` is another version's: prom-client's own calls record it.
    if (series !== undefined) {
      this.store = undefined;
      fallbackTaken(REACH, `a ${this.kind}'s series has no numeric value`);
    }
    return undefined;
  }
}

export class CounterSeries extends ValueSeries<PromCounter> {
  constructor(metric: PromCounter, labels: BoundLabels) {
    super(metric, labels, 'counter');
  }

  /** `value` is already checked (finite, not negative). */
  inc(value = 1): void {
    const series = this.shapedSeries();
    if (series === undefined) this.metric.inc(this.labels, value);
    else series.value += value;
  }
}

/** A pool's in-use gauge moves twice a query: prom-client's `set` would also sort the label names each time. */
export class GaugeSeries extends ValueSeries<PromGauge> {
  constructor(metric: PromGauge, labels: BoundLabels) {
    super(metric, labels, 'gauge');
  }

  /** `value` is already checked (finite). */
  set(value: number): void {
    const series = this.shapedSeries();
    if (series === undefined) this.metric.set(this.labels, value);
    else series.value = value;
  }

  /** By `delta` (finite, either sign). */
  add(delta: number): void {
    const series = this.shapedSeries();
    if (series === undefined) this.metric.inc(this.labels, delta);
    else series.value += delta;
  }
}

/**
 * One series of a histogram, as CounterSeries. prom-client's `observe` also turns the bucket's
 * upper bound (a number) into its property key on every call; here the keys are made once.
 */
export class HistogramSeries {
  private store: Store<HistogramValue> | undefined;
  /** Whether a series of this store was seen to have the expected fields. */
  private checked = false;
  private readonly key: string = '';
  private readonly upperBounds: readonly number[] = [];
  private readonly bucketKeys: readonly string[] = [];

  constructor(
    private readonly metric: PromHistogram,
    private readonly labels: BoundLabels,
  ) {
    const reached = seriesStoreOf<HistogramValue>(metric, (store) => Array.isArray(store.upperBounds));
    this.store = reached?.store;
    if (!reached) return;
    this.key = reached.hash(labels, reached.store.sortedLabelNames);
    this.upperBounds = (metric as unknown as { upperBounds: readonly number[] }).upperBounds;
    this.bucketKeys = this.upperBounds.map(String);
  }

  /** `value` is already checked (finite). */
  observe(value: number): void {
    const series = this.store?.hashMap[this.key];
    if (series === undefined || (!this.checked && !this.shaped(series)))
      return this.metric.observe(this.labels, value);
    series.sum += value;
    series.count += 1;
    // Above the last bound it counts in +Inf only, which is `count`.
    for (let index = 0; index < this.upperBounds.length; index++) {
      if (value <= this.upperBounds[index]) {
        series.bucketValues[this.bucketKeys[index]] += 1;
        return;
      }
    }
  }

  private shaped(series: HistogramValue): boolean {
    const { bucketValues } = series;
    this.checked =
      typeof series.sum === 'number' &&
      typeof series.count === 'number' &&
      typeof bucketValues === 'object' &&
      bucketValues !== null &&
      this.bucketKeys.every((key) => typeof bucketValues[key] === 'number');
    if (!this.checked) {
      this.store = undefined;
      fallbackTaken(REACH, "a histogram's series has no numeric sum, count or bucket values");
    }
    return this.checked;
  }
}
