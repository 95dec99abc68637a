/**
 * Prometheus naming rules. Tamarco exported names as given, so a dash in a service name made the
 * whole scrape invalid; here every name is sanitised before prom-client ever sees it.
 */
import { MetricLabelError, MetricValueError } from './errors';

const INVALID_METRIC_CHARS = /[^a-zA-Z0-9_:]/g;
const INVALID_LABEL_CHARS = /[^a-zA-Z0-9_]/g;

export function sanitizeMetricName(name: string): string {
  const cleaned = name.replace(INVALID_METRIC_CHARS, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

// Label names are few and come back on every `.labels({...})` call: sanitise each once.
const sanitizedLabelNames = new Map<string, string>();

export function sanitizeLabelName(name: string): string {
  let sanitized = sanitizedLabelNames.get(name);
  if (sanitized === undefined) {
    sanitized = sanitizeNewLabelName(name);
    sanitizedLabelNames.set(name, sanitized);
  }
  return sanitized;
}

function sanitizeNewLabelName(name: string): string {
  const cleaned = name.replace(INVALID_LABEL_CHARS, '_');
  const valid = /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
  if (valid === '' || valid.startsWith('__')) {
    throw new MetricLabelError(`label name "${name}" is invalid: names starting with "__" are reserved`);
  }
  return valid;
}

/**
 * A metric type's name as a word of a metric name (`_counter_`, or `_counter` at its end, in any
 * case): what promtool's lint refuses for every metric, whatever its own type.
 */
const TYPE_WORD = /_+(counter|gauge|summary|histogram)(?=_|$)/gi;

/**
 * The prefix every metric of a service carries: `billing-api` → `billing_api_`. A type name as a
 * word of the service name is joined to the word before it (`sheep_counter` → `sheepcounter_`),
 * or promtool would refuse every metric of the service.
 */
export function servicePrefix(serviceName: string): string {
  if (serviceName === '') throw new MetricValueError('a service name is required to prefix metric names');
  return `${sanitizeMetricName(serviceName).replace(TYPE_WORD, '$1')}_`;
}

/** Prometheus requires counters to end in `_total`; Tamarco's did not, which promtool rejects. */
export function counterName(name: string): string {
  return name.endsWith('_total') ? name : `${name}_total`;
}
