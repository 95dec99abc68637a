import type { Counter } from './counter';
import type { Histogram, Summary } from './distribution';
import type { Gauge } from './gauge';
import type { HistogramOptions, MeterOptions, SummaryOptions } from './options';

/** What a resource gets for `@inject(METRICS)`: creates (or finds) meters by name. */
export interface MeterFactory {
  counter(name: string, options: MeterOptions): Counter;
  gauge(name: string, options: MeterOptions): Gauge;
  summary(name: string, options: SummaryOptions): Summary;
  histogram(name: string, options: HistogramOptions): Histogram;
}
