import { setTimeout as sleep } from 'node:timers/promises';
import { configureLogging, createProvisionalLogging, type Logging } from '../../../lib/logging';
import { LineCapture } from '../../unit/logging/capture';
import { describeWithRedis, RedisServer } from '../../support/redis';

const PASSWORD = 'log-redis-pw-77aa-secret';
const KEY = 'logstash:billing';
/** The outage the issue asks for: Redis away for 10 s while the service keeps logging. */
const OUTAGE_MS = 10_000;
const MAX_QUEUE = 500;

describeWithRedis('logging to a Redis list (system.logging.redis)', () => {
  let server: RedisServer;
  let logging: Logging;
  let stderr: LineCapture;

  const llen = async () => Number(await server.cli('llen', KEY));

  beforeAll(async () => {
    server = await RedisServer.start({ password: PASSWORD });
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  beforeEach(async () => {
    stderr = new LineCapture();
    logging = createProvisionalLogging({ serviceName: 'billing_api', stderr });
    await configureLogging(
      logging,
      {
        profile: 'DEVELOP',
        stdout: false,
        redis: {
          enabled: true,
          url: `redis://127.0.0.1:${server.port}`,
          password: PASSWORD,
          key: KEY,
          max_records: 50,
          max_time_seconds: 0.05,
          max_queue_records: MAX_QUEUE,
          backoff_seconds: 0.05,
          max_backoff_seconds: 0.2,
          timeout_seconds: 1,
        },
      },
      { deployName: 'staging' },
    );
  });

  afterEach(async () => {
    await logging.close(2000);
    await server.cli('del', KEY);
  });

  it("pushes each record's logstash JSON onto the list, batched", async () => {
    for (let n = 0; n < 120; n++) logging.logger.info({ n, extra: { order: 'o-1' } }, 'record %d', n);
    await logging.flush();
    const events = (await server.cli('lrange', KEY, '0', '-1'))
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toHaveLength(120);
    expect(events[7]).toMatchObject({
      '@version': '1',
      message: 'record 7',
      level: 'INFO',
      n: 7,
      service_name: 'billing_api',
      deploy_name: 'staging',
      extra: { order: 'o-1' },
    });
    expect(events.map((event) => event.n)).toEqual(Array.from({ length: 120 }, (_, n) => n));
    expect(logging.droppedRecords().redis ?? 0).toBe(0);
  }, 30_000);

  it('Redis stopped for 10 s under steady logging: the queue stays bounded, drops are counted, delivery resumes', async () => {
    for (let n = 0; n < 100; n++) logging.logger.info({ phase: 'before' }, 'before %d', n);
    await logging.flush();
    expect(await llen()).toBe(100);

    await server.stopServer();
    let duringOutage = 0;
    const end = Date.now() + OUTAGE_MS;
    // Bounded load: one record every 5 ms, about 2,000 in all, four times what the queue holds.
    while (Date.now() < end) {
      logging.logger.info({ phase: 'outage', n: duringOutage }, 'outage %d', duringOutage);
      duringOutage++;
      await sleep(5);
    }
    const dropped = logging.droppedRecords().redis ?? 0;
    const held = duringOutage - dropped;
    // Memory bounded: what was not dropped is at most the queue's bound.
    expect(held).toBeLessThanOrEqual(MAX_QUEUE);
    expect(dropped).toBeGreaterThan(0);
    await server.startServer();

    // What the queue held goes out once Redis is back (the restarted server starts empty).
    await logging.flush();
    const backlog = await llen();
    expect(backlog).toBeGreaterThanOrEqual(held);
    expect(backlog).toBeLessThanOrEqual(held + 50);
    expect(logging.droppedRecords().redis).toBe(dropped);
    for (let n = 0; n < 100; n++) logging.logger.info({ phase: 'after' }, 'after %d', n);
    await logging.flush();
    expect(await llen()).toBe(backlog + 100);
    const warnings = stderr.text();
    expect(warnings).toContain('redis is failing');
    expect(warnings).toMatch(/redis works again; \d+ records were dropped meanwhile/);
    expect(warnings).not.toContain(PASSWORD);
    console.info(
      `redis logging outage: ${duringOutage} logged while down, ${dropped} dropped, ${held} held and delivered`,
    );
  }, 60_000);
});
