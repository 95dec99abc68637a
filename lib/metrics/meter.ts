import { MetricLabelError } from './errors';
import type { MeterFamily } from './family';
import type { BoundLabels, LabelsOf, LabelValues } from './labels';

/**
 * A meter is one prom-client metric with some or all of its labels bound. Only a meter with every
 * label bound records values; the others exist to hand out children with `.labels({...})`.
 */
export abstract class Meter<Self, P, L extends string = string> {
  protected readonly metric: P;
  private readonly complete: boolean;
  /**
   * Not `MeterFamily<Self, P>`: its map of meters would make `Self`, and so the label names, invariant,
   * and a `Counter<'who'>` could not be kept where a `Counter` is declared.
   */
  private readonly family: MeterFamily<unknown, P>;

  constructor(
    family: MeterFamily<Self, P>,
    /** The bound label values. */
    readonly boundLabels: BoundLabels,
  ) {
    this.family = family as MeterFamily<unknown, P>;
    this.metric = family.metric;
    this.complete = Object.keys(boundLabels).length === family.definition.labelNames.length;
  }

  /** The exported name, prefixed and sanitised. */
  get name(): string {
    return this.family.definition.name;
  }

  get help(): string {
    return this.family.definition.help;
  }

  /** The child with `labels` bound as well; the same object for the same label values. */
  labels(labels: LabelsOf<L>): Self {
    return this.family.child(this.boundLabels, labels as LabelValues) as Self;
  }

  /** Recording with an unbound label would export a series prom-client fills with an empty value. */
  protected assertComplete(): void {
    if (this.complete) return;
    const missing = this.family.definition.labelNames.filter((name) => !(name in this.boundLabels));
    throw new MetricLabelError(
      `metric "${this.name}" cannot record without label ${missing.map((n) => `"${n}"`).join(', ')}; ` +
        `bind it first with .labels({...})`,
    );
  }
}
