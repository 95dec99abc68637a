import {
  AmqpRequestError,
  AmqpResource,
  MetricsResource,
  Microservice,
  microservice,
  pull,
  registerCodec,
  respond,
  resource,
  subscribe,
  Test,
  type App,
  type Codec,
  type MessageMeta,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { describeWithRabbitmq, RabbitBroker } from '../../support/rabbitmq';
import { json, send } from '../../unit/http/requests';
import { connect, type ChannelModel } from 'amqplib';
import { Socket } from 'node:net';

interface Order {
  id: number;
}

type LogRecord = { level: string; message: string; fields: object };

/** What `/metrics` serves: the service's registry. */
const metricsOf = (app: App) => app.get<MetricsResource>('metrics').meters.render();
/** Jobs of both instances of Shop, in the order handled. */
const JOBS: Array<{ job: unknown; meta: MessageMeta }> = [];

@resource()
class Audit {
  readonly seen: Array<{ order: Order; meta: MessageMeta }> = [];

  @subscribe('orders.*')
  onOrder(order: Order, meta: MessageMeta): void {
    this.seen.push({ order, meta });
  }
}

@microservice({ name: 'shop', resources: { amqp: AmqpResource, audit: Audit } })
class Shop extends Microservice {
  readonly failing: number[] = [];

  @respond('quote.price')
  quote(request: { sku: string }): { sku: string; price: number } {
    if (request.sku === 'nope') throw Object.assign(new Error('unknown sku nope'), { code: 'UNKNOWN_SKU' });
    // An error that quotes a secret (here the broker URL, a sensitive setting) as a careless handler would.
    if (request.sku.startsWith('amqp:')) throw new Error(`no price for ${request.sku}`);
    return { sku: request.sku, price: 42 };
  }

  @pull('shop-jobs')
  async job(job: unknown, meta: MessageMeta): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    JOBS.push({ job, meta });
  }

  @pull('always-fails')
  fails(_job: unknown, meta: MessageMeta): void {
    this.failing.push(meta.attempt);
    throw new Error('the handler always throws');
  }
}

@microservice({ name: 'ledger', resources: { amqp: AmqpResource } })
class Ledger extends Microservice {
  readonly seen: Order[] = [];

  @subscribe('orders.created')
  onCreated(order: Order): void {
    this.seen.push(order);
  }
}

/** A user codec: `key=value` lines. */
const lines: Codec<Record<string, string> | object> = {
  contentType: 'text/x-lines',
  encode: (value) =>
    Buffer.from(
      Object.entries(value)
        .map(([key, inner]) => `${key}=${String(inner)}`)
        .join('\n'),
    ),
  decode: (bytes) =>
    Object.fromEntries(
      bytes
        .toString()
        .split('\n')
        .map((line) => line.split('=', 2)),
    ),
};
registerCodec('lines', lines);

describeWithRabbitmq('AmqpResource against a real RabbitMQ', () => {
  let broker: RabbitBroker;
  let raw: ChannelModel;
  const records: LogRecord[] = [];
  let shop: App;
  let shop2: App;
  let ledger: App;
  const settings = (url: string) => ({
    system: {
      resources: {
        amqp: { url, retry: { attempts: 2, backoff_ms: 10, max_backoff_ms: 20 }, request_timeout_ms: 2000 },
      },
    },
  });

  beforeAll(async () => {
    broker = await RabbitBroker.start();
    raw = await connect(broker.url);
    shop = await Test.createMicroservice(Shop, { log: quietLog(records) })
      .withSettings(settings(broker.url))
      .start();
    shop2 = await Test.createMicroservice(Shop, { log: quietLog(records) })
      .withSettings(settings(broker.url))
      .start();
    ledger = await Test.createMicroservice(Ledger, { log: quietLog() })
      .withSettings(settings(broker.url))
      .start();
  }, 90_000);

  afterAll(async () => {
    await Promise.all([shop, shop2, ledger].map((app) => app?.stop()));
    await raw?.close();
    await broker?.stop();
  }, 60_000);

  const amqp = (app: App) => app.get<AmqpResource>('amqp');
  const audits = () => [shop, shop2].map((app) => app.get<Audit>('audit').seen).flat();

  it('publish/subscribe: each service gets every message, instances of one service share its queue', async () => {
    for (let id = 0; id < 20; id++)
      await amqp(ledger).publish('orders.created', { id }, { requestId: `req-${id}` });
    await amqp(ledger).publish('orders.cancelled', { id: 99 });
    await until(
      () => audits().length === 21 && ledger.get<Ledger>('ledger').seen.length === 20,
      10_000,
      'deliveries',
    );
    expect(
      audits()
        .map(({ order }) => order.id)
        .sort((a, b) => a - b),
    ).toEqual([...Array(20).keys(), 99]);
    // Competing instances: both took part (round robin), none got a copy the other also got.
    expect(shop.get<Audit>('audit').seen.length).toBeGreaterThan(0);
    expect(shop2.get<Audit>('audit').seen.length).toBeGreaterThan(0);
    const first = audits().find(({ order }) => order.id === 3)!.meta;
    expect(first).toMatchObject({
      pattern: 'subscribe',
      queue: 'shop.orders.*',
      routingKey: 'orders.created',
      contentType: 'application/json',
      requestId: 'req-3',
      attempt: 0,
    });
    // One debug line per handled message.
    const lines = records.filter(
      ({ level, fields }) => level === 'debug' && (fields as { request_id?: string }).request_id === 'req-3',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0].fields).toMatchObject({
      queue: 'shop.orders.*',
      routing_key: 'orders.created',
      attempt: 0,
      outcome: 'ok',
    });
    expect(lines[0].message).toBe('subscribe shop.orders.* orders.created ok');
    expect(shop.status().resources.find((row) => row.name === 'amqp')?.status).toBe('STARTED');
  });

  it('request/response: the reply, an error reply that rejects, a timeout, no responder', async () => {
    await expect(amqp(ledger).request('quote.price', { sku: 'a1' })).resolves.toEqual({
      sku: 'a1',
      price: 42,
    });
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        amqp(ledger).request<{ sku: string }>('quote.price', { sku: `s${index}` }),
      ),
    );
    expect(replies.map(({ sku }) => sku)).toEqual(Array.from({ length: 50 }, (_, index) => `s${index}`));

    const failure = await amqp(ledger)
      .request('quote.price', { sku: 'nope' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AmqpRequestError);
    expect(failure).toMatchObject({ code: 'AMQP_REMOTE_ERROR', remoteCode: 'UNKNOWN_SKU' });
    expect((failure as Error).message).toContain('unknown sku nope');
    const leaked = await amqp(ledger)
      .request('quote.price', { sku: broker.url })
      .catch((error: unknown) => error);
    expect((leaked as Error).message).toContain('no price for amqp://[redacted]@127.0.0.1');
    expect((leaked as Error).message).not.toContain(broker.url);

    await expect(amqp(ledger).request('nobody.home', {}, { timeout_ms: 2000 })).rejects.toMatchObject({
      code: 'AMQP_NO_RESPONDER',
    });
    // A queue nobody consumes: the request waits its timeout.
    const channel = await raw.createChannel();
    await channel.assertQueue('slow.quote', { durable: false });
    await expect(amqp(ledger).request('slow.quote', {}, { timeout_ms: 200 })).rejects.toThrow(
      "request 'slow.quote' on amqp 'amqp' got no reply within 200 ms",
    );
    await channel.close();
  });

  /** An app of its own, and the socket its AmqpResource connected with: TCP_NODELAY is its last setNoDelay. */
  async function startWithSocket(
    amqpSettings: object = {},
  ): Promise<{ app: App; socket: Socket; noDelay: boolean }> {
    const setNoDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
    const lastNoDelay = new Map<Socket, boolean>();
    let app: App;
    try {
      const base = settings(broker.url);
      Object.assign(base.system.resources.amqp, amqpSettings);
      app = await Test.createMicroservice(Ledger, { log: quietLog() }).withSettings(base).start();
      // No argument means true.
      setNoDelay.mock.contexts.forEach((socket, call) =>
        lastNoDelay.set(socket, setNoDelay.mock.calls[call][0] !== false),
      );
    } finally {
      setNoDelay.mockRestore();
    }
    const toBroker = [...lastNoDelay].filter(([socket]) => socket.remotePort === broker.port);
    if (toBroker.length !== 1) {
      await app.stop();
      throw new Error(`expected one socket to the broker, found ${toBroker.length}`);
    }
    return { app, socket: toBroker[0][0], noDelay: toBroker[0][1] };
  }

  it("the resource's socket: TCP_NODELAY, so no frame waits for the broker's delayed ACK, and the frames of one turn leave in one write", async () => {
    // With Nagle's algorithm on, a request written while the responder's basic.ack was still
    // unacknowledged waited for the broker's delayed ACK (~40 ms): the broker answers an ack with nothing.
    const { app, socket, noDelay } = await startWithSocket();
    try {
      expect(noDelay).toBe(true);
      await expect(amqp(app).request('quote.price', { sku: 'nd' })).resolves.toEqual({
        sku: 'nd',
        price: 42,
      });
      // Without Nagle's coalescing, 100 publishes made in one turn were 100 writes (and segments).
      const writes = [jest.spyOn(socket, '_write'), jest.spyOn(socket, '_writev')];
      await Promise.all(Array.from({ length: 100 }, (_, id) => amqp(app).publish('nobody.listens', { id })));
      const calls = writes.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
      writes.forEach((spy) => spy.mockRestore());
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThanOrEqual(5);
      // Confirmed (the default): publish() resolves once the broker's basic.ack has been read.
      const before = socket.bytesRead;
      await amqp(app).publish('nobody.listens', { id: 100 });
      expect(socket.bytesRead).toBeGreaterThan(before);
    } finally {
      await app.stop();
    }
  });

  it('confirm: false: publish() and push() resolve without waiting for the broker, and every message still arrives', async () => {
    const { app, socket } = await startWithSocket({ confirm: false });
    try {
      const got: number[] = [];
      await amqp(app).subscribe<Order>('unconfirmed.*', ({ id }) => void got.push(id), {
        queue: 'unconfirmed',
      });
      await amqp(app).pull<Order>('unconfirmed-jobs', ({ id }) => void got.push(id));
      // The first push declares the work queue, which takes a round trip of its own.
      await amqp(app).push('unconfirmed-jobs', { id: 20 });
      // Nothing is read from the socket between the call and its resolution: no confirm is awaited.
      const readWhilePublishing: number[] = [];
      for (let id = 0; id < 20; id++) {
        const before = socket.bytesRead;
        if (id % 2 === 0) await amqp(app).publish('unconfirmed.created', { id });
        else await amqp(app).push('unconfirmed-jobs', { id });
        readWhilePublishing.push(socket.bytesRead - before);
      }
      expect(readWhilePublishing).toEqual(Array.from({ length: 20 }, () => 0));
      await until(() => got.length === 21, 10_000, '21 unconfirmed messages');
      expect(got.sort((a, b) => a - b)).toEqual([...Array(21).keys()]);
    } finally {
      await app.stop();
    }
  });

  it('push/pull: every job handled once by one of the competing workers, acked after its handler', async () => {
    for (let id = 0; id < 30; id++) await amqp(ledger).push('shop-jobs', { id });
    const handled = () => JOBS;
    await until(() => handled().length === 30, 10_000, '30 jobs');
    expect(
      handled()
        .map(({ job }) => (job as Order).id)
        .sort((a, b) => a - b),
    ).toEqual([...Array(30).keys()]);
    const channel = await raw.createChannel();
    const { messageCount } = await channel.checkQueue('shop-jobs');
    expect(messageCount).toBe(0);
    await channel.close();
  });

  it('a handler that always throws: retried the set number of times, then dead-lettered with the error', async () => {
    await amqp(ledger).push('always-fails', { id: 1 });
    const channel = await raw.createChannel();
    let dead: Awaited<ReturnType<typeof channel.get>> = false;
    const deadline = Date.now() + 10_000;
    while (dead === false && Date.now() < deadline) {
      dead = await channel.get('always-fails.dead', { noAck: true });
      if (dead === false) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await channel.close();
    expect(dead).not.toBe(false);
    if (dead === false) return;
    expect(dead.properties.headers?.['x-keel-dead-reason']).toBe(
      'handler failed 3 time(s): the handler always throws',
    );
    expect(JSON.parse(dead.content.toString())).toEqual({ id: 1 });
    const attempts = [shop, shop2].flatMap((app) => app.get<Shop>('shop').failing).sort();
    expect(attempts).toEqual([0, 1, 2]);
    const metrics = await metricsOf(shop);
    const shop2Metrics = await metricsOf(shop2);
    const count = (text: string, name: string) =>
      Number(new RegExp(`${name}\\{[^}]*queue="always-fails"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(
      count(metrics, 'amqp_messages_failed_total') + count(shop2Metrics, 'amqp_messages_failed_total'),
    ).toBe(3);
    expect(
      count(metrics, 'amqp_messages_dead_lettered_total') +
        count(shop2Metrics, 'amqp_messages_dead_lettered_total'),
    ).toBe(1);
    const logged = records.filter(
      ({ level, message }) => level === 'error' && message.includes('the handler always throws'),
    );
    expect(logged).toHaveLength(3);
  });

  it('codecs: YAML, raw bytes and a registered codec decode by content type; undecodable messages are dead-lettered and counted', async () => {
    const jobs = () => JOBS;
    const before = jobs().length;
    await amqp(ledger).push('shop-jobs', { kind: 'yaml' }, { codec: 'yaml' });
    await amqp(ledger).push('shop-jobs', Buffer.from([1, 2, 3]), { codec: 'raw' });
    await amqp(ledger).push('shop-jobs', { kind: 'lines' }, { codec: 'lines' });
    await until(() => jobs().length === before + 3, 10_000, 'three jobs');
    const got = jobs().slice(before);
    const byType = new Map(got.map(({ job, meta }) => [meta.contentType, job]));
    expect(byType.get('application/yaml')).toEqual({ kind: 'yaml' });
    expect(byType.get('application/octet-stream')).toEqual(Buffer.from([1, 2, 3]));
    expect(byType.get('text/x-lines')).toEqual({ kind: 'lines' });

    const channel = await raw.createConfirmChannel();
    channel.sendToQueue('shop-jobs', Buffer.from('{not json'), {
      contentType: 'application/json',
      persistent: true,
    });
    channel.sendToQueue('shop-jobs', Buffer.from('x'), { contentType: 'image/png', persistent: true });
    await channel.waitForConfirms();
    const dead: string[] = [];
    const deadline = Date.now() + 10_000;
    while (dead.length < 2 && Date.now() < deadline) {
      const message = await channel.get('shop-jobs.dead', { noAck: true });
      if (message === false) await new Promise((resolve) => setTimeout(resolve, 50));
      else dead.push(String(message.properties.headers?.['x-keel-dead-reason']));
    }
    await channel.close();
    expect(dead.sort()).toEqual(
      [
        expect.stringMatching(/^cannot decode the message: application\/json cannot decode it: /),
        "cannot decode the message: no codec registered for content type 'image/png'",
      ].sort(),
    );
    const text = (await metricsOf(shop)) + (await metricsOf(shop2));
    const deadLettered = [
      ...text.matchAll(/amqp_messages_dead_lettered_total\{[^}]*queue="shop-jobs"[^}]*\} (\d+)/g),
    ];
    expect(deadLettered.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(2);
  });

  it('samples/amqp-orders: the API quotes through pricing, publishes orders.created and a worker invoices it', async () => {
    const spawned: ServiceProcess[] = [];
    const spawn = (file: string, service: string) => {
      const child = spawnService(`samples/amqp-orders/${file}`, {
        KEEL__SYSTEM__RESOURCES__AMQP__URL: broker.url,
        KEEL__SYSTEM__RESOURCES__HTTP__PORT: '0',
        [`KEEL__SYSTEM__MICROSERVICES__${service.toUpperCase()}__RESOURCES__REPORT_SERVER__PORT`]: '0',
      });
      spawned.push(child);
      return child;
    };
    try {
      const pricing = spawn('pricing.ts', 'pricing');
      const worker = spawn('worker.ts', 'orders_worker');
      const api = spawn('orders-api.ts', 'orders_api');
      // Ready, not only connected: their consumers (and the worker's orders.* binding) start in postStart,
      // and an event published before the binding exists reaches no queue.
      await Promise.all([pricing, worker].map((child) => child.waitFor(/ ready in \d/, 60_000)));
      // Three TypeScript processes compiling at once on a loaded machine: give them time.
      const port = Number(
        /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(
          await api.waitFor(/http server 'http' listening on http:\/\/127\.0\.0\.1:\d+/, 60_000),
        )![1],
      );
      const body = JSON.stringify({ sku: 'sku-1', quantity: 2 });
      const headers = { 'content-type': 'application/json', 'x-request-id': 'sample-order-1' };
      const created = await send(port, '/orders', { method: 'POST', body, headers });
      expect(created.status).toBe(201);
      expect(json(created)).toEqual({ id: 1, sku: 'sku-1', quantity: 2, total: 19 });
      const unknown = await send(port, '/orders', {
        method: 'POST',
        body: JSON.stringify({ sku: 'sku-9', quantity: 1 }),
        headers: { 'content-type': 'application/json' },
      });
      expect(unknown.status).toBe(422);
      expect(json(unknown)).toMatchObject({
        error: expect.stringContaining('no price for sku-9') as unknown,
      });
      const invoiced = await worker.waitFor(/invoiced order 1: 19/, 30_000);
      expect(invoiced).toMatch(/"request_id":"sample-order-1"[^\n]*"msg":"invoiced order 1: 19"/);
      await worker.waitFor(/orders.created: order 1/, 30_000);
      for (const child of spawned) child.child.kill('SIGTERM');
      expect(await Promise.all(spawned.map((child) => child.exited))).toEqual(
        spawned.map(() => ({ code: 0, signal: null })),
      );
    } finally {
      killAll(spawned);
    }
  }, 180_000);
});
