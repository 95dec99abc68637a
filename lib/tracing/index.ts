export { Tracing, type FlushOutcome, type LifecycleRun, type TracingOptions } from './tracing';
export { TracingError, type TracingErrorCode } from './errors';
export { tracingSchema, type TracingExporter, type TracingSettings } from './settings';
