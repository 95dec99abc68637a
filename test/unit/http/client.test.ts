import { Microservice, microservice, PolicyError, ReportServerResource, Test, type App } from '../../../lib';
import { http, HttpClientError, HttpClientResource, HttpServerResource } from '../../../lib/resources/http';
import { quietLog } from '../../support/async';
import { send } from './requests';
import { Upstream } from './upstream';

@microservice({ name: 'caller', resources: { http: HttpServerResource, http_client: HttpClientResource } })
class Caller extends Microservice {
  constructor(private readonly client: HttpClientResource) {
    super();
  }

  @http('GET', '/relay')
  async relay(): Promise<string> {
    return (await this.client.get('/upstream')).text();
  }
}

describe('HttpClientResource', () => {
  let upstream: Upstream;
  let app: App;
  let client: HttpClientResource;

  beforeEach(async () => {
    upstream = new Upstream();
    const baseUrl = await upstream.listen();
    app = await Test.createMicroservice(Caller, { log: quietLog() })
      .withSettings({
        system: {
          resources: {
            http: { port: 0 },
            http_client: { base_url: baseUrl, backoff_ms: 10, timeout_ms: 2000 },
          },
        },
      })
      .start();
    client = app.get(HttpClientResource);
  });
  afterEach(async () => {
    await app.stop();
    await upstream.close();
  });

  it('retries an idempotent request that failed twice, then gets the answer', async () => {
    upstream.behaviour = (_request, response, attempt) => {
      response.statusCode = attempt <= 2 ? 503 : 200;
      response.end(attempt <= 2 ? 'busy' : 'third time lucky');
    };
    const response = await client.get('/sheep', { query: { flock: 'north' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('third time lucky');
    expect(upstream.seen.map((request) => request.url)).toEqual(Array(3).fill('/sheep?flock=north'));
  });

  it('retries after connections cut short', async () => {
    upstream.behaviour = (request, response, attempt) => {
      if (attempt <= 2) request.socket.destroy();
      else response.end('steady');
    };
    expect(await (await client.get('/sheep')).text()).toBe('steady');
    expect(upstream.seen).toHaveLength(3);
  });

  it('never retries a method that is not idempotent', async () => {
    upstream.behaviour = (_request, response) => {
      response.statusCode = 503;
      response.end();
    };
    expect((await client.post('/sheep', { body: { count: 1 } })).status).toBe(503);
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0].headers['content-type']).toBe('application/json');
  });

  it('gives up with POLICY_RETRIES_EXHAUSTED, caused by an HTTP_CLIENT_TIMEOUT, when no answer comes in time', async () => {
    upstream.behaviour = () => undefined;
    const failure = await client
      .get('/sheep', { timeoutMs: 100, retries: 1 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PolicyError);
    expect(failure).toMatchObject({ code: 'POLICY_RETRIES_EXHAUSTED', attempts: 2 });
    expect((failure as PolicyError).cause).toBeInstanceOf(HttpClientError);
    expect((failure as PolicyError).cause).toMatchObject({ code: 'HTTP_CLIENT_TIMEOUT' });
    expect(upstream.seen).toHaveLength(2);
  });

  it("gives up with the attempt's own TIMEOUT error when only one attempt was allowed", async () => {
    upstream.behaviour = () => undefined;
    const failure = await client
      .get('/sheep', { timeoutMs: 100, retries: 0 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(HttpClientError);
    expect(failure).toMatchObject({ code: 'HTTP_CLIENT_TIMEOUT' });
  });

  it('refuses a per-call timeoutMs or totalTimeoutMs Node would cut to 1 ms (3e9), or not whole, before sending', async () => {
    upstream.behaviour = (_request, response) => response.end('slow enough');
    for (const options of [
      { timeoutMs: 3e9 },
      { totalTimeoutMs: 3e9 },
      { timeoutMs: 1.5 },
      { timeoutMs: -1 },
    ]) {
      const failure = await client.get('/sheep', options).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HttpClientError);
      expect(failure).toMatchObject({ code: 'HTTP_CLIENT_INVALID_OPTION' });
    }
    expect(String(await client.get('/sheep', { timeoutMs: 3e9 }).catch((error: unknown) => error))).toContain(
      "GET /sheep on http client 'http_client': timeoutMs must be an integer from 0 to 2147483647, got 3000000000",
    );
    expect(upstream.seen).toHaveLength(0);
  });

  it('passes on the id of the request being served', async () => {
    upstream.behaviour = (request, response) => response.end(String(request.headers['x-request-id']));
    const port = app.get(HttpServerResource).address()!.port;
    const reply = await send(port, '/relay', { headers: { 'x-request-id': 'from-the-edge' } });
    expect(reply).toMatchObject({ status: 200, body: 'from-the-edge' });
  });

  it('counts attempts per target host', async () => {
    upstream.behaviour = (_request, response, attempt) => {
      response.statusCode = attempt === 1 ? 502 : 204;
      response.end();
    };
    await client.get('/sheep');
    const host = upstream.seen[0].headers.host!;
    expect(host).toMatch(/^127\.0\.0\.1:\d+$/);
    const metrics = (await send(app.get(ReportServerResource).address()!.port, '/metrics')).body;
    const series = (status: number) =>
      `caller_http_client_requests_total{resource="http_client",host="${host}",method="GET",status="${status}"} 1`;
    expect(metrics).toContain(series(502));
    expect(metrics).toContain(series(204));
  });

  it('refuses requests once stopped', async () => {
    await app.stop();
    await expect(client.get('/sheep')).rejects.toMatchObject({ code: 'HTTP_CLIENT_CLOSED' });
  });
});
