import {
  AmqpResource,
  Discovery,
  http,
  HttpClientResource,
  HttpServerResource,
  Microservice,
  permanent,
  microservice,
  pull,
  resource,
  respond,
  subscribe,
  type App,
  type HttpContext,
  type MessageMeta,
} from '../../../lib';
import { FakeDiscovery, InMemoryBroker, messageMeta, Test } from '../../../lib/testing';
import { quietLog } from '../../support/async';

@resource()
class Stock {
  readonly levels = new Map<string, number>([['ab-1', 3]]);
  constructor(private readonly amqp: AmqpResource) {}

  async take(sku: string): Promise<number> {
    const level = (this.levels.get(sku) ?? 0) - 1;
    this.levels.set(sku, level);
    if (level < 2) await this.amqp.publish('stock.low', { sku, level });
    return level;
  }
}

@microservice({
  name: 'inventory',
  resources: { http: HttpServerResource, amqp: AmqpResource, stock: Stock },
})
class Inventory extends Microservice {
  constructor(private readonly stock: Stock) {
    super();
  }

  @http('POST', '/stock/:sku/take')
  async take(ctx: HttpContext): Promise<{ level: number }> {
    return { level: await this.stock.take(ctx.params.sku) };
  }

  @http('GET', '/stock/:sku')
  level(ctx: HttpContext): { level: number } {
    return { level: this.stock.levels.get(ctx.params.sku) ?? 0 };
  }

  @respond('stock.level')
  quote(message: { sku: string }): number {
    return this.stock.levels.get(message.sku) ?? 0;
  }
}

@microservice({
  name: 'notifier',
  resources: { amqp: AmqpResource, discovery: Discovery, inventory: HttpClientResource },
})
class Notifier extends Microservice {
  readonly notes: string[] = [];
  readonly metas: MessageMeta[] = [];
  failures = 0;

  constructor(private readonly inventory: HttpClientResource) {
    super();
  }

  @subscribe('stock.*')
  async onStock(message: { sku: string }, meta: MessageMeta): Promise<void> {
    this.metas.push(meta);
    const response = await this.inventory.get(`/stock/${message.sku}`);
    const { level } = (await response.json()) as { level: number };
    this.notes.push(`${meta.routingKey} ${message.sku} at ${level}`);
  }

  @pull('notifier.jobs')
  job(message: { fail: number }): void {
    if (this.failures++ < message.fail) throw new Error(`failure ${this.failures}`);
  }

  readonly flaky: MessageMeta[] = [];

  @subscribe('flaky.*')
  onFlaky(message: { permanent: boolean }, meta: MessageMeta): void {
    this.flaky.push(meta);
    if (message.permanent) throw permanent(new Error('404 from a dependency'));
    if (meta.attempt === 0) throw new Error('a passing fault');
  }
}

const FAST_RETRY = { retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } };
const notifierLog: { level: string; message: string; fields: object }[] = [];

describe('the testing kit: an in-memory broker and a fake discovery', () => {
  const broker = new InMemoryBroker();
  let inventory: App;
  let notifier: App;

  beforeAll(async () => {
    inventory = await Test.createMicroservice(Inventory, { log: quietLog() })
      .overrideResource(AmqpResource)
      .useClass(broker.AmqpResource)
      .withSettings({ system: { resources: { http: { port: 0 } } } })
      .start();
    const port = inventory.get(HttpServerResource).address()!.port;
    notifier = await Test.createMicroservice(Notifier, { log: quietLog(notifierLog) })
      .overrideResource(AmqpResource)
      .useClass(broker.AmqpResource)
      .overrideResource(Discovery)
      .useValue(new FakeDiscovery({ inventory: [{ port }] }))
      .withSettings({ system: { resources: { inventory: { service: 'inventory' }, amqp: FAST_RETRY } } })
      .start();
  });

  afterAll(async () => {
    await notifier?.stop();
    await inventory?.stop();
  });

  it("routes one app's publish to another's @subscribe, which calls back through discovery", async () => {
    const port = inventory.get(HttpServerResource).address()!.port;
    const response = await fetch(`http://127.0.0.1:${port}/stock/ab-1/take`, { method: 'POST' });
    expect(await response.json()).toEqual({ level: 2 });
    await broker.publish('stock.low', { sku: 'ab-1' });
    expect(notifier.get<Notifier>('notifier').notes).toEqual(['stock.low ab-1 at 2']);
    const meta = notifier.get<Notifier>('notifier').metas[0];
    expect(meta).toMatchObject({
      pattern: 'subscribe',
      queue: 'notifier.stock.*',
      routingKey: 'stock.low',
      attempt: 0,
    });
    expect(meta.requestId).toEqual(expect.any(String));
  });

  it('shows what an app published, decoded by its codec', async () => {
    const take = inventory.get(Stock).take('ab-1');
    await take;
    await broker.settled();
    expect(broker.publishedTo('stock.low')).toContainEqual({ sku: 'ab-1', level: 1 });
    expect(notifier.get<Notifier>('notifier').notes).toContain('stock.low ab-1 at 1');
  });

  it("answers a request from the test with the app's @respond handler", async () => {
    expect(await broker.request('stock.level', { sku: 'ab-1' })).toBe(1);
  });

  it("carries one app's request to another's @respond and back, and says when nothing responds", async () => {
    const amqp = notifier.get<AmqpResource>('amqp');
    expect(await amqp.request('stock.level', { sku: 'ab-1' })).toBe(1);
    await expect(amqp.request('stock.nobody', {})).rejects.toMatchObject({ code: 'AMQP_NO_RESPONDER' });
  });

  it('retries a failed @pull handler with the real consumer, then dead-letters it', async () => {
    await broker.push('notifier.jobs', { fail: 5 });
    expect(notifier.get<Notifier>('notifier').failures).toBe(2);
    expect(broker.waiting('notifier.jobs.dead')).toEqual([{ fail: 5 }]);
  });

  it('keeps the routing key of a retried message, and one attempt number in meta, field and text', async () => {
    await broker.publish('flaky.once', { permanent: false });
    const [first, retry] = notifier.get<Notifier>('notifier').flaky;
    expect([first.routingKey, first.attempt, retry.routingKey, retry.attempt]).toEqual([
      'flaky.once',
      0,
      'flaky.once',
      1,
    ]);
    const failed = notifierLog.find((record) => record.message.includes("from 'notifier.flaky.*'"))!;
    expect(failed.fields).toMatchObject({ attempt: 0, routing_key: 'flaky.once' });
    expect(failed.message).toContain('(attempt 0, the first delivery)');
  });

  it('dead-letters at once what a handler marks permanent', async () => {
    const service = notifier.get<Notifier>('notifier');
    service.flaky.length = 0;
    await broker.publish('flaky.gone', { permanent: true });
    expect(service.flaky.map((meta) => meta.attempt)).toEqual([0]);
    expect(broker.waiting('notifier.flaky.*.dead')).toEqual([{ permanent: true }]);
    const dead = broker.published.find((record) => record.routingKey === 'notifier.flaky.*.dead')!;
    expect(dead.headers['x-keel-dead-routing-key']).toBe('flaky.gone');
  });

  it('says when a message published by an app reached no queue', async () => {
    await notifier.get<AmqpResource>('amqp').publish('nobody.listens', { sku: 'x' });
    await notifier.get<AmqpResource>('amqp').publish('nobody.listens', { sku: 'y' });
    await broker.settled();
    const warnings = notifierLog.filter((record) =>
      record.message.includes("'nobody.listens' reached no queue"),
    );
    expect(warnings).toHaveLength(1);
  });

  it('makes a MessageMeta for calling a handler directly', async () => {
    const service = notifier.get<Notifier>('notifier');
    await service.onStock({ sku: 'ab-1' }, messageMeta({ routingKey: 'stock.out' }));
    expect(service.notes).toContain('stock.out ab-1 at 1');
    expect(messageMeta()).toMatchObject({ pattern: 'subscribe', attempt: 0, redelivered: false });
  });
});

describe('queue_prefix: two instances of a fleet on one broker', () => {
  @microservice({ name: 'worker', resources: { amqp: AmqpResource } })
  class Worker extends Microservice {
    readonly seen: string[] = [];

    @subscribe('order.placed')
    placed(order: { id: string }): void {
      this.seen.push(`placed ${order.id}`);
    }

    @pull('jobs')
    job(job: { id: string }): void {
      this.seen.push(`job ${job.id}`);
    }

    @respond('whoami')
    whoami(): string[] {
      return this.seen;
    }
  }

  it('share no queue: each consumes, pulls and answers only under its own prefix', async () => {
    const broker = new InMemoryBroker();
    const instance = (prefix: string, exchange: string) =>
      Test.createMicroservice(Worker, { log: quietLog() })
        .overrideResource(AmqpResource)
        .useClass(broker.AmqpResource)
        .withSettings({ system: { resources: { amqp: { queue_prefix: prefix, exchange } } } })
        .start();
    const dev = await instance('dev.', 'dev.events');
    const test = await instance('test.', 'test.events');
    try {
      await dev.get<AmqpResource>('amqp').publish('order.placed', { id: 'd1' });
      await test.get<AmqpResource>('amqp').push('jobs', { id: 't1' });
      await broker.settled();
      expect(dev.get(Worker).seen).toEqual(['placed d1']);
      expect(test.get(Worker).seen).toEqual(['job t1']);
      expect(await test.get<AmqpResource>('amqp').request('whoami', {})).toEqual(['job t1']);
      expect(broker.published.map((record) => record.routingKey)).toEqual(
        expect.arrayContaining(['order.placed', 'test.jobs']),
      );
      expect(dev.get(Worker).seen).toEqual(['placed d1']);
    } finally {
      await Promise.all([dev.stop(), test.stop()]);
    }
  });
});
