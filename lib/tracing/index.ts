export {
  SpanScope,
  Tracing,
  TRACE_CONTEXT,
  type FlushOutcome,
  type HeaderCarrier,
  type KeelSpanOptions,
  type LifecycleRun,
  type SpanKindName,
  type TraceLogFields,
  type TracingOptions,
} from './tracing';
export { TracingError, type TracingErrorCode } from './errors';
export { tracingSchema, type TracingExporter, type TracingSettings } from './settings';
export { tracedProcess, tracedProduce } from './messaging';
