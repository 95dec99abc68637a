import { Type } from '@sinclair/typebox';
import {
  defineRoute,
  http,
  HttpServerResource,
  Microservice,
  microservice,
  reply,
  Test,
  type App,
  type HttpContext,
  type RouteContext,
} from '../../../lib';
import { quietLog } from '../../support/async';
import { json, send, type Reply } from '../../unit/http/requests';

const Item = Type.Object({ sku: Type.String(), qty: Type.Integer({ minimum: 1 }) });

const update = {
  params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
  query: Type.Object({
    dry: Type.Optional(Type.Boolean()),
    tag: Type.Optional(Type.Array(Type.String())),
    page: Type.Integer({ minimum: 1, default: 1 }),
  }),
  headers: Type.Object({ 'x-tenant': Type.String({ minLength: 2 }) }),
  body: Type.Object({
    qty: Type.Integer({ minimum: 1, maximum: 100 }),
    colour: Type.Union([Type.Literal('red'), Type.Literal('blue')]),
    address: Type.Object({ city: Type.String() }),
    note: Type.Optional(Type.String()),
  }),
  responses: { 200: Type.Object({ id: Type.Integer(), qty: Type.Integer() }) },
} as const;

const strict = defineRoute('POST', '/strict', {
  body: Item,
  unknownProperties: 'reject',
  responses: { 201: Item },
});
const wrong = defineRoute('GET', '/wrong', { responses: { 200: Item } });

const calls: unknown[] = [];

@microservice({ name: 'contracts', resources: { http: HttpServerResource } })
class Contracts extends Microservice {
  @http('PUT', '/items/:id', update)
  update(ctx: HttpContext<'/items/:id', typeof update>) {
    calls.push({
      id: ctx.params.id,
      query: ctx.query,
      tenant: ctx.headers['x-tenant'],
      body: ctx.request.body,
    });
    return { id: ctx.params.id, qty: ctx.request.body.qty };
  }

  @http(strict)
  strict(ctx: RouteContext<typeof strict>) {
    calls.push(ctx.request.body);
    return reply(201, ctx.request.body);
  }

  @http(wrong)
  wrong() {
    // Cast to show the check at run time: the compiler refuses this answer otherwise.
    return { sku: 'a', qty: 'many' } as unknown as { sku: string; qty: number };
  }

  @http('GET', '/plain/:name')
  plain(ctx: HttpContext<'/plain/:name'>): string {
    return ctx.params.name;
  }
}

const records: { level: string; message: string; fields: object }[] = [];
let app: App;
let port: number;

beforeAll(async () => {
  app = await Test.createMicroservice(Contracts, { log: quietLog(records) })
    .withSettings({ system: { resources: { http: { port: 0, access_log: false } } } })
    .start();
  port = app.get(HttpServerResource).address()!.port;
});
afterAll(() => app.stop());
beforeEach(() => (calls.length = 0));

const good = { qty: 3, colour: 'red', address: { city: 'Oslo' } };

function put(
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'x-tenant': 'acme' },
): Promise<Reply> {
  return send(port, path, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('a route with schemas', () => {
  it('passes a valid request to the handler, coerced, with defaults and without unknown properties', async () => {
    const answer = await put('/items/7?dry=true&tag=a', { ...good, extra: true });
    expect(answer.status).toBe(200);
    expect(json(answer)).toEqual({ id: 7, qty: 3 });
    expect(calls).toEqual([{ id: 7, query: { dry: true, tag: ['a'], page: 1 }, tenant: 'acme', body: good }]);
  });

  it('answers 400 problem+json listing every problem of every part, without running the handler', async () => {
    const answer = await put(
      '/items/0?dry=maybe&page=x',
      { qty: 'many', colour: 'green', address: { town: 'Oslo' } },
      {},
    );
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = json(answer);
    expect(problem).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      instance: '/items/0',
    });
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { in: 'params', pointer: '/id', detail: 'must be >= 1' },
        { in: 'query', pointer: '/dry', detail: 'must be boolean' },
        { in: 'query', pointer: '/page', detail: 'must be integer' },
        { in: 'headers', pointer: '/x-tenant', detail: "must have required property 'x-tenant'" },
        { in: 'body', pointer: '/qty', detail: 'must be integer' },
        { in: 'body', pointer: '/colour', detail: 'must be equal to constant' },
        { in: 'body', pointer: '/address/city', detail: "must have required property 'city'" },
      ]),
    );
    expect(calls).toEqual([]);
  });

  it('refuses a missing body, a body out of range and a body of the wrong type', async () => {
    const missing = await send(port, '/items/1', { method: 'PUT', headers: { 'x-tenant': 'acme' } });
    expect(missing.status).toBe(400);
    expect(json(missing).errors).toEqual([{ in: 'body', pointer: '', detail: 'must be object' }]);
    const range = await put('/items/1', { ...good, qty: 101 });
    expect(json(range).errors).toEqual([{ in: 'body', pointer: '/qty', detail: 'must be <= 100' }]);
    const array = await put('/items/1', [good]);
    expect(json(array).errors).toEqual([{ in: 'body', pointer: '', detail: 'must be object' }]);
    expect(calls).toEqual([]);
  });

  it('rejects unknown properties where the route says so, naming each', async () => {
    const answer = await send(port, '/strict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'a', qty: 1, unknown: true, other: 1 }),
    });
    expect(answer.status).toBe(400);
    expect(json(answer).errors).toEqual([
      { in: 'body', pointer: '/unknown', detail: 'is not allowed' },
      { in: 'body', pointer: '/other', detail: 'is not allowed' },
    ]);
    const ok = await send(port, '/strict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'a', qty: 1 }),
    });
    expect(ok.status).toBe(201);
    expect(json(ok)).toEqual({ sku: 'a', qty: 1 });
  });

  it('answers 500 for an answer that does not match its schema, with the route and pointer in the log', async () => {
    records.length = 0;
    const answer = await send(port, '/wrong');
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('many');
    const logged = records.find((record) => record.level === 'error');
    expect(logged?.message).toContain(
      'GET /wrong answered 200 with a body that does not match its schema: /qty must be integer',
    );
  });

  it("follows the server's validation settings: unknown properties allowed or rejected, answers unchecked in production", async () => {
    const start = (env: NodeJS.ProcessEnv, unknown: 'allow' | 'reject') =>
      Test.createMicroservice(Contracts, { log: quietLog(), env: { ...process.env, ...env } })
        .withSettings({
          system: {
            resources: {
              http: {
                port: 0,
                access_log: false,
                validation: { unknown_properties: unknown, responses: 'auto' },
              },
            },
          },
        })
        .start();
    const extra = { ...good, extra: 1 };
    const allowing = await start({ NODE_ENV: 'production' }, 'allow');
    const rejecting = await start({ NODE_ENV: 'test' }, 'reject');
    try {
      const at = (server: App) => server.get(HttpServerResource).address()!.port;
      const headers = { 'content-type': 'application/json', 'x-tenant': 'acme' };
      const kept = await send(at(allowing), '/items/5', {
        method: 'PUT',
        headers,
        body: JSON.stringify(extra),
      });
      expect(kept.status).toBe(200);
      expect(calls).toEqual([expect.objectContaining({ body: extra })]);
      // responses: auto checks answers outside production only.
      const unchecked = await send(at(allowing), '/wrong');
      expect({ status: unchecked.status, body: json(unchecked) }).toEqual({
        status: 200,
        body: { sku: 'a', qty: 'many' },
      });
      const refused = await send(at(rejecting), '/items/5', {
        method: 'PUT',
        headers,
        body: JSON.stringify(extra),
      });
      expect(refused.status).toBe(400);
      expect(json(refused).errors).toEqual([{ in: 'body', pointer: '/extra', detail: 'is not allowed' }]);
      expect((await send(at(rejecting), '/wrong')).status).toBe(500);
    } finally {
      await Promise.all([allowing.stop(), rejecting.stop()]);
    }
  });

  it('leaves a route without schemas as it was', async () => {
    const answer = await send(port, '/plain/ann');
    expect(answer.body).toBe('ann');
  });
});
