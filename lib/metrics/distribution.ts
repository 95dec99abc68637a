import type { Histogram as PromHistogram, Summary as PromSummary } from 'prom-client';

import { MetricValueError } from './errors';
import { HistogramSeries } from './series';
import { TimedMeter } from './timed-meter';

/** A meter that records observations (sizes, durations) into a distribution. */
abstract class Distribution<Self, P extends PromSummary | PromHistogram, L extends string> extends TimedMeter<
  Self,
  P,
  L
> {
  observe(value: number): void {
    if (!Number.isFinite(value)) {
      throw new MetricValueError(
        `${this.constructor.name} "${this.name}" needs a finite value, got ${value}`,
      );
    }
    this.assertComplete();
    this.record(value);
  }

  protected override recordDuration(seconds: number): void {
    this.record(seconds);
  }

  protected record(value: number): void {
    this.metric.observe(this.boundLabels, value);
  }
}

/**
 * Quantiles over a sliding time window (10 minutes in 5 buckets by default), so a scrape or push
 * sees the recent distribution and not only what happened since the previous collection.
 */
export class Summary<L extends string = string> extends Distribution<Summary<L>, PromSummary, L> {}

/** Counts per bucket, which Prometheus can aggregate across instances. */
export class Histogram<L extends string = string> extends Distribution<Histogram<L>, PromHistogram, L> {
  private series: HistogramSeries | undefined;

  protected override record(value: number): void {
    (this.series ??= new HistogramSeries(this.metric, this.boundLabels)).observe(value);
  }
}
