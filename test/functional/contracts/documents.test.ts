import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../support/process';
import { keel } from '../cli/cli';

// `keel openapi` and `keel asyncapi` on samples/amqp-orders, each document checked by a real
// validator in a child process (both validators are ES modules or load ones).

jest.setTimeout(120_000);

interface Verdict {
  valid: boolean;
  version?: string;
  errors: unknown[];
}

function validate(script: string, document: string): Promise<Verdict> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.join(PROJECT_ROOT, 'test/support', script)],
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Verdict),
    );
    child.stdin!.end(document);
  });
}

const sample = (file: string) => path.join('samples/amqp-orders', file);

let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'keel-documents-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the documents of samples/amqp-orders', () => {
  it('keel openapi: the orders API with its request body and answers, valid OpenAPI 3.1', async () => {
    const out = path.join(dir, 'openapi.json');
    expect(await keel(['openapi', sample('orders-api.ts'), '--out', out])).toMatchObject({ code: 0 });
    const text = readFileSync(out, 'utf8');
    expect(await validate('validate-openapi.mjs', text)).toEqual({ valid: true, version: '3.1', errors: [] });
    const document = JSON.parse(text) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.paths['/orders'].post.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/NewOrder' } } },
    });
    expect(Object.keys(document.paths['/orders'].post.responses).sort()).toEqual(['201', '400', '422']);
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['NewOrder', 'Order']));
  });

  it('keel asyncapi: the worker and the pricing service, valid AsyncAPI 3.0 with AMQP bindings', async () => {
    const [worker, pricing] = await Promise.all([
      keel(['asyncapi', sample('worker.ts')]),
      keel(['asyncapi', sample('pricing.ts')]),
    ]);
    expect([worker.code, pricing.code, worker.stderr, pricing.stderr]).toEqual([0, 0, '', '']);
    for (const result of [worker, pricing]) {
      expect(await validate('validate-asyncapi.mjs', result.stdout)).toEqual({
        valid: true,
        version: '3.0.0',
        errors: [],
      });
    }
    const document = JSON.parse(worker.stdout) as {
      channels: Record<string, { address: string; bindings: { amqp: Record<string, unknown> } }>;
      operations: Record<string, { action: string }>;
      components: { messages: Record<string, { payload?: { required?: string[] } }> };
    };
    expect(document.channels['amqp.subscribe.orders.star']).toMatchObject({
      address: 'orders.*',
      bindings: { amqp: { is: 'routingKey', exchange: { name: 'keel.events', type: 'topic' } } },
    });
    expect(document.channels['amqp.pull.jobs']).toMatchObject({
      address: 'jobs',
      bindings: { amqp: { is: 'queue', queue: { name: 'jobs', durable: true } } },
    });
    expect(document.operations['orders_worker.invoice'].action).toBe('receive');
    expect(document.components.messages['orders_worker.invoice.message'].payload?.required).toEqual([
      'kind',
      'order',
    ]);
    const replies = JSON.parse(pricing.stdout) as { operations: Record<string, { reply?: unknown }> };
    expect(replies.operations['pricing.quote'].reply).toMatchObject({
      address: { location: '$message.header#/replyTo' },
    });
  });
});
