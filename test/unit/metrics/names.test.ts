import { counterName, MetricLabelError, sanitizeLabelName, sanitizeMetricName } from '../../../lib/metrics';
import { servicePrefix } from '../../../lib/metrics/names';

describe('metric names', () => {
  it('replaces every character Prometheus does not allow in a metric name', () => {
    expect(sanitizeMetricName('http.requests-per second/µs')).toBe('http_requests_per_second__s');
    expect(sanitizeMetricName('ns:sub_name')).toBe('ns:sub_name');
  });

  it('keeps a name from starting with a digit', () => {
    expect(sanitizeMetricName('5xx_responses')).toBe('_5xx_responses');
  });

  it('prefixes with the sanitised service name', () => {
    expect(servicePrefix('billing-api')).toBe('billing_api_');
    expect(() => servicePrefix('')).toThrow(expect.objectContaining({ code: 'METRIC_VALUE' }));
  });

  it('joins a metric type named as a word of the service name to the word before it', () => {
    expect(servicePrefix('sheep_counter')).toBe('sheepcounter_');
    expect(servicePrefix('queue-Gauge-histogram_api')).toBe('queueGaugehistogram_api_');
    expect(servicePrefix('__summary')).toBe('summary_');
    // Not a word of its own, or first: promtool takes these.
    expect(servicePrefix('counter_api')).toBe('counter_api_');
    expect(servicePrefix('sheep_counters')).toBe('sheep_counters_');
  });

  it('ends counters in _total exactly once', () => {
    expect(counterName('billing_api_http_requests')).toBe('billing_api_http_requests_total');
    expect(counterName('billing_api_http_requests_total')).toBe('billing_api_http_requests_total');
  });

  it('sanitises label names and refuses the reserved __ prefix', () => {
    expect(sanitizeLabelName('status-code')).toBe('status_code');
    expect(sanitizeLabelName('1st')).toBe('_1st');
    expect(() => sanitizeLabelName('__name__')).toThrow(MetricLabelError);
    expect(() => sanitizeLabelName('')).toThrow(MetricLabelError);
  });
});
