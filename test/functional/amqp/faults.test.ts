import {
  AmqpResource,
  type App,
  type MessageMeta,
  Microservice,
  microservice,
  pull,
  ReportServerResource,
  Test,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { describeWithRabbitmq, RabbitBroker } from '../../support/rabbitmq';

const received: Array<{ id: number; broker: string; meta: MessageMeta }> = [];

@microservice({ name: 'pair', resources: { east: AmqpResource, west: AmqpResource } })
class Pair extends Microservice {
  @pull('jobs', { resource: 'east' })
  east(job: { id: number }, meta: MessageMeta): void {
    received.push({ id: job.id, broker: 'east', meta });
  }

  @pull('jobs', { resource: 'west' })
  west(job: { id: number }, meta: MessageMeta): void {
    received.push({ id: job.id, broker: 'west', meta });
  }
}

@microservice({ name: 'unsure', resources: { east: AmqpResource, west: AmqpResource } })
class Unsure extends Microservice {
  @pull('jobs')
  job(): void {}
}

@microservice({ name: 'publisher', resources: { amqp: AmqpResource } })
class Publisher extends Microservice {}

@microservice({ name: 'puller', resources: { amqp: AmqpResource } })
class Puller extends Microservice {
  @pull('restart')
  job(job: { id: number }, meta: MessageMeta): void {
    received.push({ id: job.id, broker: 'restart', meta });
  }
}

@microservice({ name: 'second_worker', resources: { amqp: AmqpResource } })
class SecondWorker extends Microservice {
  @pull('work')
  work(job: { id: number }, meta: MessageMeta): void {
    received.push({ id: job.id, broker: 'second', meta });
  }
}

const FAST_RECONNECT = { min_ms: 50, max_ms: 500, start_attempts: 3 };

describeWithRabbitmq('AMQP faults: two brokers, SIGTERM with jobs in flight, a broker restart', () => {
  let east: RabbitBroker;
  let west: RabbitBroker;
  const apps: App[] = [];
  const spawned: ServiceProcess[] = [];
  const start = async (
    service: Parameters<typeof Test.createMicroservice>[0],
    resources: Record<string, Record<string, unknown>>,
  ) => {
    const app = await Test.createMicroservice(service, { log: quietLog() })
      .withSettings({ system: { resources } })
      .start();
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    [east, west] = await Promise.all([RabbitBroker.start(), RabbitBroker.start()]);
  }, 120_000);

  afterAll(async () => {
    killAll(spawned);
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([east?.stop(), west?.stop()]);
  }, 60_000);

  beforeEach(() => {
    received.length = 0;
  });

  it('two brokers: each AmqpResource has its own settings and connection, handlers name theirs', async () => {
    const app = await start(Pair, { east: { url: east.url }, west: { url: west.url } });
    await app.get<AmqpResource>('east').push('jobs', { id: 1 });
    await app.get<AmqpResource>('west').push('jobs', { id: 2 });
    await until(() => received.length === 2, 10_000, 'one job per broker');
    expect(received.map(({ id, broker }) => [id, broker]).sort()).toEqual([
      [1, 'east'],
      [2, 'west'],
    ]);
    expect(app.get<AmqpResource>('east').url).toBe(`amqp://[redacted]@127.0.0.1:${east.port}`);
    const failure = await start(Unsure, { east: { url: east.url }, west: { url: west.url } }).catch(
      (error: unknown) => error,
    );
    expect(String(failure)).toContain(
      "@pull('jobs') on unsure.job does not say which AmqpResource consumes it, and unsure has 2: add { resource: 'east' | 'west' }",
    );
    expect(JSON.stringify(app.status())).not.toContain('guest');
  }, 30_000);

  it('SIGTERM with 100 jobs in flight: finished ones are acked, interrupted ones redelivered to another worker, 0 lost, exit 0', async () => {
    const total = 150;
    const publisher = await start(Publisher, { amqp: { url: west.url } });
    for (let id = 0; id < total; id++) await publisher.get<AmqpResource>('amqp').push('work', { id });
    const worker = spawnService('test/functional/amqp/fixtures/worker.ts', {
      KEEL__SYSTEM__RESOURCES__AMQP__URL: west.url,
      KEEL__SYSTEM__RESOURCES__AMQP__PREFETCH: '100',
      KEEL__SYSTEM__RESOURCES__AMQP__DRAIN_TIMEOUT_MS: '2000',
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
      WORKER_BARRIER: '100',
    });
    spawned.push(worker);
    await worker.waitFor(/all 100 jobs in flight/, 30_000);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const handled = [...worker.output().matchAll(/"msg":"handled job (\d+)"/g)].map((match) =>
      Number(match[1]),
    );
    // Even jobs finish 100 ms after SIGTERM, odd ones would take a minute: the drain waits 2 s.
    expect(handled).toHaveLength(50);
    expect(handled.every((id) => id % 2 === 0)).toBe(true);

    await start(SecondWorker, { amqp: { url: west.url } });
    await until(() => received.length >= total - handled.length, 15_000, 'the rest of the jobs');
    const second = received.map(({ id }) => id);
    expect(second.filter((id) => handled.includes(id))).toEqual([]);
    expect(new Set([...handled, ...second]).size).toBe(total);
    const redelivered = received.filter(({ meta }) => meta.redelivered).map(({ id }) => id);
    expect(redelivered).toHaveLength(50);
    expect(redelivered.every((id) => id % 2 === 1)).toBe(true);
  }, 90_000);

  it('broker restart while 1,000 confirmed messages are pushed and pulled: every one received, duplicates counted; a request in flight rejects with AMQP_CONNECTION_LOST', async () => {
    const total = 1000;
    // Pushes wait out the restart: they must not give up while the broker is away.
    const settings = { amqp: { url: east.url, reconnect: FAST_RECONNECT, publish_timeout_ms: 120_000 } };
    const puller = await start(Puller, { amqp: { ...settings.amqp, affects_readiness: false } });
    const publisher = await start(Publisher, settings);
    const readiness = async (app: App) => {
      const { port } = app.get(ReportServerResource).address()!;
      return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
    };
    const readyWhileConnecting: number[] = [];
    const amqp = publisher.get<AmqpResource>('amqp');
    const statuses = new Set<string>();
    let restarted: Promise<void> | undefined;
    // A queue nobody consumes: a request to it waits for a reply until its connection is lost.
    await amqp.push('never-answered', { id: -1 });
    let inFlight: Promise<unknown> | undefined;
    for (let id = 0; id < total; id++) {
      if (id === 300) {
        inFlight = amqp
          .request('never-answered', {}, { timeout_ms: 60_000 })
          .catch((error: unknown) => error);
        restarted = (async () => {
          await east.stopNode();
          await until(
            () => publisher.status().resources.find((row) => row.name === 'amqp')?.status === 'CONNECTING',
            10_000,
            'CONNECTING in /status',
          );
          statuses.add('CONNECTING');
          readyWhileConnecting.push(await readiness(publisher), await readiness(puller));
          await east.startNode();
        })();
      }
      await amqp.push('restart', { id });
    }
    await restarted;
    // Not sent again on the new connection: its reply could not reach it.
    expect(await inFlight).toMatchObject({ code: 'AMQP_CONNECTION_LOST' });
    await until(() => new Set(received.map(({ id }) => id)).size === total, 30_000, 'all 1,000 received');
    const counts = new Map<number, number>();
    for (const { id } of received) counts.set(id, (counts.get(id) ?? 0) + 1);
    const lost = Array.from({ length: total }, (_, id) => id).filter((id) => !counts.has(id));
    const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    expect(lost).toEqual([]);
    expect(received).toHaveLength(total + duplicates);
    console.info(
      `broker restart: ${total} pushed, ${received.length} received, ${duplicates} duplicate(s), 0 lost`,
    );
    expect(statuses).toEqual(new Set(['CONNECTING']));
    // affects_readiness: true (the default) holds readiness down while reconnecting; false leaves it.
    expect(readyWhileConnecting).toEqual([503, 200]);
    // Readiness follows the connection: checked once it is back (seen CONNECTING here once, under load).
    await until(
      () => publisher.status().resources.find((row) => row.name === 'amqp')?.status === 'STARTED',
      10_000,
      'the publisher connected again',
    );
    expect(await readiness(publisher)).toBe(200);
    expect(puller.status().resources.find((row) => row.name === 'amqp')?.status).toBe('STARTED');
  }, 120_000);

  it('broker stopped: publish and push reject with AMQP_PUBLISH_TIMEOUT after publish_timeout_ms, request with AMQP_REQUEST_TIMEOUT, and with fail_fast all at once with AMQP_NOT_CONNECTED', async () => {
    const waiting = await start(Publisher, {
      amqp: { url: west.url, reconnect: FAST_RECONNECT, publish_timeout_ms: 300 },
    });
    const failing = await start(Publisher, {
      amqp: { url: west.url, reconnect: FAST_RECONNECT, fail_fast: true },
    });
    await west.stopNode();
    const connecting = (app: App) =>
      app.status().resources.find((row) => row.name === 'amqp')?.status === 'CONNECTING';
    await until(
      () => connecting(waiting) && connecting(failing),
      10_000,
      'both publishers see the broker gone',
    );
    const amqp = waiting.get<AmqpResource>('amqp');
    const shown = `amqp://[redacted]@127.0.0.1:${west.port}`;
    await expect(amqp.publish('stock.low', { sku: 'a' })).rejects.toMatchObject({
      code: 'AMQP_PUBLISH_TIMEOUT',
      message: `publish('stock.low') on amqp 'amqp' was not confirmed within 300 ms (system.resources.amqp.publish_timeout_ms): not connected to ${shown}; it is not sent again`,
    });
    await expect(amqp.push('jobs', { id: 1 })).rejects.toMatchObject({ code: 'AMQP_PUBLISH_TIMEOUT' });
    await expect(amqp.request('price', {}, { timeout_ms: 300 })).rejects.toMatchObject({
      code: 'AMQP_REQUEST_TIMEOUT',
      message: "request 'price' on amqp 'amqp' got no connection to the broker within 300 ms",
    });
    const fast = failing.get<AmqpResource>('amqp');
    await expect(fast.publish('stock.low', {})).rejects.toMatchObject({
      code: 'AMQP_NOT_CONNECTED',
      message: `publish('stock.low') on amqp 'amqp': not connected to ${shown} (system.resources.amqp.fail_fast is on)`,
    });
    await expect(fast.push('jobs', {})).rejects.toMatchObject({ code: 'AMQP_NOT_CONNECTED' });
    await expect(fast.request('price', {})).rejects.toMatchObject({ code: 'AMQP_NOT_CONNECTED' });
  }, 60_000);
});
