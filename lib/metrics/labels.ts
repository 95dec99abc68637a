import { MetricLabelError } from './errors';
import { sanitizeLabelName } from './names';

export type LabelValue = string | number;
/** Label values as callers give them; numbers (status codes) are exported as their decimal text. */
export type LabelValues = Readonly<Record<string, LabelValue>>;
/**
 * What `.labels({...})` takes on a meter whose `labelNames` are `L`: some of them, no other name (a
 * typo is a compile error); any names where they are not known (`string`). A mapped type, not a
 * conditional one, so that a `Counter<'who'>` is still a `Counter`.
 */
export type LabelsOf<L extends string> = { readonly [K in L]?: LabelValue };
/** Label values as stored and handed to prom-client: sanitised names, string values. */
export type BoundLabels = Readonly<Record<string, string>>;

export function normalizeLabels(labels: LabelValues | undefined): BoundLabels {
  const bound: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels ?? {})) bound[sanitizeLabelName(name)] = String(value);
  return bound;
}

/** `extra` narrows `current`; giving an already bound label another value is a mistake, not an override. */
export function bindLabels(current: BoundLabels, extra: LabelValues, metricName: string): BoundLabels {
  const added = normalizeLabels(extra);
  for (const [name, value] of Object.entries(added)) {
    const bound = current[name];
    if (bound !== undefined && bound !== value) {
      throw new MetricLabelError(
        `metric "${metricName}": label "${name}" is already bound to "${bound}", cannot bind it to "${value}"`,
      );
    }
  }
  return { ...current, ...added };
}

/** A key equal for equal label sets whatever the order they were given in. */
export function labelsKey(
  sortedNames: readonly string[],
  valueOf: (name: string) => string | undefined,
): string {
  let key = '';
  for (const name of sortedNames) key += `${valueOf(name) ?? '\u0000'}\u0001`;
  return key;
}
