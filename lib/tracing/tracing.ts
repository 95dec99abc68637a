import type { Attributes, HrTime, Span, Tracer } from '@opentelemetry/api';
import type { InstanceIdentity } from '../identity/instance';
import type { Log } from '../lifecycle/log';
import type { Phase, ResourceReport } from '../lifecycle/status';
import { createPipeline, type TracingPipeline } from './sdk';
import type { TracingSettings } from './settings';

/** OpenTelemetry's `SpanStatusCode.ERROR`, fixed by the API's spec: the API itself is loaded only when tracing is on. */
const STATUS_ERROR = 2;

/** How a flush ended: every span exported, an export failed (its spans counted as dropped), or out of time. */
export type FlushOutcome = 'done' | 'failed' | 'timeout';

export interface TracingOptions {
  serviceName: string;
  deployName: string;
  identity: InstanceIdentity;
  settings: TracingSettings;
  log: Log;
}

/** One run of the lifecycle's phases, as the manager timed them: what the start or stop trace is made of. */
export interface LifecycleRun {
  kind: 'start' | 'stop';
  /** `performance.now()` of the manager's origin, from which the hooks' offsets count. */
  originMs: number;
  beganMs: number;
  endedMs: number;
  phases: readonly Phase[];
  resources: readonly ResourceReport[];
  /** The error the run ended with, if it failed. */
  error?: unknown;
}

/**
 * The tracing of one service (`ServiceHandle.tracing`): off unless `system.tracing.enabled`, and then
 * the spans of its start, stop and edges come from its own tracer provider. Off, nothing of
 * OpenTelemetry is loaded and every edge skips it at the cost of one property read.
 */
export class Tracing {
  private readonly pipeline: TracingPipeline | undefined;

  constructor(options: TracingOptions) {
    this.pipeline = options.settings.enabled ? pipelineFor(options) : undefined;
  }

  get enabled(): boolean {
    return this.pipeline !== undefined;
  }

  /** The tracer Keel's own spans come from; undefined while tracing is off. */
  get tracer(): Tracer | undefined {
    return this.pipeline?.tracer;
  }

  /** Spans lost since the start: the export queue was full, or their export failed. */
  droppedSpans(): number {
    return this.pipeline?.drops.dropped ?? 0;
  }

  /**
   * Exports what is queued, waiting at most `timeoutMs`: `'timeout'` if it had to give up, `'failed'`
   * if the export failed (those spans are counted as dropped).
   */
  flush(timeoutMs: number): Promise<FlushOutcome> {
    return this.pipeline?.flush(timeoutMs) ?? Promise.resolve('done');
  }

  /** Flushes and releases the exporter: called last when the service stops. */
  shutdown(timeoutMs: number): Promise<FlushOutcome> {
    return this.pipeline?.shutdown(timeoutMs) ?? Promise.resolve('done');
  }

  /**
   * The start or the stop as one trace: a root span, a span per phase, and a span per resource hook
   * with the times the lifecycle measured (those `/status/graph` reports), a failed hook as an error.
   * Returns the trace's id.
   */
  recordLifecycle(run: LifecycleRun, serviceName: string): string | undefined {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return undefined;
    const { api, tracer } = pipeline;
    const epoch = (performanceMs: number) => hrTime(performance.timeOrigin + performanceMs);
    const root = tracer.startSpan(
      `${run.kind} ${serviceName}`,
      { root: true, startTime: epoch(run.beganMs), attributes: { 'keel.lifecycle': run.kind } },
      api.ROOT_CONTEXT,
    );
    if (run.error !== undefined) markFailed(root, run.error);
    const rootContext = api.trace.setSpan(api.ROOT_CONTEXT, root);
    for (const phase of run.phases) {
      const hooks = run.resources.flatMap((report) => {
        const timing = report.phases[phase];
        return timing === undefined ? [] : [{ report, timing }];
      });
      if (hooks.length === 0) continue;
      const phaseBegan = Math.min(...hooks.map(({ timing }) => timing.offsetMs));
      const phaseEnded = Math.max(...hooks.map(({ timing }) => timing.offsetMs + timing.durationMs));
      const phaseSpan = tracer.startSpan(
        phase,
        { startTime: epoch(run.originMs + phaseBegan), attributes: { 'keel.phase': phase } },
        rootContext,
      );
      const phaseContext = api.trace.setSpan(rootContext, phaseSpan);
      for (const { report, timing } of hooks) {
        const attributes: Attributes = { 'keel.phase': phase, 'keel.resource': report.name };
        if (report.dependsOn.length > 0) attributes['keel.depends_on'] = report.dependsOn;
        const span = tracer.startSpan(
          `${phase} ${report.name}`,
          { startTime: epoch(run.originMs + timing.offsetMs), attributes },
          phaseContext,
        );
        const failure = report.statusText?.startsWith(`${phase}: `) ? report.statusText : undefined;
        if (failure !== undefined) {
          markFailed(phaseSpan, failure);
          markFailed(span, failure.slice(phase.length + 2));
        }
        span.end(epoch(run.originMs + timing.offsetMs + timing.durationMs));
      }
      phaseSpan.end(epoch(run.originMs + phaseEnded));
    }
    root.end(epoch(run.endedMs));
    return root.spanContext().traceId;
  }
}

/**
 * Epoch milliseconds as `[seconds, nanoseconds]` to the microsecond, the clock's own resolution:
 * the Zipkin exporter writes the start as microseconds without rounding, and Zipkin refuses a
 * timestamp that is not a whole number.
 */
function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  const micros = Math.round((epochMs - seconds * 1000) * 1000);
  return micros >= 1e6 ? [seconds + 1, (micros - 1e6) * 1000] : [seconds, micros * 1000];
}

/** A span's error: its status and an `exception` event, as the semantic conventions have it. */
export function markFailed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) span.recordException(error);
  else span.addEvent('exception', { 'exception.message': message });
  span.setStatus({ code: STATUS_ERROR, message });
}

function pipelineFor({ serviceName, deployName, identity, settings, log }: TracingOptions): TracingPipeline {
  const attributes: Record<string, string | number | boolean> = {
    ...settings.resource_attributes,
    'service.name': serviceName,
    'service.instance.id': identity.instance_id,
    ...(identity.version !== undefined && { 'service.version': identity.version }),
    ...(identity.revision !== undefined && { 'vcs.ref.head.revision': identity.revision }),
    ...(deployName !== '' && { 'deployment.environment.name': deployName }),
  };
  return createPipeline({
    settings,
    attributes,
    onFirstDrop: (reason) =>
      log.warn(
        { exporter: settings.exporter, endpoint: settings.endpoint },
        `tracing dropped spans: ${reason}; further drops are counted in tracing_dropped_spans, not logged`,
      ),
  });
}
