import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import {
  HttpBodyError,
  HttpServerResource,
  Microservice,
  microservice,
  parseForm,
  parseJson,
  SettingsError,
  Test,
  http,
  type App,
  type HttpContext,
} from '../../../lib';
import { json, recordingLog, send } from './requests';

@microservice({ name: 'granary', resources: { http: HttpServerResource } })
class Granary extends Microservice {
  /** What a handler that copies its body learns: whether the copy's prototype was rewritten. */
  @http('POST', '/copy')
  copy(ctx: HttpContext): { polluted: unknown; body: unknown } {
    const copy = Object.assign({}, ctx.state.body) as { polluted?: unknown };
    return { polluted: copy.polluted ?? null, body: ctx.state.body };
  }

  @http('GET', '/grain')
  grain(): string {
    return 'wheat';
  }
}

function portOf(app: App): number {
  return app.get(HttpServerResource).address()!.port;
}

describe('request bodies', () => {
  let app: App;
  beforeAll(async () => {
    app = await Test.createMicroservice(Granary, { log: recordingLog([]) })
      .withSettings({ system: { resources: { http: { port: 0, max_body_bytes: 4096 } } } })
      .start();
  });
  afterAll(() => app.stop());

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    send(portOf(app), '/copy', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('refuses a JSON body with a __proto__ key (400), however it is spelled', async () => {
    for (const body of [
      '{"__proto__":{"polluted":"yes"}}',
      '{"a":[{"__proto__":{"polluted":"yes"}}]}',
      '{"\\u005f_proto__":{"polluted":"yes"}}',
    ]) {
      const reply = await post(body);
      expect(reply.status).toBe(400);
      expect(json(reply).error).toMatch(/prototype poisoning/);
    }
  });

  it('refuses a JSON body with constructor.prototype (400), and takes a constructor without one', async () => {
    expect((await post('{"constructor":{"prototype":{"polluted":"yes"}}}')).status).toBe(400);
    const plain = await post('{"constructor":"tractor"}');
    expect(plain.status).toBe(200);
    expect(json(plain)).toEqual({ polluted: null, body: { constructor: 'tractor' } });
  });

  it('parses JSON as before, with or without a BOM, and answers 400 to what is not JSON', async () => {
    expect(json(await post('{"grain":"barley"}')).body).toEqual({ grain: 'barley' });
    expect(json(await post('\ufeff{"grain":"oats"}')).body).toEqual({ grain: 'oats' });
    const broken = await post('{"grain":');
    expect(broken.status).toBe(400);
    expect(json(broken).error).toBe('request body is not valid JSON');
  });

  it('keeps every value of a repeated form field and refuses fields named after a prototype', async () => {
    const form = (body: string) => post(body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(json(await form('grain=wheat&grain=rye&sack=1')).body).toEqual({
      grain: ['wheat', 'rye'],
      sack: '1',
    });
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const reply = await form(`${key}=yes&polluted=no`);
      expect(reply.status).toBe(400);
      expect(json(reply).error).toContain(`form field '${key}'`);
    }
  });

  it('undoes gzip, deflate and br, and a list of codings in the order they were applied', async () => {
    const text = '{"grain":"spelt"}';
    for (const [coding, bytes] of [
      ['gzip', gzipSync(text)],
      ['deflate', deflateSync(text)],
      ['br', brotliCompressSync(text)],
      ['identity', Buffer.from(text)],
      ['deflate, GZIP', gzipSync(deflateSync(text))],
    ] as const) {
      const reply = await post(bytes, { 'content-encoding': coding });
      expect({ coding, status: reply.status, body: json(reply).body }).toEqual({
        coding,
        status: 200,
        body: { grain: 'spelt' },
      });
    }
  });

  it('refuses a coding it cannot undo (415), a body that inflates past max_body_bytes (413) and bad gzip (400)', async () => {
    const unsupported = await post(Buffer.from('x'), { 'content-encoding': 'compress' });
    expect(unsupported.status).toBe(415);
    expect(unsupported.headers['accept-encoding']).toBe('identity, gzip, x-gzip, deflate, br');
    const bomb = gzipSync(`{"grain":"${'a'.repeat(100_000)}"}`);
    expect(bomb.length).toBeLessThan(4096);
    const inflated = await post(bomb, { 'content-encoding': 'gzip' });
    expect(inflated.status).toBe(413);
    expect(json(inflated).error).toMatch(/over the limit of 4096 bytes once decoded/);
    expect((await post(Buffer.from('not gzip'), { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await send(portOf(app), '/grain')).body).toBe('wheat');
  });
});

describe('the exported parsers', () => {
  it('parseJson refuses poisoning with a coded error and parses the rest', () => {
    expect(parseJson('[1,{"a":null}]')).toEqual([1, { a: null }]);
    expect(parseJson(Buffer.from('"text"'))).toBe('text');
    expect(() => parseJson('{"b":{"__proto__":{}}}')).toThrow(
      expect.objectContaining({ code: 'BODY_PROTO_POISONING', status: 400 }),
    );
    expect(() => parseJson('nope')).toThrow(HttpBodyError);
    expect(() => parseJson('nope')).toThrow(expect.objectContaining({ code: 'BODY_INVALID_JSON' }));
  });

  it('parseForm gives a plain object with no prototype key', () => {
    const fields = parseForm('a=1&b=2&a=3');
    expect(fields).toEqual({ a: ['1', '3'], b: '2' });
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(() => parseForm('__proto__=x')).toThrow(expect.objectContaining({ code: 'BODY_UNSAFE_KEY' }));
  });
});

describe('CORS settings', () => {
  const start = (cors: Record<string, unknown>) =>
    Test.createMicroservice(Granary, { log: recordingLog([]) })
      .withSettings({ system: { resources: { http: { port: 0, cors: { enabled: true, ...cors } } } } })
      .start();

  it("refuses credentials with origins '*' at start, naming the key", async () => {
    const failure = await start({ origins: ['*'], credentials: true }).then(
      (app) => app.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SettingsError);
    expect(failure).toMatchObject({
      code: 'SETTINGS_INVALID',
      issues: [expect.objectContaining({ path: 'system.resources.http.cors.credentials', owner: 'http' })],
    });
    expect((failure as Error).message).toContain(
      "system.resources.http.cors.credentials: expected false while cors.origins lists '*'",
    );
  });

  it("answers '*' to any origin without credentials, and reflects only a listed origin", async () => {
    const any = await start({ origins: ['*'] });
    try {
      const reply = await send(portOf(any), '/grain', { headers: { origin: 'https://evil.example' } });
      expect(reply.headers['access-control-allow-origin']).toBe('*');
      expect(reply.headers['access-control-allow-credentials']).toBeUndefined();
    } finally {
      await any.stop();
    }
    const listed = await start({ origins: ['https://farm.example'], credentials: true });
    try {
      const evil = await send(portOf(listed), '/grain', { headers: { origin: 'https://evil.example' } });
      expect(evil.headers['access-control-allow-origin']).toBeUndefined();
      expect(evil.headers['access-control-allow-credentials']).toBeUndefined();
      const farm = await send(portOf(listed), '/grain', { headers: { origin: 'https://farm.example' } });
      expect(farm.headers['access-control-allow-origin']).toBe('https://farm.example');
      expect(farm.headers['access-control-allow-credentials']).toBe('true');
    } finally {
      await listed.stop();
    }
  });
});
