import type * as OtelApi from '@opentelemetry/api';
import type * as OtelCore from '@opentelemetry/core';
import type * as OtelResources from '@opentelemetry/resources';
import type * as OtelSdk from '@opentelemetry/sdk-trace-base';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Zipkin from '@opentelemetry/exporter-zipkin';
import { requirePeer as requireOptionalPeer } from '../errors/peer';
import { TracingError } from './errors';
import type { TracingSettings } from './settings';
import type { FlushOutcome } from './tracing';

/** What the pipeline reports: spans lost, and why the first time. */
export interface DropReport {
  /** Spans dropped since the start: the queue was full, or their export failed. */
  dropped: number;
}

/** The SDK side of one service's tracing: its provider, the propagators, the drop count. */
export interface TracingPipeline {
  readonly api: typeof OtelApi;
  readonly tracer: OtelApi.Tracer;
  readonly provider: OtelApi.TracerProvider;
  readonly propagator: OtelApi.TextMapPropagator;
  readonly drops: DropReport;
  /** Exports what is queued, waiting at most `timeoutMs`; never rejects. */
  flush(timeoutMs: number): Promise<FlushOutcome>;
  /** Flushes, then releases the exporter; never rejects. */
  shutdown(timeoutMs: number): Promise<FlushOutcome>;
}

export interface PipelineOptions {
  settings: TracingSettings;
  attributes: Record<string, string | number | boolean>;
  /** Called once, at the first span dropped, with why. */
  onFirstDrop(reason: string): void;
}

type Loaded = {
  api: typeof OtelApi;
  core: typeof OtelCore;
  resources: typeof OtelResources;
  sdk: typeof OtelSdk;
};

/**
 * The SDK and the exporters are optional peer dependencies, required only once tracing is enabled:
 * a service with tracing off loads none of them. A missing one is named, with the command to add it.
 */
export function requirePeer<T>(name: string, why: string): T {
  return requireOptionalPeer<T>(
    name,
    (cause) =>
      new TracingError(
        'TRACING_MISSING_PACKAGE',
        `system.tracing: ${why} needs the package ${name}, which is not installed: npm install ${name}`,
        { cause },
      ),
  );
}

function loadCommon(): Loaded {
  const why = 'enabled: true';
  return {
    api: requirePeer<typeof OtelApi>('@opentelemetry/api', why),
    core: requirePeer<typeof OtelCore>('@opentelemetry/core', why),
    resources: requirePeer<typeof OtelResources>('@opentelemetry/resources', why),
    sdk: requirePeer<typeof OtelSdk>('@opentelemetry/sdk-trace-base', why),
  };
}

function exporterFor(settings: TracingSettings, loaded: Loaded): OtelSdk.SpanExporter | undefined {
  const endpoint = settings.endpoint === '' ? undefined : settings.endpoint;
  switch (settings.exporter) {
    case 'otlp-http': {
      const { OTLPTraceExporter } = requirePeer<typeof OtlpHttp>(
        '@opentelemetry/exporter-trace-otlp-http',
        "exporter: 'otlp-http'",
      );
      return new OTLPTraceExporter({
        url: endpoint,
        headers: settings.headers,
        timeoutMillis: settings.export_timeout_ms,
        // One export in flight is what the batch processor makes; a few more cover a flush at stop.
        concurrencyLimit: 2,
      });
    }
    case 'zipkin': {
      const { ZipkinExporter } = requirePeer<typeof Zipkin>(
        '@opentelemetry/exporter-zipkin',
        "exporter: 'zipkin'",
      );
      return new ZipkinExporter({ url: endpoint, headers: settings.headers });
    }
    case 'console':
      return new loaded.sdk.ConsoleSpanExporter();
    case 'none':
      return undefined;
  }
}

/**
 * Bounds what waits for export: a span finished while `max_queue` spans are waiting is dropped and
 * counted here, before the batch processor (whose own drops are not counted anywhere one can read),
 * and so is every span of an export that failed.
 */
class Bound {
  pending = 0;
  private said = false;

  constructor(
    private readonly maxQueue: number,
    readonly drops: DropReport,
    private readonly onFirstDrop: (reason: string) => void,
  ) {}

  admit(): boolean {
    if (this.pending < this.maxQueue) {
      this.pending++;
      return true;
    }
    this.drop(1, `the export queue is full (system.tracing.max_queue = ${this.maxQueue})`);
    return false;
  }

  drop(count: number, reason: string): void {
    this.drops.dropped += count;
    if (this.said) return;
    this.said = true;
    this.onFirstDrop(reason);
  }
}

function boundedExporter(exporter: OtelSdk.SpanExporter, bound: Bound, loaded: Loaded): OtelSdk.SpanExporter {
  const { ExportResultCode } = loaded.core;
  return {
    export(spans, done) {
      bound.pending = Math.max(0, bound.pending - spans.length);
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS)
          bound.drop(spans.length, `an export failed: ${result.error?.message ?? 'no reason given'}`);
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function boundedProcessor(inner: OtelSdk.SpanProcessor, bound: Bound): OtelSdk.SpanProcessor {
  return {
    onStart: (span, parent) => inner.onStart(span, parent),
    onEnd(span) {
      // Unsampled spans are never exported: they take no place in the queue.
      if ((span.spanContext().traceFlags & 1) === 0) return;
      if (bound.admit()) inner.onEnd(span);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
}

function within(work: () => Promise<void>, timeoutMs: number): Promise<FlushOutcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    work().then(
      () => {
        clearTimeout(timer);
        resolve('done');
      },
      () => {
        clearTimeout(timer);
        resolve('failed');
      },
    );
  });
}

/** The provider, sampler, bounded batch processor and exporter that `system.tracing` describes. */
export function createPipeline({ settings, attributes, onFirstDrop }: PipelineOptions): TracingPipeline {
  const loaded = loadCommon();
  const { api, core, resources, sdk } = loaded;
  const exporter = exporterFor(settings, loaded);
  const drops: DropReport = { dropped: 0 };
  const bound = new Bound(settings.max_queue, drops, onFirstDrop);
  const processors: OtelSdk.SpanProcessor[] = [];
  if (exporter !== undefined) {
    const batch = new sdk.BatchSpanProcessor(boundedExporter(exporter, bound, loaded), {
      // Equal to the bound in front of it, so that it never drops a span that bound let through.
      maxQueueSize: settings.max_queue,
      maxExportBatchSize: Math.min(512, settings.max_queue),
      scheduledDelayMillis: settings.batch_delay_ms,
      exportTimeoutMillis: settings.export_timeout_ms,
    });
    processors.push(boundedProcessor(batch, bound));
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes(attributes),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(settings.sample_ratio) }),
    spanProcessors: processors,
  });
  const propagator = new core.CompositePropagator({
    propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
  });
  return {
    api,
    provider,
    tracer: provider.getTracer('keel'),
    propagator,
    drops,
    flush: (timeoutMs) => within(() => provider.forceFlush(), timeoutMs),
    shutdown: (timeoutMs) => within(() => provider.shutdown(), timeoutMs),
  };
}
