import { connect } from 'node:net';
import { Microservice, microservice, ReportServerResource, Test, type App } from '../../../lib';
import { http, HttpServerResource, type HttpContext } from '../../../lib/resources/http';
import { json, recordingLog, send, type LogRecord } from './requests';

class Teapot extends Error {
  readonly status = 418;
  readonly expose = true;
}

@microservice({ name: 'pasture', resources: { http: HttpServerResource } })
class Pasture extends Microservice {
  @http('GET', '/sheep/:id')
  sheep(ctx: HttpContext): string {
    return `sheep ${ctx.params.id}`;
  }

  @http('GET', '/broken')
  broken(): never {
    throw new Error('the database password is hunter2');
  }

  @http('GET', '/teapot')
  teapot(): never {
    throw new Teapot('I am a teapot');
  }

  @http('GET', '/missing')
  missing(ctx: HttpContext): never {
    return ctx.throw(404, 'no such sheep');
  }

  @http('POST', '/echo')
  echo(ctx: HttpContext): { body: unknown } {
    return { body: ctx.state.body };
  }

  @http('GET', '/ip')
  ip(ctx: HttpContext): string {
    return ctx.ip;
  }
}

async function startPasture(http: Record<string, unknown>, records: LogRecord[] = []): Promise<App> {
  return Test.createMicroservice(Pasture, { log: recordingLog(records) })
    .withSettings({ system: { resources: { http: { port: 0, ...http } } } })
    .start();
}

function portOf(app: App): number {
  return app.get(HttpServerResource).address()!.port;
}

describe('the default middleware', () => {
  const records: LogRecord[] = [];
  let app: App;
  beforeAll(async () => {
    app = await startPasture({ max_body_bytes: 1024, expose_errors: 'always' }, records);
  });
  afterAll(() => app.stop());

  it('takes the request id from x-request-id and echoes it', async () => {
    const reply = await send(portOf(app), '/sheep/1', { headers: { 'x-request-id': 'req-42' } });
    expect(reply.headers['x-request-id']).toBe('req-42');
  });

  it('generates a request id when none (or a malformed one) is given', async () => {
    const plain = await send(portOf(app), '/sheep/1');
    const malformed = await send(portOf(app), '/sheep/1', { headers: { 'x-request-id': 'a b\tc' } });
    for (const reply of [plain, malformed])
      expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(plain.headers['x-request-id']).not.toBe(malformed.headers['x-request-id']);
  });

  it('writes one access log line per request, with the request id and the route template', async () => {
    await send(portOf(app), '/sheep/7', { headers: { 'x-request-id': 'logged-once' } });
    const access = records.filter(({ message }) => message.startsWith('GET /sheep/7 200 '));
    expect(access).toHaveLength(1);
    expect(access[0].level).toBe('info');
    expect(access[0].fields).toMatchObject({
      request_id: 'logged-once',
      resource: 'http',
      method: 'GET',
      route: '/sheep/:id',
      status: 200,
    });
  });

  it('counts and times requests by route template, never by raw path', async () => {
    for (const id of ['1', '2', '3']) await send(portOf(app), `/sheep/${id}`);
    await send(portOf(app), '/nowhere/1');
    await send(portOf(app), '/nowhere/2');
    const { port } = app.get(ReportServerResource).address()!;
    const metrics = (await send(port, '/metrics')).body;
    expect(metrics).toMatch(
      /pasture_http_requests_total\{resource="http",method="GET",route="\/sheep\/:id",status="200"\} \d+/,
    );
    expect(metrics).toMatch(
      /pasture_http_requests_total\{resource="http",method="GET",route="unmatched",status="404"\} 2/,
    );
    expect(metrics).toMatch(
      /pasture_http_request_duration_seconds_count\{resource="http",method="GET",route="\/sheep\/:id"\}/,
    );
    expect(metrics).not.toContain('/sheep/1');
    expect(metrics).not.toContain('/nowhere');
  });

  it('turns an error into a JSON body with its status; a 5xx hides its message', async () => {
    const broken = await send(portOf(app), '/broken', { headers: { 'x-request-id': 'oops' } });
    expect(broken.status).toBe(500);
    expect(broken.headers['content-type']).toContain('application/json');
    expect(json(broken)).toMatchObject({ error: 'internal server error', status: 500, request_id: 'oops' });
    expect(broken.body).not.toContain('hunter2"');
    const teapot = await send(portOf(app), '/teapot');
    expect(teapot.status).toBe(418);
    expect(json(teapot)).toMatchObject({ error: 'I am a teapot', status: 418 });
    const missing = await send(portOf(app), '/missing');
    expect(missing.status).toBe(404);
    expect(json(missing)).toMatchObject({ error: 'no such sheep', status: 404 });
    expect(records.some(({ level, message }) => level === 'error' && message.includes('hunter2'))).toBe(true);
  });

  it('puts the stack in error bodies when told to', async () => {
    expect(json(await send(portOf(app), '/broken')).stack).toEqual(
      expect.stringContaining('at Pasture.broken'),
    );
  });

  it('parses JSON, text and form bodies', async () => {
    const post = (type: string, body: string) =>
      send(portOf(app), '/echo', { method: 'POST', headers: { 'content-type': type }, body });
    expect(json(await post('application/json', '{"sheep":1}'))).toEqual({ body: { sheep: 1 } });
    expect(json(await post('text/plain', 'baa'))).toEqual({ body: 'baa' });
    expect(json(await post('application/x-www-form-urlencoded', 'a=1&b=2'))).toEqual({
      body: { a: '1', b: '2' },
    });
    expect((await post('application/json', '{not json')).status).toBe(400);
  });

  it('answers 413 to a body over max_body_bytes, declared or streamed', async () => {
    const big = 'x'.repeat(2048);
    const declared = await send(portOf(app), '/echo', { method: 'POST', body: big });
    expect(declared.status).toBe(413);
    expect(json(declared)).toMatchObject({ status: 413 });
    const streamed = await send(portOf(app), '/echo', {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: big,
    });
    expect(streamed.status).toBe(413);
    expect((await send(portOf(app), '/echo', { method: 'POST', body: 'x'.repeat(1024) })).status).toBe(200);
  });

  it('has CORS off by default', async () => {
    const reply = await send(portOf(app), '/sheep/1', { headers: { origin: 'https://example.com' } });
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('takes the client address from the socket unless trust_proxy is on', async () => {
    const reply = await send(portOf(app), '/ip', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(reply.body).toMatch(/127\.0\.0\.1/);
  });
});

describe('settings of the default middleware', () => {
  it('hides the stack in production (NODE_ENV=production, expose_errors auto)', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    const app = await startPasture({}).finally(() => (process.env.NODE_ENV = previous));
    try {
      const body = json(await send(portOf(app), '/broken'));
      expect(body).toMatchObject({ status: 500 });
      expect(body).not.toHaveProperty('stack');
    } finally {
      await app.stop();
    }
  });

  it('answers CORS preflights and requests of the configured origins', async () => {
    const app = await startPasture({ cors: { enabled: true, origins: ['https://farm.example'] } });
    try {
      const preflight = await send(portOf(app), '/sheep/1', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://farm.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-request-id',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': 'https://farm.example',
        'access-control-allow-headers': 'x-request-id',
      });
      const other = await send(portOf(app), '/sheep/1', { headers: { origin: 'https://elsewhere.example' } });
      expect(other.status).toBe(200);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.stop();
    }
  });

  it('takes the client address from X-Forwarded-For with trust_proxy', async () => {
    const app = await startPasture({ trust_proxy: true });
    try {
      const reply = await send(portOf(app), '/ip', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(reply.body).toBe('203.0.113.9');
    } finally {
      await app.stop();
    }
  });

  it('answers 408 to a client too slow to send its request', async () => {
    const app = await startPasture({ request_timeout_ms: 300, headers_timeout_ms: 300 });
    try {
      const socket = connect(portOf(app), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      // Headers announce a body that never comes.
      socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part');
      await new Promise((resolve) => socket.once('close', resolve));
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await app.stop();
    }
  });
});
