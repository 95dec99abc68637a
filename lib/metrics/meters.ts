import type * as PromClient from 'prom-client';
import * as prom from './prom-client';

import { Counter } from './counter';
import { PROCESS_METRIC_NAMES, registerProcessMetrics } from './default-metrics';
import { Histogram, Summary } from './distribution';
import { MetricConflictError, MetricLabelError, MetricValueError } from './errors';
import { describeDefinition, type MeterDefinition, MeterFamily, type MeterType } from './family';
import { Gauge } from './gauge';
import { type BoundLabels, normalizeLabels } from './labels';
import type { MeterFactory } from './meter-factory';
import { counterName, sanitizeLabelName, sanitizeMetricName, servicePrefix } from './names';
import {
  DEFAULT_BUCKETS,
  DEFAULT_PERCENTILES,
  DEFAULT_SUMMARY_AGE_BUCKETS,
  DEFAULT_SUMMARY_WINDOW_SECONDS,
  type HistogramOptions,
  type MeterOptions,
  type SummaryOptions,
} from './options';
import { ResourceMeters } from './resource-meters';

export interface MetersOptions {
  /** Prefix of every metric name: `billing_api` → `billing_api_http_requests_total`. */
  serviceName: string;
  /**
   * Node.js process metrics (CPU, memory, event loop, GC). Default true. `'deferred'`: registered
   * by the first `startProcessMetrics()` or read of the meters (`render()`, a push), not at
   * construction; an app starts them once it is ready, so they cost its start nothing.
   */
  processMetrics?: boolean | 'deferred';
}

/** The prom-client config every meter type shares. */
interface BaseConfig {
  name: string;
  help: string;
  labelNames: string[];
  registers: PromClient.Registry[];
}

/**
 * The meters of one service, over a prom-client registry of its own (never the global one, so
 * two services in one process, or two tests, do not share series).
 */
export class Meters implements MeterFactory {
  readonly registry = new prom.Registry();
  /** `billing_api_`: what every metric name of this service starts with. */
  readonly prefix: string;
  private readonly families = new Map<string, MeterFamily<unknown, unknown>>();
  private readonly resourceViews = new Map<string, ResourceMeters>();
  private processMetrics: 'off' | 'pending' | 'registered';
  /** Collectors waiting to be registered with the process metrics, by full name. */
  private readonly laterCollectors = new Map<string, (registry: PromClient.Registry) => void>();

  constructor(options: MetersOptions) {
    this.prefix = servicePrefix(options.serviceName);
    const wanted = options.processMetrics ?? true;
    this.processMetrics = wanted === false ? 'off' : 'pending';
    if (wanted === true) this.startProcessMetrics();
  }

  /** Registers the process metrics if they wait to be (`processMetrics: 'deferred'`); otherwise does nothing. */
  startProcessMetrics(): void {
    if (this.processMetrics !== 'pending') return;
    this.processMetrics = 'registered';
    registerProcessMetrics(this.registry, this.prefix);
    for (const register of this.laterCollectors.values()) register(this.registry);
    this.laterCollectors.clear();
  }

  /**
   * A collector of the service's own (Keel's gauges read at scrape time) registered with the
   * process metrics: at once when those are registered or off, else when they are. Its `name` is
   * taken from now on all the same.
   */
  addCollector(name: string, register: (registry: PromClient.Registry) => void): void {
    if (this.processMetrics === 'pending') this.laterCollectors.set(name, register);
    else register(this.registry);
  }

  /**
   * `<prefix><name>`, one of Keel's own gauges read at each scrape (records dropped, settings
   * staleness): `read` gives its value, or with `label` one value per label value.
   */
  addScrapeGauge(name: string, help: string, read: () => number): void;
  addScrapeGauge(
    name: string,
    help: string,
    read: () => Readonly<Record<string, number>>,
    label: string,
  ): void;
  addScrapeGauge(
    name: string,
    help: string,
    read: () => number | Readonly<Record<string, number>>,
    label?: string,
  ): void {
    const fullName = this.prefix + name;
    this.addCollector(fullName, (registry) => {
      new prom.Gauge({
        name: fullName,
        help,
        labelNames: label === undefined ? [] : [label],
        registers: [registry],
        collect() {
          const value = read();
          if (typeof value === 'number') this.set(value);
          else
            for (const [labelValue, each] of Object.entries(value)) this.set({ [label!]: labelValue }, each);
        },
      });
    });
  }

  /** The Content-Type to serve `render()` with. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text exposition format, for `GET /metrics`. */
  render(): Promise<string> {
    this.startProcessMetrics();
    return this.registry.metrics();
  }

  /**
   * The factory a resource gets for `@inject(METRICS)`: same registry, every meter labelled
   * `resource="<name>"`, so one class registered under two names exports two series, not one.
   */
  forResource(resourceName: string): MeterFactory {
    let view = this.resourceViews.get(resourceName);
    if (view === undefined) {
      view = new ResourceMeters(this, resourceName);
      this.resourceViews.set(resourceName, view);
    }
    return view;
  }

  counter<const L extends string = string>(name: string, options: MeterOptions<L>): Counter<L> {
    return this.define(
      'counter',
      name,
      options,
      '',
      (config) => new prom.Counter(config),
      newMeter(Counter<L>),
    );
  }

  gauge<const L extends string = string>(name: string, options: MeterOptions<L>): Gauge<L> {
    return this.define('gauge', name, options, '', (config) => new prom.Gauge(config), newMeter(Gauge<L>));
  }

  summary<const L extends string = string>(name: string, options: SummaryOptions<L>): Summary<L> {
    const percentiles = [...(options.percentiles ?? DEFAULT_PERCENTILES)];
    const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_SUMMARY_WINDOW_SECONDS;
    const ageBuckets = options.ageBuckets ?? DEFAULT_SUMMARY_AGE_BUCKETS;
    if (percentiles.some((p) => !(p > 0 && p < 1))) {
      throw new MetricValueError(
        `summary "${name}": percentiles must be in (0, 1), got [${percentiles.join(', ')}]`,
      );
    }
    const layout = `percentiles=[${percentiles.join(', ')}], window=${maxAgeSeconds}s/${ageBuckets}`;
    return this.define(
      'summary',
      name,
      options,
      layout,
      (config) => new (prom.summaryClass())({ ...config, percentiles, maxAgeSeconds, ageBuckets }),
      newMeter(Summary<L>),
    );
  }

  histogram<const L extends string = string>(name: string, options: HistogramOptions<L>): Histogram<L> {
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]))
    ) {
      throw new MetricValueError(
        `histogram "${name}": buckets must be finite and increasing, got [${buckets.join(', ')}]`,
      );
    }
    return this.define(
      'histogram',
      name,
      options,
      `buckets=[${buckets.join(', ')}]`,
      (config) => new prom.Histogram({ ...config, buckets }),
      newMeter(Histogram<L>),
    );
  }

  private isPendingProcessMetric(name: string): boolean {
    if (this.processMetrics !== 'pending') return false;
    if (this.laterCollectors.has(name)) return true;
    return name.startsWith(this.prefix) && PROCESS_METRIC_NAMES.includes(name.slice(this.prefix.length));
  }

  private define<M, P>(
    type: MeterType,
    requestedName: string,
    options: MeterOptions,
    layout: string,
    create: (config: BaseConfig) => P,
    build: (family: MeterFamily<M, P>, labels: BoundLabels) => M,
  ): M {
    if (!options.help) throw new MetricValueError(`${type} "${requestedName}" needs a help text`);
    const labels = normalizeLabels(options.labels);
    const definition: MeterDefinition = {
      type,
      name: exportedName(type, this.prefix + sanitizeMetricName(requestedName)),
      help: options.help,
      labelNames: labelNamesOf(type, labels, options.labelNames),
      layout,
      requestedAs: requestedName,
    };
    const existing = this.families.get(definition.name) as MeterFamily<M, P> | undefined;
    if (existing !== undefined) {
      existing.assertSame(definition);
      return existing.meter(labels);
    }
    if (
      this.registry.getSingleMetric(definition.name) !== undefined ||
      this.isPendingProcessMetric(definition.name)
    ) {
      throw new MetricConflictError(
        definition.name,
        'a Node.js process metric',
        describeDefinition(definition),
      );
    }
    const config = { name: definition.name, help: definition.help, labelNames: [...definition.labelNames] };
    const family = new MeterFamily(definition, create({ ...config, registers: [this.registry] }), build);
    this.families.set(definition.name, family as MeterFamily<unknown, unknown>);
    return family.meter(labels);
  }
}

const RESERVED_LABELS: Partial<Record<MeterType, string>> = { summary: 'quantile', histogram: 'le' };

function exportedName(type: MeterType, name: string): string {
  return type === 'counter' ? counterName(name) : name;
}

function labelNamesOf(type: MeterType, bound: BoundLabels, later: readonly string[] = []): string[] {
  const names = [...new Set([...Object.keys(bound), ...later.map(sanitizeLabelName)])].sort();
  const reserved = RESERVED_LABELS[type];
  if (reserved !== undefined && names.includes(reserved)) {
    throw new MetricLabelError(`label "${reserved}" is reserved in a ${type}`);
  }
  return names;
}

function newMeter<M, P>(
  MeterClass: new (family: MeterFamily<M, P>, labels: BoundLabels) => M,
): (family: MeterFamily<M, P>, labels: BoundLabels) => M {
  return (family, labels) => new MeterClass(family, labels);
}
