import { MetricConflictError, MetricLabelError } from './errors';
import { bindLabels, type BoundLabels, labelsKey, type LabelValues } from './labels';

export type MeterType = 'counter' | 'gauge' | 'summary' | 'histogram';

/** What makes two definitions of one metric name the same metric. */
export interface MeterDefinition {
  readonly type: MeterType;
  /** The exported name, prefixed and sanitised. */
  readonly name: string;
  readonly help: string;
  /** Sorted, so the order a caller lists them in does not matter. */
  readonly labelNames: readonly string[];
  /** Type-specific shape (buckets, percentiles and window); '' when the type has none. */
  readonly layout: string;
  /** The name the caller asked for, to point at the code that defined it. */
  readonly requestedAs: string;
}

export function describeDefinition(definition: MeterDefinition): string {
  const layout = definition.layout === '' ? '' : `, ${definition.layout}`;
  return (
    `${definition.type}("${definition.requestedAs}", help="${definition.help}", ` +
    `labels=[${definition.labelNames.join(', ')}]${layout})`
  );
}

export function sameDefinition(a: MeterDefinition, b: MeterDefinition): boolean {
  return (
    a.type === b.type &&
    a.help === b.help &&
    a.layout === b.layout &&
    a.labelNames.join(',') === b.labelNames.join(',')
  );
}

/**
 * One prom-client metric and the meters (one per label set) handed out for it: the flyweight
 * store that makes `counter('x', sameOptions)` return the same object everywhere.
 */
export class MeterFamily<M, P> {
  private readonly meters = new Map<string, M>();

  constructor(
    readonly definition: MeterDefinition,
    readonly metric: P,
    private readonly build: (family: MeterFamily<M, P>, labels: BoundLabels) => M,
  ) {}

  meter(labels: BoundLabels): M {
    this.assertKnownLabels(labels);
    const key = labelsKey(this.definition.labelNames, (name) => labels[name]);
    let meter = this.meters.get(key);
    if (meter === undefined) {
      meter = this.build(this, labels);
      this.meters.set(key, meter);
    }
    return meter;
  }

  /**
   * The meter for `bound` narrowed by `extra`. `.labels({...})` runs per request, so a meter handed
   * out before is found without building label objects; anything unusual takes the checked path.
   */
  child(bound: BoundLabels, extra: LabelValues): M {
    const key = this.quickKey(bound, extra);
    const found = key === undefined ? undefined : this.meters.get(key);
    return found ?? this.meter(bindLabels(bound, extra, this.definition.name));
  }

  assertSame(requested: MeterDefinition): void {
    if (!sameDefinition(this.definition, requested)) {
      throw new MetricConflictError(
        this.definition.name,
        describeDefinition(this.definition),
        describeDefinition(requested),
      );
    }
  }

  /** Undefined when `extra` needs sanitising, is unknown or rebinds a label: the checked path handles it. */
  private quickKey(bound: BoundLabels, extra: LabelValues): string | undefined {
    const names = this.definition.labelNames;
    for (const name in extra) {
      if (!names.includes(name)) return undefined;
      const current = bound[name];
      if (current !== undefined && current !== String(extra[name])) return undefined;
    }
    return labelsKey(names, (name) => (name in extra ? String(extra[name]) : bound[name]));
  }

  private assertKnownLabels(labels: BoundLabels): void {
    const unknown: string[] = [];
    for (const name in labels) if (!this.definition.labelNames.includes(name)) unknown.push(name);
    if (unknown.length > 0) {
      throw new MetricLabelError(
        `metric "${this.definition.name}" has no label ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
          `its labels are [${this.definition.labelNames.join(', ')}]`,
      );
    }
  }
}
