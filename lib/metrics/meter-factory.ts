import type { Counter } from './counter';
import type { Histogram, Summary } from './distribution';
import type { Gauge } from './gauge';
import type { HistogramOptions, MeterOptions, SummaryOptions } from './options';

/** What a resource gets for `@inject(METRICS)`: creates (or finds) meters by name. */
export interface MeterFactory {
  /** `labelNames` type the meter's `.labels({...})`: a name not among them does not compile. */
  counter<const L extends string = string>(name: string, options: MeterOptions<L>): Counter<L>;
  gauge<const L extends string = string>(name: string, options: MeterOptions<L>): Gauge<L>;
  summary<const L extends string = string>(name: string, options: SummaryOptions<L>): Summary<L>;
  histogram<const L extends string = string>(name: string, options: HistogramOptions<L>): Histogram<L>;
}
