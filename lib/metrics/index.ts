export { Counter } from './counter';
export { Histogram, Summary } from './distribution';
export { MetricConflictError, MetricLabelError, MetricValueError, MetricsError } from './errors';
export type { MeterDefinition, MeterType } from './family';
export { Gauge } from './gauge';
export type { AnyFunction, Instrument, MethodDecorator } from './instrument';
export type { BoundLabels, LabelValue, LabelValues } from './labels';
export type { MeterFactory } from './meter-factory';
export { Meters, type MetersOptions } from './meters';
export { counterName, sanitizeLabelName, sanitizeMetricName } from './names';
export {
  DEFAULT_BUCKETS,
  DEFAULT_PERCENTILES,
  DEFAULT_SUMMARY_AGE_BUCKETS,
  DEFAULT_SUMMARY_WINDOW_SECONDS,
  type HistogramOptions,
  type MeterOptions,
  type SummaryOptions,
} from './options';
export { RESOURCE_LABEL, ResourceMeters } from './resource-meters';
export { metricsSchema, type MetricsSettings } from './schema';
export { CarbonSink, type CarbonSinkOptions, type CarbonSinkStats } from './reporters/carbon';
export { FileSink } from './reporters/file';
export { graphiteLines, type GraphiteIdentity, type MetricsSource } from './reporters/graphite';
export type { LineSink, ReporterLogger } from './reporters/line-sink';
export { MetricsReporters, type MetricsReportersContext } from './reporters/metrics-reporters';
export { PushReporter, type PushReporterOptions } from './reporters/push-reporter';
export { StreamSink } from './reporters/stream';
