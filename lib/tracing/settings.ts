/** Keel's tracing settings, under `system.tracing`. */
export const tracingSchema = {
  enabled: {
    doc: 'Record spans and export them; off, Keel loads no OpenTelemetry package and adds no work per request',
    format: Boolean,
    default: false,
  },
  exporter: {
    doc: 'Where spans go: otlp-http (OTLP/HTTP JSON), zipkin (Zipkin v2 JSON), console (stdout), none (spans made, context passed on, nothing sent)',
    format: ['otlp-http', 'zipkin', 'console', 'none'],
    default: 'otlp-http',
  },
  endpoint: {
    doc: "The exporter's URL (empty: its default, http://localhost:4318/v1/traces for otlp-http, http://localhost:9411/api/v2/spans for zipkin)",
    format: String,
    default: '',
  },
  headers: {
    doc: 'HTTP headers sent with every export (an API key, say)',
    format: function headerMap(value: unknown): void {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('must be an object of header names to string values');
      for (const [name, header] of Object.entries(value))
        if (typeof header !== 'string') throw new Error(`header ${name} must be a string`);
    },
    default: {} as Record<string, string>,
    sensitive: true,
  },
  sample_ratio: {
    doc: 'Share of new traces recorded (0 to 1); a request that arrives with a trace follows its sampled flag',
    format: function ratio(value: unknown): void {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1))
        throw new Error(`must be a number from 0 to 1, got ${JSON.stringify(value)}`);
    },
    default: 1,
  },
  max_queue: {
    doc: 'Most finished spans held for export; past it spans are dropped and counted (tracing_dropped_spans)',
    format: function positive(value: unknown): void {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
        throw new Error(`must be an integer of at least 1, got ${JSON.stringify(value)}`);
    },
    default: 2048,
  },
  batch_delay_ms: {
    doc: 'Longest a finished span waits before its batch is exported',
    format: 'duration',
    default: 1000,
  },
  export_timeout_ms: {
    doc: 'Longest one export may take; also what the stop waits for the last spans',
    format: 'duration',
    default: 10_000,
  },
  baggage_attributes: {
    doc: 'Baggage keys copied into the attributes of server and consumer spans (none by default: baggage may carry what a span must not)',
    format: Array,
    default: [] as string[],
  },
  resource_attributes: {
    doc: "Attributes added to Keel's own (service.name, service.version, service.instance.id, deployment.environment.name)",
    format: function attributeMap(value: unknown): void {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('must be an object of attribute names to values');
      for (const [name, attribute] of Object.entries(value))
        if (!['string', 'number', 'boolean'].includes(typeof attribute))
          throw new Error(`attribute ${name} must be a string, a number or a boolean`);
    },
    default: {} as Record<string, string | number | boolean>,
  },
};

export const TRACING_SETTINGS_PATH = 'system.tracing';

export type TracingExporter = 'otlp-http' | 'zipkin' | 'console' | 'none';

export interface TracingSettings {
  enabled: boolean;
  exporter: TracingExporter;
  endpoint: string;
  headers: Record<string, string>;
  sample_ratio: number;
  max_queue: number;
  batch_delay_ms: number;
  export_timeout_ms: number;
  baggage_attributes: string[];
  resource_attributes: Record<string, string | number | boolean>;
}
