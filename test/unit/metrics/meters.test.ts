import { collectDefaultMetrics, register as globalRegistry, Registry } from 'prom-client';

import {
  Counter,
  Gauge,
  Histogram,
  MetricConflictError,
  MetricLabelError,
  MetricValueError,
  Meters,
  RESOURCE_LABEL,
  Summary,
} from '../../../lib/metrics';
import { PROCESS_METRIC_NAMES } from '../../../lib/metrics/default-metrics';

function meters(): Meters {
  return new Meters({ serviceName: 'billing_api', processMetrics: false });
}

describe('Meters: flyweight', () => {
  it('returns the same object for the same name and labels, whatever the label order', () => {
    const m = meters();
    const a = m.counter('http_requests', { help: 'requests', labels: { method: 'GET', status: 200 } });
    const b = m.counter('http_requests', { help: 'requests', labels: { status: '200', method: 'GET' } });
    expect(b).toBe(a);
    expect(a).toBeInstanceOf(Counter);
    expect(a.name).toBe('billing_api_http_requests_total');
  });

  it('gives another object, in the same family, for other label values', () => {
    const m = meters();
    const get = m.counter('http_requests', { help: 'requests', labels: { method: 'GET' } });
    const post = m.counter('http_requests', { help: 'requests', labels: { method: 'POST' } });
    expect(post).not.toBe(get);
    expect(post.name).toBe(get.name);
  });

  it('returns the same child from .labels() as from creating with those labels', () => {
    const m = meters();
    const family = m.histogram('latency_seconds', { help: 'latency', labelNames: ['route'] });
    const child = family.labels({ route: '/users' });
    expect(family.labels({ route: '/users' })).toBe(child);
    expect(m.histogram('latency_seconds', { help: 'latency', labels: { route: '/users' } })).toBe(child);
    expect(child).toBeInstanceOf(Histogram);
  });

  it('builds every meter type', () => {
    const m = meters();
    expect(m.gauge('queue_length', { help: 'items' })).toBeInstanceOf(Gauge);
    expect(m.summary('job_seconds', { help: 'time' })).toBeInstanceOf(Summary);
  });

  it('registers on its own registry, never on prom-client global one', () => {
    const m = meters();
    m.counter('own_registry_probe', { help: 'probe' }).inc();
    expect(m.registry).not.toBe(globalRegistry);
    expect(globalRegistry.getSingleMetric('billing_api_own_registry_probe_total')).toBeUndefined();
    expect(m.registry.getSingleMetric('billing_api_own_registry_probe_total')).toBeDefined();
  });

  it('keeps two services apart', async () => {
    const a = new Meters({ serviceName: 'a', processMetrics: false });
    const b = new Meters({ serviceName: 'b', processMetrics: false });
    a.counter('jobs', { help: 'jobs' }).inc(3);
    b.counter('jobs', { help: 'jobs' }).inc(5);
    expect(await a.render()).toContain('a_jobs_total 3');
    expect(await b.render()).toContain('b_jobs_total 5');
  });
});

describe('Meters: conflicting definitions', () => {
  function conflict(define: (m: Meters) => void): MetricConflictError {
    const m = meters();
    m.counter('http_requests', { help: 'requests', labelNames: ['method'] });
    try {
      define(m);
    } catch (error) {
      expect(error).toBeInstanceOf(MetricConflictError);
      return error as MetricConflictError;
    }
    throw new Error('expected a MetricConflictError');
  }

  it('refuses the same name with another type and names both definitions', () => {
    const error = conflict((m) =>
      m.gauge('http_requests_total', { help: 'requests', labelNames: ['method'] }),
    );
    expect(error.code).toBe('METRIC_CONFLICT');
    expect(error.metricName).toBe('billing_api_http_requests_total');
    expect(error.message).toContain('counter("http_requests", help="requests", labels=[method])');
    expect(error.message).toContain('gauge("http_requests_total", help="requests", labels=[method])');
  });

  it('refuses another help text (Tamarco silently returned the old meter)', () => {
    const error = conflict((m) =>
      m.counter('http_requests', { help: 'requests in ms', labelNames: ['method'] }),
    );
    expect(error.existing).toContain('help="requests"');
    expect(error.requested).toContain('help="requests in ms"');
  });

  it('refuses another label set', () => {
    const error = conflict((m) =>
      m.counter('http_requests', { help: 'requests', labelNames: ['method', 'code'] }),
    );
    expect(error.requested).toContain('labels=[code, method]');
  });

  it('refuses a histogram with other buckets and a summary with another window', () => {
    const m = meters();
    m.histogram('size_bytes', { help: 'size', buckets: [1, 10] });
    expect(() => m.histogram('size_bytes', { help: 'size', buckets: [1, 100] })).toThrow(
      /buckets=\[1, 100\]/,
    );
    m.summary('job_seconds', { help: 'time' });
    expect(() => m.summary('job_seconds', { help: 'time', maxAgeSeconds: 60 })).toThrow(MetricConflictError);
  });

  it('refuses a name taken by a Node.js process metric', () => {
    const m = new Meters({ serviceName: 'billing_api' });
    expect(() => m.gauge('process_open_fds', { help: 'mine' })).toThrow(/a Node.js process metric/);
  });
});

describe('Meters: labels', () => {
  it('refuses a label the metric does not have, naming the ones it has', () => {
    const c = meters().counter('http_requests', { help: 'requests', labelNames: ['method'] });
    // Refused at compile time too; JavaScript callers get the error.
    // @ts-expect-error not one of labelNames
    expect(() => c.labels({ verb: 'GET' })).toThrow(/no label "verb"; its labels are \[method\]/);
    // @ts-expect-error not one of labelNames
    expect(() => c.labels({ verb: 'GET' })).toThrow(MetricLabelError);
  });

  it('refuses to record while a label is still unbound', () => {
    const c = meters().counter('http_requests', { help: 'requests', labelNames: ['method', 'code'] });
    const partial = c.labels({ method: 'GET' });
    expect(() => partial.inc()).toThrow(/without label "code"/);
    expect(() => c.inc()).toThrow(expect.objectContaining({ code: 'METRIC_LABELS' }));
  });

  it('refuses to rebind a bound label to another value', () => {
    const c = meters().counter('http_requests', { help: 'requests', labels: { method: 'GET' } });
    expect(() => c.labels({ method: 'POST' })).toThrow(/already bound to "GET"/);
    expect(c.labels({ method: 'GET' })).toBe(c);
  });

  it('refuses the labels Prometheus reserves for summaries and histograms', () => {
    const m = meters();
    expect(() => m.summary('s', { help: 's', labelNames: ['quantile'] })).toThrow(MetricLabelError);
    expect(() => m.histogram('h', { help: 'h', labels: { le: '1' } })).toThrow(MetricLabelError);
  });

  it('sanitises label names given at creation and later', async () => {
    const m = meters();
    m.counter('http_requests', { help: 'requests', labels: { 'status-code': 404 } }).inc();
    expect(await m.render()).toContain('billing_api_http_requests_total{status_code="404"} 1');
  });
});

describe('Meters: values', () => {
  it('refuses to decrease a counter or to record NaN', () => {
    const m = meters();
    const c = m.counter('jobs', { help: 'jobs' });
    expect(() => c.inc(-1)).toThrow(MetricValueError);
    expect(() => c.inc(Number.NaN)).toThrow(MetricValueError);
    expect(() => m.gauge('g', { help: 'g' }).set(Number.NaN)).toThrow(MetricValueError);
    expect(() => m.summary('s', { help: 's' }).observe(Number.POSITIVE_INFINITY)).toThrow(MetricValueError);
  });

  it('refuses a meter without help, percentiles outside (0, 1) and unordered buckets', () => {
    const m = meters();
    expect(() => m.counter('jobs', { help: '' })).toThrow(MetricValueError);
    expect(() => m.summary('s', { help: 's', percentiles: [0.5, 1] })).toThrow(MetricValueError);
    expect(() => m.histogram('h', { help: 'h', buckets: [10, 1] })).toThrow(MetricValueError);
  });

  it('moves a gauge up, down, to a value and to the current time', async () => {
    const m = meters();
    const g = m.gauge('connections', { help: 'open connections' });
    g.inc(5);
    g.dec(2);
    expect(await m.render()).toContain('billing_api_connections 3');
    g.set(7);
    expect(await m.render()).toContain('billing_api_connections 7');
    g.setToCurrentTime();
    const seconds = Number(/^billing_api_connections (\S+)$/m.exec(await m.render())?.[1]);
    expect(seconds).toBeGreaterThan(1_600_000_000);
  });
});

describe('Meters: process metrics', () => {
  it('registers Node.js process metrics under the service prefix, without lint-failing _total gauges', () => {
    const m = new Meters({ serviceName: 'billing_api' });
    const names = m.registry.getMetricsAsArray().map((metric) => metric.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'billing_api_process_cpu_seconds_total',
        'billing_api_process_resident_memory_bytes',
        'billing_api_nodejs_eventloop_lag_seconds',
        'billing_api_nodejs_active_handles',
      ]),
    );
    expect(names.filter((name) => name.endsWith('_total') && !name.includes('cpu'))).toEqual([]);
  });

  it("registers what prom-client's collectDefaultMetrics would, but the _total gauges", () => {
    const keel = new Meters({ serviceName: 'billing_api' }).registry.getMetricsAsArray();
    const reference = new Registry();
    collectDefaultMetrics({ register: reference, prefix: 'billing_api_' });
    const describe = (metric: { name: string; help: string; type: unknown }) =>
      `${metric.name} ${String(metric.type)} ${metric.help}`;
    const expected = reference
      .getMetricsAsArray()
      .map(describe)
      .filter((line) => !/_active_\w+_total /.test(line));
    expect(keel.map(describe).sort()).toEqual(expected.sort());
  });

  it('counts CPU time from the process, user and system adding up to the total', async () => {
    const m = new Meters({ serviceName: 'billing_api' });
    const busyUntil = Date.now() + 20;
    while (Date.now() < busyUntil);
    const text = await m.render();
    const value = (name: string) => Number(new RegExp(`^billing_api_${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value('process_cpu_seconds_total')).toBeCloseTo(
      value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total'),
      6,
    );
  });

  it("with processMetrics: 'deferred', registers them on startProcessMetrics() or the first render()", async () => {
    const names = (m: Meters) => m.registry.getMetricsAsArray().map((metric) => metric.name);
    const started = new Meters({ serviceName: 'billing_api', processMetrics: 'deferred' });
    expect(names(started)).toEqual([]);
    started.startProcessMetrics();
    started.startProcessMetrics();
    expect(names(started).sort()).toEqual(names(new Meters({ serviceName: 'billing_api' })).sort());
    const rendered = new Meters({ serviceName: 'billing_api', processMetrics: 'deferred' });
    expect(await rendered.render()).toContain('billing_api_process_cpu_seconds_total');
  });

  it("refuses a process metric's name while the process metrics wait to be registered", () => {
    const m = new Meters({ serviceName: 'billing_api', processMetrics: 'deferred' });
    expect(() => m.gauge('process_open_fds', { help: 'mine' })).toThrow(/a Node.js process metric/);
  });

  it('knows every name it registers before registering them', () => {
    const prefix = 'billing_api_';
    const registered = new Meters({ serviceName: 'billing_api' }).registry
      .getMetricsAsArray()
      .map((metric) => metric.name.slice(prefix.length));
    expect([...PROCESS_METRIC_NAMES].sort()).toEqual(expect.arrayContaining(registered.sort()));
  });

  it('can be turned off', () => {
    expect(meters().registry.getMetricsAsArray()).toEqual([]);
  });
});

describe('Meters.forResource', () => {
  it('labels every meter with the resource name, in one family per metric name', async () => {
    const m = meters();
    m.forResource('http').counter('requests', { help: 'requests' }).inc(2);
    m.forResource('admin_http').counter('requests', { help: 'requests' }).inc();
    const text = await m.render();
    expect(text).toContain(`billing_api_requests_total{${RESOURCE_LABEL}="http"} 2`);
    expect(text).toContain(`billing_api_requests_total{${RESOURCE_LABEL}="admin_http"} 1`);
    expect(text.match(/# TYPE billing_api_requests_total counter/g)).toHaveLength(1);
  });

  it('returns the same view and the same meters for one resource', () => {
    const m = meters();
    expect(m.forResource('http')).toBe(m.forResource('http'));
    const view = m.forResource('http');
    expect(view.gauge('open', { help: 'open', labelNames: ['kind'] })).toBe(
      view.gauge('open', { help: 'open', labelNames: ['kind'] }),
    );
    expect(view.histogram('h', { help: 'h' })).toBeInstanceOf(Histogram);
    expect(view.summary('s', { help: 's' })).toBeInstanceOf(Summary);
  });

  it('refuses a resource label set by the resource itself', () => {
    const view = meters().forResource('http');
    expect(() => view.counter('requests', { help: 'r', labels: { resource: 'x' } })).toThrow(
      MetricLabelError,
    );
    expect(() => view.counter('requests', { help: 'r', labelNames: ['resource'] })).toThrow(MetricLabelError);
  });

  it('conflicts with the same name defined on the service without the resource label', () => {
    const m = meters();
    m.forResource('http').counter('requests', { help: 'requests' });
    expect(() => m.counter('requests', { help: 'requests' })).toThrow(/labels=\[resource\]/);
  });
});

describe('Meters.addScrapeGauge', () => {
  it('reads its value at each scrape, one series per label value when given a label', async () => {
    const m = new Meters({ serviceName: 'billing-api', processMetrics: false });
    let staleness = 0;
    const dropped: Record<string, number> = { stdout: 0 };
    m.addScrapeGauge('settings_staleness_seconds', 'staleness', () => staleness);
    m.addScrapeGauge('logging_dropped_records', 'dropped', () => dropped, 'stream');
    staleness = 4;
    dropped.stdout = 3;
    dropped.redis = 1;
    const text = await m.render();
    expect(text).toMatch(/^billing_api_settings_staleness_seconds 4$/m);
    expect(text).toMatch(/^billing_api_logging_dropped_records\{stream="stdout"\} 3$/m);
    expect(text).toMatch(/^billing_api_logging_dropped_records\{stream="redis"\} 1$/m);
  });
});
