import { connect, type ChannelModel, type GetMessage } from 'amqplib';
import {
  AmqpRequestError,
  AmqpResource,
  type App,
  type MessageMeta,
  Microservice,
  microservice,
  pull,
  Test,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { describeWithRabbitmq, RabbitBroker } from '../../support/rabbitmq';

interface Job {
  id: number;
  poison?: boolean;
}

const good: number[] = [];
const runs = new Map<number, number[]>();
const polluted: unknown[] = [];

@microservice({ name: 'poisoned', resources: { amqp: AmqpResource } })
class Poisoned extends Microservice {
  @pull('poison-jobs')
  job(job: Job, meta: MessageMeta): void {
    runs.set(job.id, [...(runs.get(job.id) ?? []), meta.attempt]);
    if (job.poison === true) throw new Error(`job ${job.id} always fails`);
    good.push(job.id);
  }

  @pull('proto-jobs')
  proto(job: object): void {
    polluted.push((Object.assign({}, job) as { polluted?: unknown }).polluted);
  }
}

describeWithRabbitmq('AMQP poison messages against a real RabbitMQ', () => {
  let broker: RabbitBroker;
  let raw: ChannelModel;
  let app: App;
  const records: Array<{ level: string; message: string; fields: object }> = [];
  const attempts = 2;

  beforeAll(async () => {
    broker = await RabbitBroker.start();
    raw = await connect(broker.url);
    app = await Test.createMicroservice(Poisoned, { log: quietLog(records) })
      .withSettings({
        system: {
          resources: {
            amqp: {
              url: broker.url,
              prefetch: 10,
              retry: { attempts, backoff_ms: 5, max_backoff_ms: 10 },
            },
          },
        },
      })
      .start();
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await raw?.close().catch(() => undefined);
    await broker?.stop();
  }, 60_000);

  const amqp = () => app.get<AmqpResource>('amqp');

  async function take(queue: string, count: number): Promise<GetMessage[]> {
    const channel = await raw.createChannel();
    const got: GetMessage[] = [];
    const deadline = Date.now() + 30_000;
    while (got.length < count && Date.now() < deadline) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) await new Promise((resolve) => setTimeout(resolve, 20));
      else got.push(message);
    }
    await channel.close();
    return got;
  }

  it('40 messages whose retry copy cannot be sent are dead-lettered, not left unacked: the 10 good ones behind them are consumed', async () => {
    const channel = await raw.createConfirmChannel();
    await channel.assertQueue('poison-jobs', { durable: true });
    for (let id = 1; id <= 20; id++) {
      // attempt + 1 was -1e308, which amqplib refuses to write as an int64.
      channel.sendToQueue('poison-jobs', Buffer.from(JSON.stringify({ id, poison: true })), {
        contentType: 'application/json',
        headers: { 'x-keel-attempt': '-1e308' },
      });
    }
    for (let id = 21; id <= 40; id++) {
      // A double amqplib reads back as a number it then writes as an int64, and refuses.
      channel.sendToQueue('poison-jobs', Buffer.from(JSON.stringify({ id, poison: true })), {
        contentType: 'application/json',
        headers: { 'x-unwritable': { '!': 'double', value: -1e308 } },
      });
    }
    for (let id = 41; id <= 50; id++) {
      channel.sendToQueue('poison-jobs', Buffer.from(JSON.stringify({ id })), {
        contentType: 'application/json',
      });
    }
    await channel.waitForConfirms();
    await channel.close();

    await until(() => good.length === 10, 30_000, `the 10 good jobs (got ${good.length})`);
    expect(good.sort((a, b) => a - b)).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    const dead = await take('poison-jobs.dead', 40);
    expect(dead).toHaveLength(40);
    const ids = dead.map((message) => (JSON.parse(message.content.toString()) as Job).id);
    expect(ids.sort((a, b) => a - b)).toEqual([...Array(40).keys()].map((index) => index + 1));
    const reasons = new Map(
      dead.map((message) => [
        (JSON.parse(message.content.toString()) as Job).id,
        message.properties.headers ?? {},
      ]),
    );
    // An attempt header that is no whole number from 0 counts as the last attempt: one run, dead-lettered.
    expect(runs.get(1)).toEqual([attempts]);
    expect(reasons.get(1)?.['x-keel-dead-reason']).toBe(
      `handler failed ${attempts + 1} time(s): job 1 always fails`,
    );
    // Its retry copy, then its dead-letter copy with its headers, could not be sent: dead-lettered without them.
    expect(runs.get(21)).toEqual([0]);
    expect(reasons.get(21)?.['x-keel-dead-reason']).toMatch(
      /^cannot be retried: .*; handler failed: job 21 always fails$/,
    );
    expect(reasons.get(21)?.['x-keel-dead-headers-dropped']).toEqual(expect.any(String));
    expect(reasons.get(21)?.['x-unwritable']).toBeUndefined();
    const check = await raw.createChannel();
    expect((await check.checkQueue('poison-jobs')).messageCount).toBe(0);
    await check.close();
    const warned = records.filter(({ message }) => message.includes('has x-keel-attempt "-1e308"'));
    expect(warned).toHaveLength(1);
  }, 60_000);

  it('an attempt header of -1000000 or 10^9 gives no more runs than the setting: the attempt is clamped', async () => {
    const channel = await raw.createConfirmChannel();
    const headers = { 101: -1_000_000, 102: 1_000_000_000, 103: '1' } as const;
    for (const [id, attempt] of Object.entries(headers)) {
      channel.sendToQueue('poison-jobs', Buffer.from(JSON.stringify({ id: Number(id), poison: true })), {
        contentType: 'application/json',
        headers: { 'x-keel-attempt': attempt },
      });
    }
    await channel.waitForConfirms();
    await channel.close();
    const dead = await take('poison-jobs.dead', 3);
    expect(dead).toHaveLength(3);
    expect(runs.get(101)).toEqual([attempts]);
    expect(runs.get(102)).toEqual([attempts]);
    // A header Keel could have written runs on from there.
    expect(runs.get(103)).toEqual([1, 2]);
  }, 60_000);

  it('a JSON message with a __proto__ key is dead-lettered as prototype poisoning, never handed to the handler', async () => {
    await amqp().push('proto-jobs', { warm: true });
    await until(() => polluted.length === 1, 10_000, 'the first message');
    const channel = await raw.createConfirmChannel();
    channel.sendToQueue('proto-jobs', Buffer.from('{"__proto__":{"polluted":"yes"}}'), {
      contentType: 'application/json',
    });
    await channel.waitForConfirms();
    await channel.close();
    const [dead] = await take('proto-jobs.dead', 1);
    expect(String(dead?.properties.headers?.['x-keel-dead-reason'])).toBe(
      'cannot decode the message: application/json cannot decode it: the message is refused: it has a __proto__ key or a constructor.prototype (prototype poisoning)',
    );
    expect(polluted).toEqual([undefined]);
  }, 30_000);

  it('request timeout_ms that Node would cut to 1 ms (3e9), or not whole, is refused before anything is sent', async () => {
    for (const timeout_ms of [3e9, 1.5, -1]) {
      const failure = await amqp()
        .request('nobody', {}, { timeout_ms })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AmqpRequestError);
      expect(failure).toMatchObject({ code: 'AMQP_INVALID_OPTION' });
    }
    expect(
      String(
        await amqp()
          .request('nobody', {}, { timeout_ms: 3e9 })
          .catch((error: unknown) => error),
      ),
    ).toContain(
      "request('nobody') on amqp 'amqp': timeout_ms must be an integer from 0 to 2147483647, got 3000000000",
    );
  });
});
