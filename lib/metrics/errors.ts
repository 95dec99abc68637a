import { KeelError, type CodesOf } from '../errors';

/** Base of every error thrown by lib/metrics. */
export abstract class MetricsError extends KeelError {
  abstract override readonly code: CodesOf<'MetricConflictError' | 'MetricLabelError' | 'MetricValueError'>;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The same metric name was defined twice with another type, help, label set or layout. */
export class MetricConflictError extends MetricsError {
  readonly code = 'METRIC_CONFLICT';

  constructor(
    readonly metricName: string,
    readonly existing: string,
    readonly requested: string,
  ) {
    super(`metric "${metricName}" is already defined as ${existing}; cannot define it again as ${requested}`);
  }
}

/** Labels that do not fit the metric's label names: unknown, missing, rebound or reserved. */
export class MetricLabelError extends MetricsError {
  readonly code = 'METRIC_LABELS';
}

/** A value a meter cannot take (a negative counter increment, NaN) or an unusable definition. */
export class MetricValueError extends MetricsError {
  readonly code = 'METRIC_VALUE';
}
