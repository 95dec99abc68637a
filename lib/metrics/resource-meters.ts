import type { Counter } from './counter';
import type { Histogram, Summary } from './distribution';
import { MetricLabelError } from './errors';
import type { Gauge } from './gauge';
import type { MeterFactory } from './meter-factory';
import type { HistogramOptions, MeterOptions, SummaryOptions } from './options';

/** The label naming the resource a meter belongs to. */
export const RESOURCE_LABEL = 'resource';

/** A resource's meters: the service's factory with `resource="<name>"` bound on every meter. */
export class ResourceMeters implements MeterFactory {
  constructor(
    private readonly service: MeterFactory,
    readonly resourceName: string,
  ) {}

  counter<const L extends string = string>(name: string, options: MeterOptions<L>): Counter<L> {
    return this.service.counter(name, this.scoped(name, options));
  }

  gauge<const L extends string = string>(name: string, options: MeterOptions<L>): Gauge<L> {
    return this.service.gauge(name, this.scoped(name, options));
  }

  summary<const L extends string = string>(name: string, options: SummaryOptions<L>): Summary<L> {
    return this.service.summary(name, this.scoped(name, options));
  }

  histogram<const L extends string = string>(name: string, options: HistogramOptions<L>): Histogram<L> {
    return this.service.histogram(name, this.scoped(name, options));
  }

  private scoped<O extends MeterOptions>(name: string, options: O): O {
    if (options.labels?.[RESOURCE_LABEL] !== undefined || options.labelNames?.includes(RESOURCE_LABEL)) {
      throw new MetricLabelError(
        `metric "${name}" of resource "${this.resourceName}": label "${RESOURCE_LABEL}" is set by Keel`,
      );
    }
    return { ...options, labels: { ...options.labels, [RESOURCE_LABEL]: this.resourceName } };
  }
}
