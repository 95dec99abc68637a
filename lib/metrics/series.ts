import type { Counter as PromCounter, Histogram as PromHistogram } from 'prom-client';
import type { BoundLabels } from './labels';
import { fromPromClient } from './prom-client';

/**
 * prom-client's own store of a metric's series, in the version package.json pins: `hashMap` by the
 * key `hashObject` makes of the labels (lib/util.js), a counter's `{ value }`, a histogram's
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

const { hashObject } = fromPromClient<{
  hashObject(labels: BoundLabels, sortedLabelNames: readonly string[]): string;
}>('util');

/**
 * One series of a counter, its labels resolved once. prom-client's `inc(labels, value)` validates
 * the labels and builds their key on every call; a meter that bound every label has done both.
 * The first call, and the first after a `reset()` or `remove()`, goes through prom-client to make
 * the series.
 */
export class CounterSeries {
  private readonly store: Store<CounterValue>;
  private readonly key: string;

  constructor(
    private readonly metric: PromCounter,
    private readonly labels: BoundLabels,
  ) {
    this.store = metric as unknown as Store<CounterValue>;
    this.key = hashObject(labels, this.store.sortedLabelNames);
  }

  /** `value` is already checked (finite, not negative). */
  inc(value = 1): void {
    const series = this.store.hashMap[this.key];
    if (series === undefined) this.metric.inc(this.labels, value);
    else series.value += value;
  }
}

/**
 * One series of a histogram, as CounterSeries. prom-client's `observe` also turns the bucket's
 * upper bound (a number) into its property key on every call; here the keys are made once.
 */
export class HistogramSeries {
  private readonly store: Store<HistogramValue>;
  private readonly key: string;
  private readonly upperBounds: readonly number[];
  private readonly bucketKeys: readonly string[];

  constructor(
    private readonly metric: PromHistogram,
    private readonly labels: BoundLabels,
  ) {
    const store = metric as unknown as Store<HistogramValue> & { upperBounds: readonly number[] };
    this.store = store;
    this.key = hashObject(labels, store.sortedLabelNames);
    this.upperBounds = store.upperBounds;
    this.bucketKeys = store.upperBounds.map(String);
  }

  /** `value` is already checked (finite). */
  observe(value: number): void {
    const series = this.store.hashMap[this.key];
    if (series === undefined) return this.metric.observe(this.labels, value);
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
}
