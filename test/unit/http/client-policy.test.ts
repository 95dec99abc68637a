import { Microservice, microservice, PolicyError, ReportServerResource, Test, type App } from '../../../lib';
import { HttpClientResource } from '../../../lib/resources/http';
import { quietLog, until } from '../../support/async';
import { send } from './requests';
import { Upstream } from './upstream';

@microservice({ name: 'caller', resources: { http_client: HttpClientResource } })
class Caller extends Microservice {}

type Record = { level: string; message: string; fields: object };

describe('HttpClientResource through its policy', () => {
  let upstream: Upstream;
  let baseUrl: string;
  let app: App;
  let client: HttpClientResource;
  let records: Record[];

  async function start(settings: object = {}): Promise<void> {
    records = [];
    app = await Test.createMicroservice(Caller, { log: quietLog(records) })
      .withSettings({
        system: {
          resources: {
            report_server: { port: 0 },
            http_client: {
              base_url: baseUrl,
              backoff_ms: 10,
              timeout_ms: 2000,
              breaker: { consecutive_failures: 3, half_open_after_ms: 200 },
              ...settings,
            },
          },
        },
      })
      .start();
    client = app.get(HttpClientResource);
  }

  beforeEach(async () => {
    upstream = new Upstream();
    baseUrl = await upstream.listen();
  });
  afterEach(async () => {
    await app?.stop();
    await upstream.close();
  });

  it('waits what Retry-After asks for before the next attempt', async () => {
    await start();
    upstream.behaviour = (_request, response, attempt) => {
      response.statusCode = attempt === 1 ? 503 : 200;
      if (attempt === 1) response.setHeader('retry-after', '1');
      response.end();
    };
    expect((await client.get('/sheep')).status).toBe(200);
    const retry = records.find((record) => 'delay_ms' in record.fields);
    expect(retry?.fields).toMatchObject({ attempt: 1, delay_ms: 1000 });
    expect(upstream.seen).toHaveLength(2);
  });

  it('sends a POST once, unless the call says it is idempotent', async () => {
    await start({ breaker: { consecutive_failures: 10 } });
    upstream.behaviour = (_request, response) => {
      response.statusCode = 503;
      response.end();
    };
    expect((await client.post('/orders', { body: { id: 1 } })).status).toBe(503);
    expect(upstream.seen).toHaveLength(1);
    expect((await client.post('/orders', { body: { id: 1 }, idempotent: true })).status).toBe(503);
    expect(upstream.seen).toHaveLength(4);
  });

  it('ends the retries at the total timeout', async () => {
    await start();
    upstream.behaviour = () => undefined;
    const failure = await client
      .get('/sheep', { timeoutMs: 100, retries: 50, totalTimeoutMs: 300 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PolicyError);
    expect(failure).toMatchObject({ code: 'POLICY_TIMEOUT', target: 'http_client' });
    expect(upstream.seen.length).toBeLessThan(51);
  });

  it('bounds reading the body with the attempt timeout, after the response is returned', async () => {
    await start();
    // Headers at once, then a body that ends only long after the timeout: the attempt's timer outlives
    // the policy's result. The late end lets a regression fail on the assertion rather than hang the stop.
    upstream.behaviour = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('first chunk');
      setTimeout(() => response.end(), 5000).unref();
    };
    const response = await client.get('/sheep', { timeoutMs: 200 });
    expect(response.status).toBe(200);
    const failure = await response.text().catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'TimeoutError' });
  });

  it('stops sending to a failing upstream but for the half-open probes, and logs the outage once', async () => {
    await start();
    upstream.behaviour = (_request, response) => {
      response.statusCode = 503;
      response.end();
    };
    // The first call's three attempts open the breaker; the 50 next fail fast without reaching it.
    expect((await client.get('/sheep')).status).toBe(503);
    expect(upstream.seen).toHaveLength(3);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () =>
        client.get('/sheep').then(
          (response) => response.status,
          (error: PolicyError) => error.code,
        ),
      ),
    );
    const probes = records.filter((record) => record.message.endsWith('half_open')).length;
    expect(upstream.seen).toHaveLength(3 + probes);
    expect(outcomes.filter((outcome) => outcome === 'POLICY_BREAKER_OPEN').length).toBeGreaterThanOrEqual(
      50 - probes,
    );

    const [report] = app.status().resources.filter((row) => row.name === 'http_client');
    expect(report.breakers).toEqual([{ target: baseUrl, state: 'open', probeAt: expect.any(String) }]);
    expect(report.statusText).toBe(`circuit breaker ${baseUrl} open`);
    // A dependency's outage does not take this service out of rotation.
    const reportPort = app.get(ReportServerResource).address()!.port;
    expect((await send(reportPort, '/health/ready')).status).toBe(200);
    const metrics = (await send(reportPort, '/metrics')).body;
    expect(metrics).toContain(
      `caller_http_client_breaker_state{resource="http_client",target="${baseUrl}"} 2`,
    );
    expect(metrics).toMatch(
      new RegExp(
        `caller_http_client_rejections_total\\{resource="http_client",target="${baseUrl}",reason="breaker_open"\\} \\d+`,
      ),
    );

    upstream.behaviour = (_request, response) => response.end('back');
    await until(
      () =>
        client.breakers()[0].state === 'closed' || (void client.get('/sheep').catch(() => undefined), false),
      10_000,
      'a probe to close the breaker',
    );
    expect(await (await client.get('/sheep')).text()).toBe('back');
    expect(
      records.filter((record) => record.message.includes('circuit breaker') && record.level === 'warn'),
    ).toHaveLength(1);
    expect(
      records.filter((record) => record.message.includes('circuit breaker') && record.level === 'info'),
    ).toHaveLength(1);
  });

  it('holds readiness down while every breaker is open, when told to', async () => {
    await start({
      breaker: { consecutive_failures: 1, half_open_after_ms: 60_000, affects_readiness: true },
    });
    upstream.behaviour = (_request, response) => {
      response.statusCode = 502;
      response.end();
    };
    await client.get('/sheep', { retries: 0 });
    expect(client.breakers()).toMatchObject([{ state: 'open' }]);
    expect((await send(app.get(ReportServerResource).address()!.port, '/health/ready')).status).toBe(503);
  });
});
