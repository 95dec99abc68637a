import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Runs `node <args>` from the project's root; rejects with its output when it exits non-zero. */
function node(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: PROJECT_ROOT }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    );
  });
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

  it('keel asyncapi on samples/kafka-orders: the topic its workers consume, their group and record schema', async () => {
    const worker = await keel(['asyncapi', 'samples/kafka-orders/worker.ts']);
    expect([worker.code, worker.stderr]).toEqual([0, '']);
    expect(await validate('validate-asyncapi.mjs', worker.stdout)).toEqual({
      valid: true,
      version: '3.0.0',
      errors: [],
    });
    const document = JSON.parse(worker.stdout) as {
      channels: Record<string, unknown>;
      operations: Record<string, unknown>;
      components: { messages: Record<string, { payload?: { required?: string[] } }> };
    };
    expect(document.channels['kafka.consume.orders']).toMatchObject({
      address: 'orders',
      bindings: { kafka: { topic: 'orders' } },
    });
    expect(document.operations['kafka_orders_worker.invoice']).toMatchObject({
      action: 'receive',
      bindings: { kafka: { groupId: { type: 'string', enum: ['kafka_orders_workers'] } } },
    });
    expect(document.components.messages['kafka_orders_worker.invoice.message'].payload?.required).toEqual([
      'id',
      'sku',
      'quantity',
    ]);
  });

  it("openapi-typescript: a client typed from the document compiles against the routes' own types", async () => {
    const document = path.join(dir, 'client-openapi.json');
    expect(await keel(['openapi', sample('orders-api.ts'), '--out', document])).toMatchObject({ code: 0 });
    await node([
      'node_modules/openapi-typescript/bin/cli.js',
      document,
      '--output',
      path.join(dir, 'api.ts'),
    ]);
    const root = (file: string) => JSON.stringify(path.join(PROJECT_ROOT, file));
    writeFileSync(
      path.join(dir, 'client.ts'),
      `import type { paths } from './api';
import type { Infer } from ${root('lib')};
import type { NewOrder, Order } from ${root('samples/amqp-orders/messages')};

type Create = paths['/orders']['post'];
type Body = NonNullable<Create['requestBody']>['content']['application/json'];
type Created = Create['responses'][201]['content']['application/json'];
type Listed = paths['/orders']['get']['responses'][200]['content']['application/json'];

// What the client sends is what the route takes, and what it reads is what the route answers.
export const sent: Infer<typeof NewOrder> = { sku: 'a1', quantity: 2 } as Body;
export const body: Body = { sku: 'a1', quantity: 2 } as Infer<typeof NewOrder>;
export const created: Infer<typeof Order> = {} as Created;
export const answer: Created = {} as Infer<typeof Order>;
export const listed: Infer<typeof Order>[] = [] as Listed;
export const problem: string = ({} as Create['responses'][400]['content']['application/problem+json']).title;

// @ts-expect-error the route's quantity is a number
export const wrong: Body = { sku: 'a1', quantity: 'many' };
// @ts-expect-error the route requires its sku
export const partial: Body = { quantity: 1 };
`,
    );
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: path.join(PROJECT_ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: true,
          rootDir: '/',
          typeRoots: [path.join(PROJECT_ROOT, 'node_modules/@types')],
          types: ['node'],
        },
        include: [path.join(dir, 'client.ts')],
        exclude: [],
      }),
    );
    await node(['node_modules/tsgo/bin/tsc', '-p', path.join(dir, 'tsconfig.json')]);
  });
});
