import { connect, type Socket } from 'node:net';
import { Microservice, microservice, ReportServerResource, Test, type App } from '../../../lib';
import { http, HttpServerResource, reply, type HttpContext } from '../../../lib/resources/http';
import { quietLog } from '../../support/async';
import { json, send } from '../../unit/http/requests';

const MAX_BODY_BYTES = 64 * 1024;

@microservice({ name: 'answers', resources: { http: HttpServerResource } })
class Answers extends Microservice {
  @http('GET', '/pairs')
  pairs(): number[] {
    return [201, 404];
  }

  @http('POST', '/created')
  created(): unknown {
    return reply(201, { id: 7 });
  }

  @http('DELETE', '/nothing')
  nothing(): void {}

  @http('GET', '/accepted')
  accepted(ctx: HttpContext): void {
    ctx.status = 202;
  }

  @http('GET', '/refused')
  refused(ctx: HttpContext): never {
    return ctx.throw(403, 'no sheep for you');
  }

  @http('GET', '/broken')
  broken(): never {
    throw new Error('broken on purpose');
  }

  @http('GET', '/deep')
  deep(): unknown {
    // Too deep for JSON.stringify on Node 20 and 24; Node 26's is iterative and goes down to the
    // BigInt, which no JSON can hold: a body that cannot be serialized on every Node.
    let body: unknown = 10n;
    for (let depth = 0; depth < 100_000; depth++) body = [body];
    return body;
  }

  @http('POST', '/upload')
  upload(ctx: HttpContext): number {
    return (ctx.state.body as Buffer | string).length;
  }
}

let app: App;
let port: number;
const records: Array<{ level: string; message: string; fields: object }> = [];

beforeAll(async () => {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'development';
  app = await Test.createMicroservice(Answers, { log: quietLog(records) })
    .withSettings({ system: { resources: { http: { port: 0, max_body_bytes: MAX_BODY_BYTES } } } })
    .start()
    .finally(() => (process.env.NODE_ENV = previous));
  port = app.get(HttpServerResource).address()!.port;
});
afterAll(() => app.stop());

describe('what a handler returns', () => {
  it('takes a two-element array starting with a status as data, not as [status, body]', async () => {
    const answer = await send(port, '/pairs');
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual([201, 404]);
  });

  it('answers with the status of reply(status, body)', async () => {
    const answer = await send(port, '/created', { method: 'POST' });
    expect(answer.status).toBe(201);
    expect(json(answer)).toEqual({ id: 7 });
  });

  it('refuses a status outside 100-599 in reply()', () => {
    expect(() => reply(99, 'x')).toThrow(
      /reply\(99, \.\.\.\): the status must be an integer from 100 to 599/,
    );
  });

  it('answers 204 when the handler returns nothing, and keeps a status it set itself', async () => {
    const nothing = await send(port, '/nothing', { method: 'DELETE' });
    expect(nothing.status).toBe(204);
    expect(nothing.body).toBe('');
    expect((await send(port, '/accepted')).status).toBe(202);
  });
});

describe('error answers', () => {
  it('answers a path no route matches with the JSON error body', async () => {
    const answer = await send(port, '/goats', { headers: { 'x-request-id': 'lost-goat' } });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toContain('application/json');
    expect(json(answer)).toEqual({
      error: 'no route matches GET /goats',
      status: 404,
      request_id: 'lost-goat',
    });
  });

  it('gives the JSON error body to an error status a koa-style route set without a body', async () => {
    app.get(HttpServerResource).router.get('/koa-style-missing', (ctx) => {
      ctx.status = 404;
    });
    const answer = await send(port, '/koa-style-missing');
    expect(answer.status).toBe(404);
    expect(json(answer)).toEqual({ error: 'Not Found', status: 404, request_id: expect.any(String) });
  });

  it('answers a method a path does not serve with 405 and the JSON error body', async () => {
    const answer = await send(port, '/pairs', { method: 'PUT' });
    expect(answer.status).toBe(405);
    expect(json(answer)).toMatchObject({
      error: expect.stringContaining('PUT is not allowed on /pairs'),
      status: 405,
    });
  });

  it('puts the stack in a 5xx body outside production, never in a 4xx body', async () => {
    expect(json(await send(port, '/broken')).stack).toEqual(expect.stringContaining('broken on purpose'));
    const refused = json(await send(port, '/refused'));
    expect(refused).toEqual({ error: 'no sheep for you', status: 403, request_id: expect.any(String) });
  });

  it('answers a body JSON cannot serialize (100k deep, a BigInt at the bottom) with the JSON 500 and its request id, logged and counted as 500', async () => {
    const answer = await send(port, '/deep', { headers: { 'x-request-id': 'too-deep-1' } });
    expect(answer.status).toBe(500);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json(answer)).toMatchObject({
      error: 'internal server error',
      status: 500,
      request_id: 'too-deep-1',
    });
    const access = records.filter(({ message }) => message.startsWith('GET /deep '));
    expect(access.map(({ fields }) => (fields as { status: number }).status)).toEqual([500]);
    expect(records).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('GET /deep: the answer cannot be serialized as JSON: ') as unknown,
      }),
    );
    const metrics = (await send(app.get(ReportServerResource).address()!.port, '/metrics')).body;
    expect(metrics).toMatch(
      /answers_http_requests_total\{resource="http",method="GET",route="\/deep",status="500"\} 1/,
    );
    expect(metrics).not.toMatch(/route="\/deep",status="200"/);
  });

  it('counts a malformed JSON body under the route it was sent to', async () => {
    const answer = await send(port, '/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(answer.status).toBe(400);
    const metrics = (await send(app.get(ReportServerResource).address()!.port, '/metrics')).body;
    expect(metrics).toMatch(
      /answers_http_requests_total\{resource="http",method="POST",route="\/upload",status="400"\} 1/,
    );
    expect(metrics).not.toMatch(/route="unmatched",status="400"/);
  });
});

/**
 * A raw client: sends the head, then body bytes as fast as the socket takes them, until `body`
 * gives no more. `written` counts what the server's side took in (its kernel buffers included).
 */
function upload(
  head: string,
  body: (written: number) => Buffer | undefined,
): Promise<{ answer: string; written: number; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    let written = 0;
    let closed = false;
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const pump = () => {
      for (let chunk = body(written); chunk !== undefined && !closed; chunk = body(written)) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(head);
      if (!head.toLowerCase().includes('expect: 100-continue')) pump();
      // Like curl: the body follows a 100 Continue, and never a final answer.
      else socket.once('data', () => answer.startsWith('HTTP/1.1 100 ') && pump());
    });
    // Bounded: a server that reads everything would let the whole body through in well under this.
    let gaveUp = false;
    const giveUp = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, 3000);
    socket.on('close', () => {
      closed = true;
      clearTimeout(giveUp);
      resolve({ answer, written, closedByServer: !gaveUp });
    });
  });
}

describe('a body over max_body_bytes', () => {
  // Far more than the loopback socket buffers on both sides hold together (a few MiB).
  const SENT_AT_MOST = 256 * 1024 * 1024;
  const READ_AT_MOST = 16 * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 'x');
  const upTo = (limit: number) => (written: number) => (written < limit ? chunk : undefined);

  it('gets 413 with Connection: close for a declared length, without 100 Continue, and the socket is closed unread', async () => {
    const result = await upload(
      `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${SENT_AT_MOST}\r\nExpect: 100-continue\r\n\r\n`,
      upTo(SENT_AT_MOST),
    );
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.answer).not.toContain('100 Continue');
    expect(result.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(result.closedByServer).toBe(true);
    expect(result.written).toBe(0);
  });

  it('gets 413 for a declared length without Expect, and the server stops reading', async () => {
    const result = await upload(
      `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${SENT_AT_MOST}\r\n\r\n`,
      upTo(SENT_AT_MOST),
    );
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(result.closedByServer).toBe(true);
    expect(result.written).toBeLessThan(READ_AT_MOST);
  });

  it('cuts a chunked body off once it passes the limit, with 413 and Connection: close', async () => {
    const chunked = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    const result = await upload(
      'POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      (written) => (written < SENT_AT_MOST ? chunked : undefined),
    );
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(result.closedByServer).toBe(true);
    expect(result.written).toBeLessThan(READ_AT_MOST);
  });

  it('still reads a body within the limit after 100 Continue', async () => {
    const body = Buffer.alloc(1000, 'y');
    const result = await upload(
      `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      (written) => (written === 0 ? body : undefined),
    );
    expect(result.answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(result.answer).toMatch(/\r\n\r\n1000$/);
  });
});
