import { Type } from '@sinclair/typebox';
import {
  http,
  HttpServerResource,
  Microservice,
  microservice,
  Test,
  type App,
  type HttpContext,
} from '../../../lib';
import { quietLog } from '../../support/async';
import { json, send, type Reply } from '../../unit/http/requests';

jest.setTimeout(60_000);

const MAX_BODY_BYTES = 16 * 1024 * 1024;

const Tree = Type.Recursive((Self) => Type.Object({ name: Type.String(), child: Type.Optional(Self) }));
const batch = { body: Type.Array(Type.Object({ a: Type.Integer(), b: Type.String() })) };
const tree = { body: Tree };
const qty = { body: Type.Object({ qty: Type.Integer() }) };

const seen: unknown[] = [];

@microservice({ name: 'hostile', resources: { http: HttpServerResource } })
class Hostile extends Microservice {
  @http('POST', '/batch', batch)
  batch(ctx: HttpContext<'/batch', typeof batch>) {
    return { items: ctx.request.body.length };
  }

  @http('POST', '/tree', tree)
  tree(ctx: HttpContext<'/tree', typeof tree>) {
    return { name: ctx.request.body.name };
  }

  @http('POST', '/qty', qty)
  qty(ctx: HttpContext<'/qty', typeof qty>) {
    seen.push(ctx.request.body);
    // What a careless handler does with a body: merges it into a fresh object.
    return Object.assign({}, ctx.request.body);
  }
}

let app: App;
let port: number;

beforeAll(async () => {
  app = await Test.createMicroservice(Hostile, { log: quietLog() })
    .withSettings({
      system: { resources: { http: { port: 0, access_log: false, max_body_bytes: MAX_BODY_BYTES } } },
    })
    .start();
  port = app.get(HttpServerResource).address()!.port;
});
afterAll(() => app.stop());
beforeEach(() => (seen.length = 0));

function post(path: string, body: string): Promise<Reply> {
  return send(port, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

async function stillAnswers(): Promise<void> {
  const answer = await post('/qty', '{"qty":1}');
  expect([answer.status, answer.body]).toEqual([200, '{"qty":1}']);
}

describe('hostile bodies on routes with schemas', () => {
  it('answers a 100,000-level nesting with 400, on a recursive schema and a flat one', async () => {
    const depth = 100_000;
    const nested = `${'{"name":"n","child":'.repeat(depth)}{"name":"leaf"}${'}'.repeat(depth)}`;
    const deep = await post('/tree', nested);
    expect(deep.status).toBe(400);
    expect(json(deep).errors).toEqual([{ in: 'body', pointer: '', detail: 'is nested too deeply' }]);
    const arrays = await post('/qty', `${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(json(arrays).errors).toEqual([{ in: 'body', pointer: '', detail: 'must be object' }]);
    await stillAnswers();
  });

  it('takes a 10 MB array of small objects within the body limit, and lists a bounded number of problems when all are bad', async () => {
    const count = 500_000;
    const good = `[${Array.from({ length: count }, (_, i) => `{"a":${i},"b":"x"}`).join(',')}]`;
    expect(good.length).toBeGreaterThan(10_000_000);
    expect(good.length).toBeLessThan(MAX_BODY_BYTES);
    const answer = await post('/batch', good);
    expect([answer.status, json(answer)]).toEqual([200, { items: count }]);
    const bad = good.replace(/"a":\d+/g, '"a":"x"');
    const refused = await post('/batch', bad);
    expect(refused.status).toBe(400);
    const errors = json(refused).errors as unknown[];
    // The first problem and a note: a body over 1 MiB is not checked for every problem.
    expect(errors).toEqual([
      { in: 'body', pointer: '/0/a', detail: 'must be integer' },
      { in: 'body', pointer: '', detail: 'further problems are not listed for a body over 1048576 bytes' },
    ]);
    await stillAnswers();
  });

  it('lists at most 100 problems of a small body', async () => {
    const bad = `[${Array.from({ length: 1000 }, () => '{"a":"x","b":1}').join(',')}]`;
    const refused = await post('/batch', bad);
    expect((json(refused).errors as unknown[]).length).toBe(100);
  });

  it('refuses __proto__ and constructor.prototype keys, and the prototype stays clean', async () => {
    for (const body of [
      '{"qty":1,"__proto__":{"polluted":true}}',
      '{"qty":1,"constructor":{"prototype":{"polluted":true}}}',
      '{"qty":1,"nested":{"__proto__":{"polluted":true}}}',
    ]) {
      const answer = await post('/qty', body);
      expect([body, answer.status]).toEqual([body, 400]);
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('checks the value a duplicate key leaves, the one the handler would get', async () => {
    const refused = await post('/qty', '{"qty":1,"qty":"many"}');
    expect(json(refused).errors).toEqual([{ in: 'body', pointer: '/qty', detail: 'must be integer' }]);
    const taken = await post('/qty', '{"qty":"many","qty":2}');
    expect([taken.status, taken.body]).toEqual([200, '{"qty":2}']);
    expect(seen).toEqual([{ qty: 2 }]);
  });
});
