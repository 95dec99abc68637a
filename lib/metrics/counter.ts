import type { Counter as PromCounter } from 'prom-client';

import { MetricValueError } from './errors';
import { type Instrument, instrument } from './instrument';
import { Meter } from './meter';
import { CounterSeries } from './series';

/** A value that only goes up: requests served, errors, tasks done. */
export class Counter<L extends string = string> extends Meter<Counter<L>, PromCounter, L> {
  private series: CounterSeries | undefined;

  /** As decorator (`@c.countCalls()`) or wrapper (`c.countCalls(fn)`): one increment per call. */
  readonly countCalls: Instrument = instrument(() => {
    this.inc();
    return ignoreOutcome;
  });

  /** As decorator or wrapper: one increment per call that throws or rejects; the error still propagates. */
  readonly countExceptions: Instrument = instrument(() => {
    this.assertComplete();
    return (failed) => {
      if (failed) this.inc();
    };
  });

  /** By 1 when no value is given. */
  inc(value?: number): void {
    // The range test also rejects NaN, which would poison the series for good.
    if (value !== undefined && !(value >= 0 && value < Infinity)) {
      throw new MetricValueError(
        `counter "${this.name}" can only be increased by a finite value >= 0, got ${value}`,
      );
    }
    this.assertComplete();
    (this.series ??= new CounterSeries(this.metric, this.boundLabels)).inc(value);
  }
}

function ignoreOutcome(): void {}
