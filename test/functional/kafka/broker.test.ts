import {
  consume,
  KafkaResource,
  MetricsResource,
  Microservice,
  microservice,
  permanent,
  resource,
  Test,
  type App,
  type KafkaConsumerState,
  type KafkaMessageMeta,
} from '../../../lib';
import { context, trace } from '@opentelemetry/api';
import { Type } from '@sinclair/typebox';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { quietLog, until } from '../../support/async';
import { killAll, PROJECT_ROOT, spawnService, type ServiceProcess } from '../../support/process';
import { json, send } from '../../unit/http/requests';
import { readmeBlocks } from '../package/readme-blocks';
import { createTopics, describeWithKafka, KafkaCluster, readRecords } from '../../support/kafka';

type LogRecord = { level: string; message: string; fields: object };
interface Seen {
  value: unknown;
  meta: KafkaMessageMeta;
}

const seen = new Map<string, Seen[]>();
const record = (topic: string, value: unknown, meta: KafkaMessageMeta) => {
  const list = seen.get(topic) ?? [];
  list.push({ value, meta });
  seen.set(topic, list);
};
const of = (topic: string) => seen.get(topic) ?? [];

let inFlight = 0;
let mostInFlight = 0;
let release!: () => void;
const allFour = new Promise<void>((resolve) => (release = resolve));
const failing: number[] = [];
const goneAttempts: number[] = [];

const Stock = Type.Object({ sku: Type.String(), units: Type.Integer({ minimum: 0 }) });

@resource()
class Audit {
  @consume('codecs', { fromBeginning: true })
  onCodec(value: unknown, meta: KafkaMessageMeta): void {
    record('codecs', value, meta);
  }

  @consume('keyed', { fromBeginning: true, concurrency: 3 })
  async onKeyed(value: { key: string; n: number }, meta: KafkaMessageMeta): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    record('keyed', value, meta);
  }
}

@microservice({ name: 'shop', resources: { kafka: KafkaResource, audit: Audit } })
class Shop extends Microservice {
  @consume('always-fails', { fromBeginning: true })
  fails(_value: unknown, meta: KafkaMessageMeta): void {
    failing.push(meta.attempt);
    throw new Error('the handler always throws');
  }

  @consume('gone', { fromBeginning: true })
  gone(_value: unknown, meta: KafkaMessageMeta): void {
    goneAttempts.push(meta.attempt);
    throw permanent(new Error('404 from a dependency'));
  }

  async wide(value: unknown, meta: KafkaMessageMeta): Promise<void> {
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    // Held until four run at once: only concurrency across partitions lets that happen.
    if (inFlight === 4) release();
    await allFour;
    inFlight--;
    record('wide', value, meta);
  }

  @consume('checked', { fromBeginning: true, schema: Stock })
  checked(value: { sku: string; units: number }, meta: KafkaMessageMeta): void {
    record('checked', value, meta);
  }

  @consume('poison', { fromBeginning: true })
  poison(value: unknown, meta: KafkaMessageMeta): void {
    record('poison', value, meta);
  }
}

const tracedSeen: Array<{ traceId?: string; spanId?: string; sentBy: string }> = [];

@microservice({ name: 'traced', resources: { kafka: KafkaResource } })
class Traced extends Microservice {
  @consume('traced', { fromBeginning: true })
  onRecord(_value: unknown, meta: KafkaMessageMeta): void {
    const active = trace.getSpan(context.active())?.spanContext();
    tracedSeen.push({
      traceId: active?.traceId,
      spanId: active?.spanId,
      sentBy: meta.headers.traceparent.split('-')[2],
    });
  }
}

const slowRuns: Array<{ attempt: number; aborted: boolean }> = [];

@microservice({ name: 'slow', resources: { kafka: KafkaResource } })
class Slow extends Microservice {
  @consume('slow', { fromBeginning: true })
  async onRecord(_value: unknown, meta: KafkaMessageMeta): Promise<void> {
    // The first run outlives handler_timeout_ms and reads its signal only then.
    if (meta.attempt === 0) await new Promise((resolve) => setTimeout(resolve, 300));
    slowRuns.push({ attempt: meta.attempt, aborted: meta.signal.aborted });
  }
}

describeWithKafka('KafkaResource against a real Kafka broker (KRaft)', () => {
  let cluster: KafkaCluster;
  let shop: App;
  const records: LogRecord[] = [];
  const kafka = () => shop.get<KafkaResource>('kafka');
  const metrics = () => shop.get<MetricsResource>('metrics').meters.render();
  const untilMetric = async (pattern: RegExp) => {
    const deadline = Date.now() + 20_000;
    while (!pattern.test(await metrics())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${await metrics()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  beforeAll(async () => {
    cluster = await KafkaCluster.start();
    await createTopics(cluster.brokers, [
      { topic: 'codecs', partitions: 1 },
      { topic: 'keyed', partitions: 3 },
      { topic: 'always-fails', partitions: 1 },
      { topic: 'gone', partitions: 1 },
      { topic: 'wide', partitions: 4 },
      { topic: 'poison', partitions: 1 },
      { topic: 'orders', partitions: 2 },
      { topic: 'traced', partitions: 1 },
      { topic: 'checked', partitions: 1 },
      { topic: 'slow', partitions: 1 },
    ]);
    shop = await Test.createMicroservice(Shop, { log: quietLog(records) })
      .withSettings({
        system: {
          resources: {
            kafka: {
              brokers: cluster.brokers,
              health_interval_ms: 500,
              consumer: {
                max_wait_ms: 50,
                max_value_bytes: 4096,
                retry: { attempts: 2, backoff_ms: 10, max_backoff_ms: 20 },
              },
            },
          },
        },
      })
      .start();
  }, 120_000);

  afterAll(async () => {
    await shop?.stop();
    await cluster?.stop();
  }, 60_000);

  it('publishes with each codec and the headers given; the consumer decodes by content type', async () => {
    await kafka().publish('codecs', { id: 1 }, { headers: { origin: 'test' }, requestId: 'req-json' });
    await kafka().publish('codecs', { id: 2, tags: ['a'] }, { codec: 'yaml' });
    await kafka().publish('codecs', Buffer.from([0, 1, 2]), { codec: 'raw', key: 'k1' });
    await until(() => of('codecs').length === 3, 20_000, 'the three records');
    const [json, yaml, raw] = of('codecs');
    expect(json.value).toEqual({ id: 1 });
    expect(json.meta).toMatchObject({
      topic: 'codecs',
      partition: 0,
      offset: '0',
      contentType: 'application/json',
      requestId: 'req-json',
      attempt: 0,
      group: 'shop.codecs',
      key: undefined,
    });
    expect(json.meta.headers).toMatchObject({ origin: 'test', 'x-request-id': 'req-json' });
    expect(yaml.value).toEqual({ id: 2, tags: ['a'] });
    expect(yaml.meta.contentType).toBe('application/yaml');
    expect(yaml.meta.requestId).not.toBe('');
    expect(raw.value).toEqual(Buffer.from([0, 1, 2]));
    expect(raw.meta.key).toBe('k1');
    const row = shop.status().resources.find((candidate) => candidate.name === 'kafka');
    expect(row?.status).toBe('STARTED');
    const consumers = (): KafkaConsumerState[] =>
      (
        shop.status().resources.find((candidate) => candidate.name === 'kafka')?.details as {
          consumers: KafkaConsumerState[];
        }
      ).consumers;
    // start() resolves before every group has joined (documented on GroupConsumer.started): on a
    // fresh broker one group's first join can lag behind another's first records.
    await until(
      () => consumers().some((state) => state.topic === 'keyed' && state.running),
      20_000,
      'keyed joined',
    );
    expect(consumers().find((state) => state.topic === 'keyed')).toMatchObject({
      group: 'shop.keyed',
      partitions: [0, 1, 2],
      running: true,
    });
    await until(
      () => consumers().some((state) => state.topic === 'codecs' && state.lag['0'] === 0),
      5000,
      'lag 0 in /status',
    );
  });

  it('keeps the order of each key across partitions handled concurrently', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(
      Array.from({ length: 300 }, (_, n) => {
        const key = keys[n % keys.length];
        return kafka().publish('keyed', { key, n }, { key });
      }),
    );
    await until(() => of('keyed').length === 300, 30_000, '300 keyed records');
    for (const key of keys) {
      const ns = of('keyed')
        .filter(({ value }) => (value as { key: string }).key === key)
        .map(({ value }) => (value as { n: number }).n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      expect(ns).toHaveLength(50);
      // One key, one partition.
      expect(
        new Set(
          of('keyed')
            .filter(({ meta }) => meta.key === key)
            .map(({ meta }) => meta.partition),
        ).size,
      ).toBe(1);
    }
    expect(new Set(of('keyed').map(({ meta }) => meta.partition)).size).toBeGreaterThan(1);
    const text = await metrics();
    expect(text).toMatch(/kafka_records_produced_total\{[^}]*topic="keyed"[^}]*\} 300/);
    expect(text).toMatch(/kafka_records_consumed_total\{[^}]*topic="keyed"[^}]*\} 300/);
    expect(text).toMatch(/kafka_produce_duration_seconds_count\{[^}]*topic="keyed"[^}]*\} 300/);
    expect(text).toMatch(/kafka_consumer_lag\{[^}]*topic="keyed"/);
    expect(text).toMatch(/kafka_rebalances_total\{[^}]*topic="keyed"[^}]*\} [1-9]/);
  });

  it('runs as many partitions at once as its concurrency', async () => {
    await Promise.all([0, 1, 2, 3].map((partition) => kafka().publish('wide', { partition }, { partition })));
    // Consumed only once all four are there, so that one fetch holds them all.
    const service = shop.get<Shop>('shop');
    await kafka().consume('wide', (value, meta) => service.wide(value, meta), {
      concurrency: 4,
      fromBeginning: true,
    });
    await until(() => of('wide').length === 4, 20_000, 'four records on four partitions');
    expect(mostInFlight).toBe(4);
    expect(new Set(of('wide').map(({ meta }) => meta.partition))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('retries a failing handler with backoff, then dead-letters the record with the reason', async () => {
    await kafka().publish('always-fails', { doomed: true }, { key: 'k', headers: { origin: 'test' } });
    await untilMetric(/kafka_records_dead_lettered_total\{[^}]*topic="always-fails"[^}]*\} 1/);
    const [dead] = await readRecords(cluster.brokers, 'always-fails.dead', 1);
    expect(failing).toEqual([0, 1, 2]);
    expect(JSON.parse(dead.value.toString())).toEqual({ doomed: true });
    expect(dead.key).toBe('k');
    expect(dead.headers).toMatchObject({
      origin: 'test',
      'content-type': 'application/json',
      'x-keel-dead-reason': 'handler failed 3 time(s): the handler always throws',
      'x-keel-dead-topic': 'always-fails',
      'x-keel-dead-partition': '0',
      'x-keel-dead-offset': '0',
      'x-keel-dead-group': 'shop.always-fails',
    });
    expect(await metrics()).toMatch(/kafka_records_failed_total\{[^}]*topic="always-fails"[^}]*\} 3/);
    const waits = records
      .filter(({ message }) => /failed on always-fails\[0\]@0 \(attempt/.test(message))
      .map(({ fields }) => (fields as { retry_in_ms?: number }).retry_in_ms);
    expect(waits).toHaveLength(3);
    // The policy module's full jitter: each wait drawn under its ceiling (10 ms, then 20), none after the last.
    expect(waits[0]).toBeGreaterThanOrEqual(0);
    expect(waits[0]).toBeLessThan(10);
    expect(waits[1]).toBeGreaterThanOrEqual(0);
    expect(waits[1]).toBeLessThan(20);
    expect(waits[2]).toBeUndefined();
  });

  it('dead-letters at once, without a retry, what a handler marks permanent', async () => {
    await kafka().publish('gone', { sku: 'ab-1' });
    await untilMetric(/kafka_records_dead_lettered_total\{[^}]*topic="gone"[^}]*\} 1/);
    const [dead] = await readRecords(cluster.brokers, 'gone.dead', 1);
    expect(goneAttempts).toEqual([0]);
    expect(dead.headers).toMatchObject({
      'x-keel-dead-reason': 'handler failed 1 time(s) (permanent): 404 from a dependency',
    });
  });

  it('dead-letters poison records (undecodable, oversized, unknown content type) and moves on', async () => {
    const raw = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    await raw.send({
      topic: 'poison',
      messages: [
        { value: '{not json', headers: { 'content-type': 'application/json' } },
        { value: Buffer.alloc(5000, 1), headers: { 'content-type': 'application/octet-stream' } },
        { value: 'x', headers: { 'content-type': 'text/x-nobody-knows' } },
        { value: '{"fine":true}', headers: { 'content-type': 'application/json' } },
      ],
    });
    await raw.disconnect();
    await until(() => of('poison').length === 1, 20_000, 'the good record after the poison');
    await untilMetric(/kafka_records_dead_lettered_total\{[^}]*topic="poison"[^}]*\} 3/);
    expect(of('poison')[0].value).toEqual({ fine: true });
    const dead = await readRecords(cluster.brokers, 'poison.dead', 3);
    const reasons = dead.map((entry) => entry.headers['x-keel-dead-reason']);
    expect(reasons[0]).toMatch(/^cannot decode it: application\/json cannot decode it/);
    expect(reasons[1]).toBe('its value of 5000 bytes is over consumer.max_value_bytes (4096)');
    expect(reasons[2]).toBe("cannot decode it: no codec registered for content type 'text/x-nobody-knows'");
    expect(dead.map((entry) => entry.headers['x-keel-dead-offset'])).toEqual(['0', '1', '2']);
    expect(dead[1].value).toHaveLength(5000);
  });

  it('checks records against the handler schema: an invalid one is dead-lettered with its problems, never handled', async () => {
    await kafka().publish('checked', { sku: 'a1', units: 'many' });
    await kafka().publish('checked', { sku: 'a1', units: 3 }, { schema: Stock });
    await until(() => of('checked').length === 1, 20_000, 'the valid record handled');
    const [dead] = await readRecords(cluster.brokers, 'checked.dead', 1);
    expect(JSON.parse(dead.value.toString())).toEqual({ sku: 'a1', units: 'many' });
    expect(dead.headers['x-keel-dead-reason']).toBe('does not match its schema: /units must be integer');
    expect(of('checked').map(({ value }) => value)).toEqual([{ sku: 'a1', units: 3 }]);
    await untilMetric(/kafka_records_invalid_total\{[^}]*topic="checked"[^}]*\} 1/);
    // Outside production a publish with a schema refuses what does not match, before sending it.
    await expect(
      // @ts-expect-error the schema says units is a number
      kafka().publish('checked', { sku: 'a1', units: 'many' }, { schema: Stock }),
    ).rejects.toMatchObject({ code: 'CONTRACT_INVALID_MESSAGE' });
  });

  it('carries the trace: publish is a producer span, the handler runs in a consumer span of the same trace', async () => {
    const app = await Test.createMicroservice(Traced, { log: quietLog() })
      .withSettings({
        system: {
          tracing: { enabled: true, exporter: 'none' },
          resources: { kafka: { brokers: cluster.brokers, consumer: { max_wait_ms: 50 } } },
        },
      })
      .start();
    try {
      const caller = app.tracing.startSpan('caller', { parent: 'root' })!;
      await app.tracing.run(caller, () => app.get(KafkaResource).publish('traced', { n: 1 }));
      caller.end();
      await until(() => tracedSeen.length === 1, 30_000, 'the traced record handled');
      const [seen] = tracedSeen;
      expect(seen.traceId).toBe(caller.spanContext().traceId);
      expect(seen.sentBy).toMatch(/^[0-9a-f]{16}$/);
      expect([seen.sentBy, seen.spanId]).not.toContain(caller.spanContext().spanId);
      expect(seen.spanId).not.toBe(seen.sentBy);
    } finally {
      await app.stop();
    }
  });

  it('aborts the signal of a run past handler_timeout_ms and retries the record', async () => {
    const logged: LogRecord[] = [];
    const app = await Test.createMicroservice(Slow, { log: quietLog(logged) })
      .withSettings({
        system: {
          resources: {
            kafka: {
              brokers: cluster.brokers,
              consumer: {
                max_wait_ms: 50,
                handler_timeout_ms: 100,
                retry: { attempts: 1, backoff_ms: 10, max_backoff_ms: 20 },
              },
            },
          },
        },
      })
      .start();
    try {
      await app.get(KafkaResource).publish('slow', { n: 1 });
      await until(() => slowRuns.length === 2, 30_000, 'both runs of the slow record');
      expect([...slowRuns].sort((a, b) => a.attempt - b.attempt)).toEqual([
        { attempt: 0, aborted: true },
        { attempt: 1, aborted: false },
      ]);
      expect(logged.map(({ message }) => message)).toContainEqual(
        expect.stringMatching(/did not settle within 100 ms on slow\[0\]@0/),
      );
    } finally {
      await app.stop();
    }
  });

  it("runs README's Kafka example: the order placed is billed", async () => {
    const block = readmeBlocks().find(
      (candidate) => candidate.file === path.join('root', 'kafka-orders.ts'),
    )!;
    const folder = mkdtempSync(path.join(tmpdir(), 'keel-readme-kafka-'));
    try {
      const file = path.join(folder, 'kafka-orders.ts');
      writeFileSync(
        file,
        block.code.replace(/from 'keel'/g, `from ${JSON.stringify(path.join(PROJECT_ROOT, 'lib'))}`),
      );
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Orders } = require(file) as {
        Orders: new (...args: never[]) => {
          billed: string[];
          place(order: { id: string; total: number }): Promise<void>;
        };
      };
      const app = await Test.createMicroservice(Orders as never, { log: quietLog() })
        .withSettings({
          system: { resources: { kafka: { brokers: cluster.brokers, consumer: { max_wait_ms: 50 } } } },
        })
        .start();
      try {
        const orders = app.get<InstanceType<typeof Orders>>('orders');
        await orders.place({ id: 'o-1', total: 12 });
        await until(() => orders.billed.includes('o-1'), 20_000, 'the order billed');
      } finally {
        await app.stop();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('samples/kafka-orders: the API publishes an order, one of two workers of the group invoices it', async () => {
    const spawned: ServiceProcess[] = [];
    const spawn = (file: string) => {
      const child = spawnService(`samples/kafka-orders/${file}`, {
        KEEL__SYSTEM__RESOURCES__KAFKA__BROKERS: cluster.brokers.join(','),
        KEEL__SYSTEM__RESOURCES__KAFKA__CONSUMER__MAX_WAIT_MS: '50',
        KEEL__SYSTEM__RESOURCES__HTTP__PORT: '0',
        KEEL__SYSTEM__MICROSERVICES__KAFKA_ORDERS_API__RESOURCES__REPORT_SERVER__PORT: '0',
      });
      spawned.push(child);
      return child;
    };
    try {
      const workers = [spawn('worker.ts'), spawn('worker.ts')];
      const api = spawn('orders-api.ts');
      await Promise.all(workers.map((child) => child.waitFor(/ ready in \d/, 60_000)));
      // Both members hold one of the two partitions once the group has settled.
      await until(
        () =>
          workers.every((child) =>
            /joined group 'kafka_orders_workers' with partitions \[\d\] of/.test(
              child
                .output()
                .split('\n')
                .filter((line) => line.includes('joined group'))
                .pop() ?? '',
            ),
          ),
        30_000,
        'both workers with a partition',
      );
      const port = Number(
        /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(
          await api.waitFor(/http server 'http' listening on http:\/\/127\.0\.0\.1:\d+/, 60_000),
        )![1],
      );
      const created = await send(port, '/orders', {
        method: 'POST',
        body: JSON.stringify({ sku: 'sku-1', quantity: 2 }),
        headers: { 'content-type': 'application/json', 'x-request-id': 'sample-order-1' },
      });
      expect(created.status).toBe(202);
      expect(json(created)).toMatchObject({ sku: 'sku-1', quantity: 2 });
      await until(
        () => workers.some((child) => /invoiced 2 x sku-1/.test(child.output())),
        30_000,
        'the order invoiced',
      );
      const line = workers
        .map((child) => child.output())
        .join('')
        .split('\n')
        .find((text) => text.includes('invoiced 2 x sku-1'))!;
      expect(line).toMatch(/"request_id":"sample-order-1"/);
      for (const child of spawned) child.child.kill('SIGTERM');
      expect(await Promise.all(spawned.map((child) => child.exited))).toEqual(
        spawned.map(() => ({ code: 0, signal: null })),
      );
    } finally {
      killAll(spawned);
    }
  }, 120_000);
});
