import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpServerResource, Test, type App } from '../../../lib';
import { quietLog } from '../../support/async';
import { PROJECT_ROOT } from '../../support/process';
import { json, send } from '../../unit/http/requests';
import { keel } from '../cli/cli';
import { Shop } from './fixtures/shop';

jest.setTimeout(60_000);

const FIXTURE = path.join(__dirname, 'fixtures', 'shop.ts');

/** The document checked by @seriousme/openapi-schema-validator, in a child process (it is an ES module). */
function validate(document: unknown): Promise<{ valid: boolean; version: string; errors: unknown[] }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'test/support/validate-openapi.mjs')],
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as never),
    );
    child.stdin!.end(JSON.stringify(document));
  });
}

let app: App;
let port: number;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'keel-openapi-'));
  app = await Test.createMicroservice(Shop, { log: quietLog() })
    .withSettings({ system: { resources: { http: { port: 0, access_log: false } } } })
    .start();
  port = app.get(HttpServerResource).address()!.port;
});
afterAll(async () => {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the OpenAPI 3.1 document', () => {
  it('is served at /openapi.json and passes a real OpenAPI validator', async () => {
    const answer = await send(port, '/openapi.json');
    expect(answer.status).toBe(200);
    const document = json(answer);
    expect(await validate(document)).toEqual({ valid: true, version: '3.1', errors: [] });
    expect(document).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'Shop', description: 'Orders of the shop' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    });
  });

  it('has operation ids, tags, summaries, parameters and schemas deduplicated into components', () => {
    const document = app.get(HttpServerResource).openApiDocument() as unknown as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, unknown> };
    };
    const place = document.paths['/orders'].post;
    expect(place).toMatchObject({
      operationId: 'shop.place',
      summary: 'Place an order',
      tags: ['orders'],
      security: [{ bearer: [] }],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/shop.place_body' } } },
      },
      responses: {
        201: {
          description: 'Created',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } },
        },
        400: {
          content: {
            'application/problem+json': { schema: { $ref: '#/components/schemas/ValidationProblem' } },
          },
        },
      },
    });
    const one = document.paths['/orders/{id}'].get;
    expect(one.operationId).toBe('getOrder');
    expect(one.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
      { name: 'fields', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
      { name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } },
    ]);
    // Order is the answer of both routes, and one component.
    expect(Object.keys(document.components.schemas).sort()).toEqual([
      'Order',
      'ValidationProblem',
      'getOrder_404',
      'shop.place_body',
    ]);
    // An optional group of the template is two paths.
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/health/{probe}', '/health/{probe}/{detail}']),
    );
  });

  it('is what `keel openapi <module> --out file` writes without starting the service', async () => {
    const out = path.join(dir, 'openapi.json');
    const result = await keel(['openapi', FIXTURE, '--out', out]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(app.get(HttpServerResource).openApiDocument());
    const unknown = await keel(['openapi', FIXTURE, '--server', 'admin']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("shop has no HTTP server 'admin'; its HTTP servers: 'http'");
  });

  it('is not served in production unless openapi.enabled is on', async () => {
    const production = await Test.createMicroservice(Shop, {
      log: quietLog(),
      env: { NODE_ENV: 'production' },
    })
      .withSettings({ system: { resources: { http: { port: 0, access_log: false } } } })
      .start();
    const servedAnyway = await Test.createMicroservice(Shop, {
      log: quietLog(),
      env: { NODE_ENV: 'production' },
    })
      .withSettings({
        system: {
          resources: { http: { port: 0, access_log: false, openapi: { enabled: 'on', path: '/api.json' } } },
        },
      })
      .start();
    try {
      const answer = await send(production.get(HttpServerResource).address()!.port, '/openapi.json');
      expect(answer.status).toBe(404);
      const served = await send(servedAnyway.get(HttpServerResource).address()!.port, '/api.json');
      expect(served.status).toBe(200);
      expect(json(served)).toMatchObject({ openapi: '3.1.0', paths: expect.any(Object) });
    } finally {
      await Promise.all([production.stop(), servedAnyway.stop()]);
    }
  });
});
