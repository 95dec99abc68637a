import { Type } from '@sinclair/typebox';
import {
  AmqpRequestError,
  AmqpResource,
  ContractError,
  Microservice,
  microservice,
  pull,
  respond,
  subscribe,
  Test,
  type App,
  type MessageMeta,
  type MetricsResource,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { describeWithRabbitmq, RabbitBroker } from '../../support/rabbitmq';

const Job = Type.Object({ id: Type.Integer(), sku: Type.String({ minLength: 1 }) });
const Quote = Type.Object({ sku: Type.String(), qty: Type.Integer({ minimum: 1 }) });
const Price = Type.Object({ total: Type.Number() });

const handled: Array<{ id: number; sku: string }> = [];
const heard: string[] = [];
const dead: Array<{ body: unknown; reason: unknown; attempt: unknown }> = [];

@microservice({ name: 'typed', resources: { amqp: AmqpResource } })
class Typed extends Microservice {
  @pull('typed.jobs', { schema: Job })
  job(job: { id: number; sku: string }): void {
    handled.push(job);
  }

  @pull('typed.jobs.dead')
  deadJob(body: unknown, meta: MessageMeta): void {
    dead.push({ body, reason: meta.headers['x-keel-dead-reason'], attempt: meta.headers['x-keel-attempt'] });
  }

  @subscribe('typed.events.*', { schema: Job })
  event(job: { sku: string }): void {
    heard.push(job.sku);
  }

  @respond('typed.quote', { schema: Quote, reply: Price })
  quote(request: { sku: string; qty: number }) {
    return { total: request.qty * 2 };
  }
}

describeWithRabbitmq('message contracts on a real broker', () => {
  let broker: RabbitBroker;
  let app: App;
  let amqp: AmqpResource;

  beforeAll(async () => {
    broker = await RabbitBroker.start();
    app = await Test.createMicroservice(Typed, { log: quietLog() })
      .withSettings({ system: { resources: { amqp: { url: broker.url, retry: { backoff_ms: 10 } } } } })
      .start();
    amqp = app.get(AmqpResource);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await broker?.stop();
  }, 60_000);

  it('hands a valid message to its handler, and dead-letters an invalid one with its problems, once', async () => {
    await amqp.push('typed.jobs', { id: 1, sku: 'a' });
    await amqp.push('typed.jobs', { id: 'two', sku: '' });
    await until(() => handled.length === 1 && dead.length === 1, 10_000, 'one handled, one dead-lettered');
    expect(handled).toEqual([{ id: 1, sku: 'a' }]);
    expect(dead).toEqual([
      {
        body: { id: 'two', sku: '' },
        reason: 'does not match its schema: /id must be integer; /sku must NOT have fewer than 1 characters',
        attempt: undefined,
      },
    ]);
    const metrics = await app.get<MetricsResource>('metrics').meters.render();
    expect(metrics).toMatch(/amqp_messages_invalid_total\{[^}]*queue="typed\.jobs"[^}]*\} 1/);
  });

  it('checks a subscriber and a responder: an invalid request gets an error reply', async () => {
    await amqp.publish('typed.events.created', { id: 3, sku: 'c' });
    await amqp.publish('typed.events.created', { id: 4 });
    await until(() => heard.length === 1, 10_000, 'the valid event');
    await expect(amqp.request('typed.quote', { sku: 'a', qty: 2 })).resolves.toEqual({ total: 4 });
    const refused = await amqp.request('typed.quote', { sku: 'a', qty: 0 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AmqpRequestError);
    expect(refused).toMatchObject({ code: 'AMQP_REMOTE_ERROR', remoteCode: 'CONTRACT_INVALID_MESSAGE' });
    expect(String((refused as Error).message)).toContain('/qty must be >= 1');
  });

  it('refuses to send a message that does not match the schema it is sent with', async () => {
    const refused = await amqp
      .push('typed.jobs', { id: 5, sku: 7 } as unknown as { id: number; sku: string }, { schema: Job })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ContractError);
    expect(refused).toMatchObject({
      code: 'CONTRACT_INVALID_MESSAGE',
      problems: [{ pointer: '/sku', detail: 'must be string' }],
    });
    await amqp.push('typed.jobs', { id: 6, sku: 'f' }, { schema: Job });
    await until(() => handled.length === 2, 10_000, 'the valid push');
  });

  it('checks publish and request before sending as push, and leaves it to the consumer in production', async () => {
    const invalidJob = { id: 7 } as unknown as { id: number; sku: string };
    const published = await amqp
      .publish('typed.events.created', invalidJob, { schema: Job })
      .catch((error: unknown) => error);
    expect(published).toMatchObject({
      code: 'CONTRACT_INVALID_MESSAGE',
      problems: [{ pointer: '/sku', detail: "must have required property 'sku'" }],
    });
    const requested = await amqp
      .request('typed.quote', { sku: 'a', qty: 0 }, { schema: Quote })
      .catch((error: unknown) => error);
    expect(requested).toBeInstanceOf(ContractError);
    expect(requested).toMatchObject({ problems: [{ pointer: '/qty', detail: 'must be >= 1' }] });
    // validate_outgoing: auto sends unchecked under NODE_ENV=production; the consumer's check still holds.
    const production = await Test.createMicroservice(Typed, {
      log: quietLog(),
      env: { ...process.env, NODE_ENV: 'production' },
    })
      .withSettings({ system: { resources: { amqp: { url: broker.url, retry: { backoff_ms: 10 } } } } })
      .start();
    try {
      const deadBefore = dead.length;
      await production.get(AmqpResource).push(
        'typed.jobs',
        { id: 'eight', sku: 'h' } as unknown as {
          id: number;
          sku: string;
        },
        { schema: Job },
      );
      await until(() => dead.length === deadBefore + 1, 10_000, 'the unchecked push dead-lettered');
      expect(dead.at(-1)).toMatchObject({
        body: { id: 'eight', sku: 'h' },
        reason: 'does not match its schema: /id must be integer',
      });
    } finally {
      await production.stop();
    }
  });
});
