import type * as OtelApi from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  ContextManager,
  HrTime,
  Span,
  SpanContext,
  SpanKind,
  Tracer,
} from '@opentelemetry/api';
import { ContextKey, contextValue, currentContext, RequestContext, withContext } from '../context';
import type { InstanceIdentity } from '../identity/instance';
import type { Log } from '../lifecycle/log';
import type { Phase, ResourceReport } from '../lifecycle/status';
import { createPipeline, type TracingPipeline } from './sdk';
import type { TracingSettings } from './settings';
import { isPromiseLike } from '../util';

/** OpenTelemetry's `SpanStatusCode.ERROR`, fixed by the API's spec: the API itself is loaded only when tracing is on. */
const STATUS_ERROR = 2;

/** The OpenTelemetry context of the work under way, in Keel's request context: what follows the code through `await`. */
export const TRACE_CONTEXT = new ContextKey<Context>('opentelemetry');

/** OpenTelemetry's span kinds by name: Keel's edges name them without loading the API while tracing is off. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';
const KINDS: Readonly<Record<SpanKindName, SpanKind>> = {
  internal: 0,
  server: 1,
  client: 2,
  producer: 3,
  consumer: 4,
};

export interface KeelSpanOptions {
  kind?: SpanKindName;
  attributes?: Attributes;
  /**
   * The parent: a context `extract()` read from a request or a message (a server or a consumer
   * continues the caller's trace, or starts one), `'root'` for a new trace (a task run), else the
   * span active where it is called.
   */
  parent?: Context | 'root';
}

/** A span and the context the work inside it runs in: the one it was started on, with the span active. */
export class SpanScope {
  constructor(
    readonly span: Span,
    readonly context: Context,
  ) {}
}

/** Headers as they come (node's `IncomingHttpHeaders`, AMQP message headers) or go (a plain object). */
export type HeaderCarrier = Record<string, unknown>;

/** The fields a log record written inside a span carries (a type, not an interface: it is a record's fields). */
export type TraceLogFields = {
  trace_id: string;
  span_id: string;
  trace_sampled: boolean;
};

/**
 * W3C limits, applied before parsing: a `tracestate` keeps at most 32 members in 512 characters and
 * `baggage` at most 8192 bytes, so the parsers never split a header of a hundred kilobytes.
 */
const MAX_TRACESTATE_READ = 1024;
const MAX_BAGGAGE_READ = 8192;
const MAX_TRACEPARENT = 256;

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
  private readonly log: Log;
  private readonly baggageKeys: readonly string[];
  private unregister?: () => void;
  /**
   * The context a span of `startSpan` was started on when that was not the active one: its baggage
   * goes on with it in `run`. Keel's own edges use `startScope` instead, which hands that context
   * back: an entry per request here lives as long as its span waits for export, and the weak map's
   * upkeep in every garbage collection cost more CPU than the rest of the span's bookkeeping
   * (issue 23: 2.5-4 µs a request in-process, test/bench/RESULTS.md).
   */
  private readonly startedOn = new WeakMap<Span, Context>();

  constructor(options: TracingOptions) {
    this.pipeline = options.settings.enabled ? pipelineFor(options) : undefined;
    this.log = options.log;
    this.baggageKeys = options.settings.baggage_attributes;
  }

  get enabled(): boolean {
    return this.pipeline !== undefined;
  }

  /** The tracer Keel's own spans come from; undefined while tracing is off. */
  get tracer(): Tracer | undefined {
    return this.pipeline?.tracer;
  }

  /**
   * The trace context carried by `headers` (`traceparent`, `tracestate`, `baggage`); a malformed or
   * absent `traceparent` gives a context without a parent, so the span started on it is a new root.
   * Undefined while tracing is off.
   */
  extract(headers: HeaderCarrier): Context | undefined {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return undefined;
    const { api } = pipeline;
    const traceparent = firstValue(headers.traceparent);
    if (traceparent === undefined) return api.ROOT_CONTEXT;
    const bounded: Record<string, string> = { traceparent: traceparent.slice(0, MAX_TRACEPARENT) };
    const tracestate = firstValue(headers.tracestate);
    if (tracestate !== undefined) bounded.tracestate = cutList(tracestate, MAX_TRACESTATE_READ);
    const baggage = firstValue(headers.baggage);
    if (baggage !== undefined) bounded.baggage = cutList(baggage, MAX_BAGGAGE_READ);
    const context = pipeline.propagator.extract(api.ROOT_CONTEXT, bounded, api.defaultTextMapGetter);
    if (api.trace.getSpanContext(context) === undefined)
      this.log.debug(
        { traceparent: traceparent.slice(0, 64) },
        'ignored a malformed traceparent header: the span starts a new trace',
      );
    return context;
  }

  /**
   * Writes the trace context of `span` (else of the span active here) into `headers`, for the next
   * service to continue: `traceparent`, `tracestate` and the `baggage` that came in. Nothing while
   * tracing is off.
   */
  inject(headers: Record<string, unknown>, span?: Span): void {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return;
    const { api } = pipeline;
    const active = this.activeContext(pipeline);
    const context = span === undefined ? active : api.trace.setSpan(active, span);
    pipeline.propagator.inject(context, headers, api.defaultTextMapSetter);
  }

  /**
   * A span of Keel's tracer, under `options.parent` (by default the span active here); undefined while
   * tracing is off. A server or consumer span also takes the `baggage_attributes` the caller sent.
   */
  startSpan(name: string, options: KeelSpanOptions = {}): Span | undefined {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return undefined;
    const parent = this.parentOf(options, pipeline);
    const span = this.open(pipeline, name, options, parent);
    if (options.parent !== undefined) this.startedOn.set(span, parent);
    return span;
  }

  /**
   * `startSpan`, with the context work inside the span runs in (its parent's, the span active in
   * it) handed back rather than remembered: for an edge that starts a span and runs its work at once,
   * as every edge of Keel does. Undefined while tracing is off.
   */
  startScope(name: string, options: KeelSpanOptions = {}): SpanScope | undefined {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return undefined;
    const parent = this.parentOf(options, pipeline);
    const span = this.open(pipeline, name, options, parent);
    return new SpanScope(span, pipeline.api.trace.setSpan(parent, span));
  }

  /**
   * Runs `work` with `span` active (a span of `startSpan`, or a scope of `startScope`), so that the
   * spans and log records made inside (through every `await`) are its children; with `requestId`,
   * also as the request id. Without a span (tracing off), runs it as it is, or with the request id only.
   */
  run<T>(span: Span | SpanScope | undefined, work: () => T, requestId?: string): T {
    const pipeline = this.pipeline;
    if (pipeline === undefined || span === undefined) {
      if (requestId === undefined) return work();
      return withContext((currentContext() ?? RequestContext.EMPTY).withRequestId(requestId), work);
    }
    const traceContext =
      span instanceof SpanScope
        ? span.context
        : pipeline.api.trace.setSpan(this.startedOn.get(span) ?? this.activeContext(pipeline), span);
    return withContext(
      (currentContext() ?? RequestContext.EMPTY).with(TRACE_CONTEXT, traceContext, requestId),
      work,
    );
  }

  /**
   * `run(span, work, requestId)`, then ends the span when `work` settles (at once if it returns no
   * promise), as failed if it throws or rejects. Returns what `work` returns.
   */
  runAndEnd<T>(span: Span | SpanScope | undefined, work: () => T, requestId?: string): T {
    if (span === undefined) return this.run(span, work, requestId);
    const ended = span instanceof SpanScope ? span.span : span;
    let result: T;
    try {
      result = this.run(span, work, requestId);
    } catch (error) {
      this.end(ended, error);
      throw error;
    }
    if (!isPromiseLike(result)) {
      this.end(ended);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        this.end(ended);
        return value;
      },
      (error: unknown) => {
        this.end(ended, error);
        throw error;
      },
    ) as T;
  }

  /** Ends `span`; with `error`, first as failed (its status and an exception event). */
  end(span: Span | undefined, error?: unknown): void {
    if (span === undefined) return;
    if (error !== undefined) markFailed(span, error);
    span.end();
  }

  /** The trace and span ids a log record written here carries; undefined outside a span or while off. */
  logFields(): TraceLogFields | undefined {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return undefined;
    const context = contextValue(TRACE_CONTEXT);
    const spanContext = context === undefined ? undefined : pipeline.api.trace.getSpanContext(context);
    return spanContext === undefined ? undefined : idsOf(spanContext);
  }

  /** What a log record about `span` carries, for a record written outside it (an access log line). */
  logFieldsOf(span: Span): TraceLogFields {
    return idsOf(span.spanContext());
  }

  /**
   * Makes this service's tracer provider, context and propagators those of `@opentelemetry/api`, so
   * that a user's `trace.getTracer(...)` spans nest under Keel's, unless something else registered
   * them first (then they stay, with a warning). Undone by `shutdown`.
   */
  register(): void {
    const pipeline = this.pipeline;
    if (pipeline === undefined || this.unregister !== undefined) return;
    const { api } = pipeline;
    const manager = keelContextManager(api);
    const registered = {
      provider: api.trace.setGlobalTracerProvider(pipeline.provider),
      context: api.context.setGlobalContextManager(manager),
      propagator: api.propagation.setGlobalPropagator(pipeline.propagator),
    };
    const taken = Object.entries(registered)
      .filter(([, done]) => !done)
      .map(([what]) => what);
    if (taken.length > 0)
      this.log.warn(
        { taken },
        `tracing: @opentelemetry/api already has a global ${taken.join(', ')}: spans made through it do not nest under Keel's`,
      );
    this.unregister = () => {
      if (registered.provider) api.trace.disable();
      if (registered.context) api.context.disable();
      if (registered.propagator) api.propagation.disable();
    };
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

  /** Flushes and releases the exporter, and gives `@opentelemetry/api` its globals back: called last when the service stops. */
  shutdown(timeoutMs: number): Promise<FlushOutcome> {
    this.unregister?.();
    this.unregister = undefined;
    return this.pipeline?.shutdown(timeoutMs) ?? Promise.resolve('done');
  }

  private activeContext(pipeline: TracingPipeline): Context {
    return contextValue(TRACE_CONTEXT) ?? pipeline.api.ROOT_CONTEXT;
  }

  private parentOf(options: KeelSpanOptions, pipeline: TracingPipeline): Context {
    return options.parent === 'root'
      ? pipeline.api.ROOT_CONTEXT
      : (options.parent ?? this.activeContext(pipeline));
  }

  private open(pipeline: TracingPipeline, name: string, options: KeelSpanOptions, parent: Context): Span {
    const { api, tracer } = pipeline;
    const kind = options.kind ?? 'internal';
    let attributes = options.attributes;
    if (this.baggageKeys.length > 0 && (kind === 'server' || kind === 'consumer')) {
      const baggage = api.propagation.getBaggage(parent);
      for (const key of this.baggageKeys) {
        const entry = baggage?.getEntry(key);
        if (entry !== undefined) attributes = { ...attributes, [`baggage.${key}`]: entry.value };
      }
    }
    return tracer.startSpan(name, { kind: KINDS[kind], attributes, root: options.parent === 'root' }, parent);
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

function idsOf({ traceId, spanId, traceFlags }: SpanContext): TraceLogFields {
  return { trace_id: traceId, span_id: spanId, trace_sampled: (traceFlags & 1) === 1 };
}

function firstValue(value: unknown): string | undefined {
  const first = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof first === 'string') return first;
  return Buffer.isBuffer(first) ? first.toString('latin1') : undefined;
}

/** The list members of `header` that fit in `max` characters: a cut never splits a member. */
function cutList(header: string, max: number): string {
  if (header.length <= max) return header;
  const cut = header.lastIndexOf(',', max);
  return cut < 0 ? '' : header.slice(0, cut);
}

/**
 * `@opentelemetry/api`'s context, kept in Keel's request context: `context.active()` inside a
 * request is the context of Keel's span for it, and `context.with()` sets it for what it runs.
 */
function keelContextManager(api: typeof OtelApi): ContextManager {
  const manager: ContextManager = {
    active: () => contextValue(TRACE_CONTEXT) ?? api.ROOT_CONTEXT,
    with: (context, fn, thisArg, ...args) =>
      withContext((currentContext() ?? RequestContext.EMPTY).with(TRACE_CONTEXT, context), () =>
        fn.apply(thisArg, args),
      ),
    bind: (context, target) => {
      if (typeof target !== 'function') return target;
      const fn = target as unknown as (...args: unknown[]) => unknown;
      return function bound(this: unknown, ...args: unknown[]) {
        return manager.with(context, fn, this, ...args);
      } as unknown as typeof target;
    },
    enable: () => manager,
    disable: () => manager,
  };
  return manager;
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
