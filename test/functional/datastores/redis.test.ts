import {
  type App,
  Microservice,
  microservice,
  RedisError,
  RedisResource,
  ReportServerResource,
  Test,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { describeWithRedis, RedisCluster, RedisSentinel, RedisServer } from '../../support/redis';

@microservice({ name: 'sessions', resources: { redis: RedisResource } })
class Sessions extends Microservice {}

const PASSWORD = 'redis-pw-9f3c1e-secret';
const FAST_RECONNECT = { min_ms: 20, max_ms: 200, start_attempts: 3 };

describeWithRedis('RedisResource against real Redis servers', () => {
  let server: RedisServer;
  const apps: App[] = [];
  const spawned: ServiceProcess[] = [];
  const records: { level: string; message: string; fields: object }[] = [];

  const start = async (redis: object): Promise<App> => {
    const app = await Test.createMicroservice(Sessions, { log: quietLog(records) })
      .withSettings({ system: { resources: { redis: { reconnect: FAST_RECONNECT, ...redis } } } })
      .start();
    apps.push(app);
    return app;
  };
  const statusOf = (app: App) => app.status().resources.find((row) => row.name === 'redis')!;
  const readiness = async (app: App) => {
    const { port } = app.get(ReportServerResource).address()!;
    return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
  };
  const byFields = () => ({ host: '127.0.0.1', port: server.port, password: PASSWORD });

  beforeAll(async () => {
    server = await RedisServer.start({ password: PASSWORD });
  }, 30_000);

  afterAll(async () => {
    killAll(spawned);
    await Promise.all(apps.map((app) => app.stop()));
    await server?.stop();
  }, 30_000);

  it('commands: typed replies, the server error reply named, counted by command and outcome', async () => {
    const app = await start({ url: server.url, key_prefix: 't1:' });
    const redis = app.get(RedisResource);
    await redis.set('greeting', 'hello', { ttlMs: 60_000 });
    expect(await redis.get('greeting')).toBe('hello');
    expect(await redis.get('missing')).toBeNull();
    expect(await redis.incr('visits')).toBe(1);
    expect(await redis.rpush('queue', 'a', 'b')).toBe(2);
    expect(await redis.lrange('queue', 0, -1)).toEqual(['a', 'b']);
    expect(await redis.command<number>('llen', 'queue')).toBe(2);
    expect(await server.cli('get', 't1:greeting')).toBe('hello');

    const wrongType = await redis.incr('queue').catch((error: unknown) => error);
    expect(wrongType).toBeInstanceOf(RedisError);
    expect(wrongType).toMatchObject({ code: 'REDIS_COMMAND_FAILED', command: 'incr', reply: 'WRONGTYPE' });
    expect(await redis.del('greeting', 'visits', 'queue')).toBe(3);

    const metrics = await app.meters.render();
    expect(metrics).toMatch(/redis_commands_total\{[^}]*command="get"[^}]*outcome="ok"[^}]*\} 2/);
    expect(metrics).toMatch(/redis_commands_total\{[^}]*command="incr"[^}]*outcome="error"[^}]*\} 1/);
    expect(metrics).toMatch(/redis_command_duration_seconds_count\{[^}]*command="rpush"[^}]*\} 1/);
  }, 30_000);

  it('a command without a reply within command_timeout_ms fails with REDIS_TIMEOUT', async () => {
    const app = await start({ ...byFields(), command_timeout_ms: 200 });
    const redis = app.get(RedisResource);
    await server.cli('client', 'pause', '20000', 'write');
    try {
      const timedOut = await redis.incr('paused').catch((error: unknown) => error);
      expect(timedOut).toMatchObject({ code: 'REDIS_TIMEOUT', command: 'incr' });
      expect(String(timedOut)).toContain('no reply within 200 ms (command_timeout_ms)');
    } finally {
      await server.cli('client', 'unpause');
    }
    expect(await app.meters.render()).toMatch(
      /redis_commands_total\{[^}]*command="incr"[^}]*outcome="timeout"[^}]*\} 1/,
    );
  }, 30_000);

  it('stop: QUIT after the commands already sent, each of them answered', async () => {
    const app = await start(byFields());
    const redis = app.get(RedisResource);
    await server.cli('client', 'pause', '20000', 'write');
    const pending = Array.from({ length: 20 }, () => redis.incr('stop:count'));
    const stopped = app.stop();
    await server.cli('client', 'unpause');
    await stopped;
    expect((await Promise.all(pending)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await expect(redis.get('stop:count')).rejects.toMatchObject({ code: 'REDIS_NOT_STARTED' });
  }, 30_000);

  it('SIGTERM with 20 commands unanswered: QUIT after them, every one answered, exit 0', async () => {
    // Writes are held by the server until the test lets them go, after the signal.
    await server.cli('client', 'pause', '30000', 'write');
    let paused = true;
    const worker = spawnService('test/functional/datastores/fixtures/redis-worker.ts', {
      KEEL__SYSTEM__RESOURCES__REDIS__URL: server.url,
      KEEL__SYSTEM__RESOURCES__REDIS__STOP_TIMEOUT_MS: '20000',
      KEEL__SYSTEM__RESOURCES__REDIS__COMMAND_TIMEOUT_MS: '20000',
    });
    spawned.push(worker);
    try {
      await worker.waitFor(/ ready in [\d.]+ ms/, 30_000);
      await worker.waitFor(/sent 20 commands/);
      expect(worker.output()).not.toMatch(/^\{"command":/m);
      worker.child.kill('SIGTERM');
      await worker.waitFor(/QUIT after 20 command\(s\) awaiting their reply/);
      await server.cli('client', 'unpause');
      paused = false;
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (paused) await server.cli('client', 'unpause');
    }
    const replies = [...worker.output().matchAll(/^\{"command":.*$/gm)].map(
      (match) => (JSON.parse(match[0]) as { reply?: number }).reply,
    );
    expect(replies.sort((a, b) => a! - b!)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(worker.output()).not.toContain('no reply to QUIT');
    expect(worker.output()).not.toContain(PASSWORD);
    expect(await server.cli('get', 'sigterm:count')).toBe('20');
  }, 60_000);

  it('server restarted: CONNECTING and not ready while it is down, commands time out, back to STARTED', async () => {
    const app = await start({ ...byFields(), command_timeout_ms: 300 });
    const redis = app.get(RedisResource);
    await redis.set('before', '1');
    expect(await readiness(app)).toBe(200);
    await server.stopServer();
    try {
      await until(() => statusOf(app).status === 'CONNECTING', 10_000, 'CONNECTING in /status');
      expect(statusOf(app).statusText).toContain(`redis://127.0.0.1:${server.port}/0`);
      expect(await readiness(app)).toBe(503);
      expect(await redis.get('before').catch((error: unknown) => error)).toMatchObject({
        code: 'REDIS_TIMEOUT',
      });
    } finally {
      await server.startServer();
    }
    await until(() => statusOf(app).status === 'STARTED', 10_000, 'STARTED again');
    expect(await readiness(app)).toBe(200);
    // Nothing persisted: the restarted server is empty.
    expect(await redis.get('before')).toBeNull();
    expect(await app.meters.render()).toMatch(/redis_reconnects_total\{[^}]*\} [1-9]/);
    const { port } = app.get(ReportServerResource).address()!;
    const status = await (await fetch(`http://127.0.0.1:${port}/status`)).text();
    for (const text of [status, JSON.stringify(records)]) expect(text).not.toContain(PASSWORD);
  }, 60_000);

  it('a wrong password fails the start with REDIS_CONNECT_FAILED at once, the password nowhere', async () => {
    const wrong = 'wrong-redis-pw-31337';
    const failure = await start({ ...byFields(), password: wrong }).catch((error: unknown) => error);
    const text = `${String(failure)} ${JSON.stringify(failure)}`;
    expect(text).toContain(`redis 'redis' cannot connect to redis://127.0.0.1:${server.port}/0`);
    expect(text).toMatch(/WRONGPASS|invalid password/);
    for (const secret of [wrong, PASSWORD]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(records)).not.toContain(secret);
    }
  }, 30_000);

  it('sentinel mode: finds the master through the sentinel', async () => {
    const group = await RedisSentinel.start({ password: PASSWORD });
    try {
      const app = await start({
        mode: 'sentinel',
        nodes: `127.0.0.1:${group.sentinel.port}`,
        sentinel: { master_name: group.name },
        password: PASSWORD,
      });
      const redis = app.get(RedisResource);
      await redis.set('via', 'sentinel');
      expect(await group.master.cli('get', 'via')).toBe('sentinel');
      expect(statusOf(app).status).toBe('STARTED');
      await app.stop();
    } finally {
      await group.stop();
    }
  }, 30_000);

  it('cluster mode: keys spread over three masters, each reached', async () => {
    const cluster = await RedisCluster.start({ password: PASSWORD });
    try {
      const app = await start({
        mode: 'cluster',
        nodes: cluster.nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
        password: PASSWORD,
      });
      const redis = app.get(RedisResource);
      const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`);
      for (const key of keys) await redis.set(key, key.toUpperCase());
      expect(await Promise.all(keys.map((key) => redis.get(key)))).toEqual(
        keys.map((key) => key.toUpperCase()),
      );
      const perNode = await Promise.all(cluster.nodes.map((node) => node.cli('dbsize')));
      expect(perNode.every((count) => Number(count) > 0)).toBe(true);
      expect(perNode.reduce((sum, count) => sum + Number(count), 0)).toBe(30);
      await app.stop();
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
