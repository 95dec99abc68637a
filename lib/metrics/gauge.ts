import type { Gauge as PromGauge } from 'prom-client';

import { MetricValueError } from './errors';
import { type Instrument, instrument } from './instrument';
import { GaugeSeries } from './series';
import { TimedMeter } from './timed-meter';

/** A value that goes up and down: connections open, queue length, last run's duration. */
export class Gauge<L extends string = string> extends TimedMeter<Gauge<L>, PromGauge, L> {
  private series: GaugeSeries | undefined;

  /** As decorator or wrapper: +1 while a call runs, -1 once it returns, throws or settles. */
  readonly trackInProgress: Instrument = instrument(() => {
    this.inc();
    return () => this.dec();
  });

  set(value: number): void {
    this.assertComplete();
    this.seriesOf().set(finite(value, this.name));
  }

  inc(value = 1): void {
    this.assertComplete();
    this.seriesOf().add(finite(value, this.name));
  }

  dec(value = 1): void {
    this.assertComplete();
    this.seriesOf().add(-finite(value, this.name));
  }

  /** Sets the gauge to the current Unix time in seconds. */
  setToCurrentTime(): void {
    this.assertComplete();
    this.metric.setToCurrentTime(this.boundLabels);
  }

  protected override recordDuration(seconds: number): void {
    this.seriesOf().set(seconds);
  }

  private seriesOf(): GaugeSeries {
    return (this.series ??= new GaugeSeries(this.metric, this.boundLabels));
  }
}

function finite(value: number, name: string): number {
  if (!Number.isFinite(value))
    throw new MetricValueError(`gauge "${name}" needs a finite value, got ${value}`);
  return value;
}
