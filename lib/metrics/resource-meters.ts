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

  counter(name: string, options: MeterOptions): Counter {
    return this.service.counter(name, this.scoped(name, options));
  }

  gauge(name: string, options: MeterOptions): Gauge {
    return this.service.gauge(name, this.scoped(name, options));
  }

  summary(name: string, options: SummaryOptions): Summary {
    return this.service.summary(name, this.scoped(name, options));
  }

  histogram(name: string, options: HistogramOptions): Histogram {
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
