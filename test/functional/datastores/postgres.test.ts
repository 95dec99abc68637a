import {
  type App,
  Microservice,
  microservice,
  PostgresError,
  PostgresResource,
  ReportServerResource,
  Test,
  withRequestId,
} from '../../../lib';
import { deferred, quietLog, until } from '../../support/async';
import { describeWithPostgres, PostgresServer } from '../../support/postgres';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

@microservice({ name: 'ledger', resources: { postgres: PostgresResource } })
class Ledger extends Microservice {}

interface Account {
  id: number;
  owner: string;
  balance: number;
}

const FAST_RECONNECT = { min_ms: 50, max_ms: 500, start_attempts: 3 };

describeWithPostgres('PostgresResource against a real PostgreSQL', () => {
  let server: PostgresServer;
  const apps: App[] = [];
  const spawned: ServiceProcess[] = [];
  const records: { level: string; message: string; fields: object }[] = [];

  const start = async (postgres: object): Promise<App> => {
    const app = await Test.createMicroservice(Ledger, { log: quietLog(records) })
      .withSettings({ system: { resources: { postgres: { reconnect: FAST_RECONNECT, ...postgres } } } })
      .start();
    apps.push(app);
    return app;
  };
  const statusOf = (app: App) => app.status().resources.find((row) => row.name === 'postgres')!;
  const readiness = async (app: App) => {
    const { port } = app.get(ReportServerResource).address()!;
    return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
  };
  const byFields = () => ({
    host: '127.0.0.1',
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  });

  beforeAll(async () => {
    server = await PostgresServer.start();
    const client = await server.client();
    await client.query(
      'CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL)',
    );
    await client.end();
  }, 60_000);

  afterAll(async () => {
    killAll(spawned);
    await Promise.all(apps.map((app) => app.stop()));
    await server?.stop();
  }, 60_000);

  it('queries with typed rows, commits a transaction, rolls one back on throw; errors carry the SQL state', async () => {
    const app = await start({ url: server.url });
    const postgres = app.get(PostgresResource);
    await postgres.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO accounts VALUES ($1, $2, $3), ($4, $5, $6)',
        [1, 'ann', 100, 2, 'bob', 50],
        {
          name: 'open_accounts',
        },
      );
    });
    const { rows } = await postgres.query<Account>(
      'SELECT id, owner, balance FROM accounts ORDER BY id',
      [],
      {
        name: 'list_accounts',
      },
    );
    expect(rows).toEqual([
      { id: 1, owner: 'ann', balance: 100 },
      { id: 2, owner: 'bob', balance: 50 },
    ]);

    const overdraft = new Error('overdraft');
    const failed = await postgres
      .transaction(async (tx) => {
        await tx.query('UPDATE accounts SET balance = balance - 80 WHERE id = 2');
        throw overdraft;
      })
      .catch((error: unknown) => error);
    expect(failed).toBe(overdraft);
    expect((await postgres.query<Account>('SELECT balance FROM accounts WHERE id = 2')).rows).toEqual([
      { balance: 50 },
    ]);

    const duplicate = await postgres
      .query('INSERT INTO accounts VALUES (1, $1, 0)', ['eve'], { name: 'insert_account' })
      .catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(PostgresError);
    expect(duplicate).toMatchObject({
      code: 'POSTGRES_QUERY_FAILED',
      sqlState: '23505',
      query: 'insert_account',
    });
    expect(String(duplicate)).toContain(
      "postgres 'postgres' query 'insert_account' failed: duplicate key value",
    );

    // A failed statement inside the transaction: rolled back, the error is the statement's.
    const inner = await postgres.transaction((tx) => tx.query('SELECT 1/0')).catch((error: unknown) => error);
    expect(inner).toMatchObject({ code: 'POSTGRES_QUERY_FAILED', sqlState: '22012' });
    expect(postgres.poolState.inUse).toBe(0);

    const metrics = await app.meters.render();
    expect(metrics).toMatch(
      /postgres_query_duration_seconds_count\{[^}]*query="list_accounts"[^}]*outcome="ok"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /postgres_query_duration_seconds_count\{[^}]*query="insert_account"[^}]*outcome="error"[^}]*\} 1/,
    );
    expect(metrics).toMatch(/postgres_pool_in_use\{[^}]*\} 0/);
    expect(JSON.stringify(records)).not.toContain(server.password);
  }, 30_000);

  it('request_context: the request id reaches the server as a comment or as application_name; off by default', async () => {
    const ask = async (app: App) =>
      withRequestId('req-42*/', () =>
        app
          .get(PostgresResource)
          .query<{ query: string; app: string }>(
            "SELECT current_query() AS query, current_setting('application_name') AS app",
          ),
      );
    const off = (await ask(await start(byFields()))).rows[0];
    expect(off).toEqual({ query: expect.not.stringContaining('req-42') as unknown, app: 'ledger' });
    const comment = (await ask(await start({ ...byFields(), request_context: 'comment' }))).rows[0];
    // What is not a word, '.', ':' or '-' is left out: an id cannot close the comment.
    expect(comment.query).toMatch(/^\/\* request_id=req-42 \*\/ SELECT current_query/);
    const named = (await ask(await start({ ...byFields(), request_context: 'application_name' }))).rows[0];
    expect(named.app).toBe('ledger req-42');
  }, 30_000);

  it('request_context comment with tracing on: the active span travels as traceparent beside the request id', async () => {
    const app = await Test.createMicroservice(Ledger, { log: quietLog(records) })
      .withSettings({
        system: {
          tracing: { enabled: true, exporter: 'none' },
          resources: { postgres: { reconnect: FAST_RECONNECT, ...byFields(), request_context: 'comment' } },
        },
      })
      .start();
    apps.push(app);
    const span = app.tracing.startSpan('ledger work', { parent: 'root' })!;
    const { traceId, spanId } = span.spanContext();
    const { rows } = await app.tracing.run(
      span,
      () => app.get(PostgresResource).query<{ query: string }>('SELECT current_query() AS query'),
      'req-7',
    );
    app.tracing.end(span);
    expect(rows[0].query).toMatch(
      new RegExp(`^/\\* request_id=req-7 traceparent=00-${traceId}-${spanId}-01 \\*/ SELECT current_query`),
    );
  }, 30_000);

  it('pool exhaustion: a query waits for a connection, then fails with POOL_TIMEOUT; served once one is free', async () => {
    const app = await start({ ...byFields(), pool: { max: 2, acquire_timeout_ms: 300 } });
    const postgres = app.get(PostgresResource);
    const hold = deferred<void>();
    const holding = [0, 1].map(() => postgres.transaction(() => hold.promise));
    await until(() => postgres.poolState.inUse === 2, 10_000, 'both connections in use');
    const waiting = postgres.query('SELECT 1', [], { name: 'starved' }).catch((error: unknown) => error);
    expect(postgres.poolState.waiting).toBe(1);
    const timedOut = await waiting;
    expect(timedOut).toBeInstanceOf(PostgresError);
    expect(timedOut).toMatchObject({ code: 'POSTGRES_POOL_TIMEOUT', query: 'starved' });
    expect(String(timedOut)).toContain(
      'no connection free within 300 ms (pool.acquire_timeout_ms); all 2 (pool.max) are in use',
    );
    expect(await app.meters.render()).toMatch(/postgres_pool_timeouts_total\{[^}]*\} 1/);
    hold.resolve();
    await Promise.all(holding);
    expect((await postgres.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  }, 30_000);

  it('server restarted mid-run: CONNECTING and not ready while it is down, STARTED and ready once it is back', async () => {
    const app = await start(byFields());
    const postgres = app.get(PostgresResource);
    // An idle connection in the pool: the server's goodbye on it is what tells the resource.
    await postgres.query('SELECT 1');
    expect(await readiness(app)).toBe(200);
    await server.stopServer();
    await until(() => statusOf(app).status === 'CONNECTING', 10_000, 'CONNECTING in /status');
    expect(statusOf(app).statusText).toContain(
      `cannot reach postgres://keel@127.0.0.1:${server.port}/postgres`,
    );
    expect(await readiness(app)).toBe(503);
    const down = await postgres.query('SELECT 1').catch((error: unknown) => error);
    expect(down).toMatchObject({ code: 'POSTGRES_CONNECT_FAILED' });
    await server.startServer();
    await until(() => statusOf(app).status === 'STARTED', 10_000, 'STARTED again');
    expect(await readiness(app)).toBe(200);
    expect((await postgres.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const { port } = app.get(ReportServerResource).address()!;
    const status = await (await fetch(`http://127.0.0.1:${port}/status`)).text();
    for (const text of [status, String(down), JSON.stringify(records)])
      expect(text).not.toContain(server.password);
  }, 60_000);

  it('a wrong password fails the start with CONNECT_FAILED, the SQL state and never the password', async () => {
    const wrong = 'not-the-password-4711';
    const failure = await start({ ...byFields(), password: wrong }).catch((error: unknown) => error);
    const text = `${String(failure)} ${JSON.stringify(failure)} ${String((failure as Error).cause)}`;
    expect(text).toContain('cannot connect to postgres://keel@127.0.0.1');
    expect(text).toContain('SQLSTATE 28P01');
    expect(text).not.toContain(wrong);
    expect(JSON.stringify(records)).not.toContain(wrong);
  }, 30_000);

  it('SIGTERM with 20 queries running: those that can finish do, the rest are cancelled within stop_timeout_ms, exit 0', async () => {
    const holder = await server.client();
    await holder.query('SELECT pg_advisory_lock(1), pg_advisory_lock(2)');
    const worker = spawnService('test/functional/datastores/fixtures/postgres-worker.ts', {
      KEEL__SYSTEM__RESOURCES__POSTGRES__URL: server.url,
      KEEL__SYSTEM__RESOURCES__POSTGRES__POOL__MAX: '20',
      KEEL__SYSTEM__RESOURCES__POSTGRES__STOP_TIMEOUT_MS: '3000',
    });
    spawned.push(worker);
    try {
      await worker.waitFor(/ ready in [\d.]+ ms/, 30_000);
      const waiting = async () =>
        Number(
          (
            await holder.query<{ count: string }>(
              "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_worker' AND wait_event_type = 'Lock'",
            )
          ).rows[0].count,
        );
      while ((await waiting()) < 20) await new Promise((resolve) => setTimeout(resolve, 20));
      worker.child.kill('SIGTERM');
      await worker.waitFor(/waits for 20 running queries/);
      await holder.query('SELECT pg_advisory_unlock(1)');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      await holder.end();
    }
    const outcomes = [...worker.output().matchAll(/^\{"query":.*$/gm)].map(
      (match) => JSON.parse(match[0]) as { query: number; outcome: string; sqlState?: string },
    );
    expect(outcomes).toHaveLength(20);
    for (const { query, outcome, sqlState } of outcomes) {
      if (query % 2 === 0) expect(outcome).toBe('finished');
      else expect([outcome, sqlState]).toEqual(['POSTGRES_QUERY_FAILED', '57014']);
    }
    expect(worker.output()).toContain(
      "postgres 'postgres': 10 queries still running after 3000 ms were cancelled",
    );
    expect(worker.output()).not.toContain(server.password);
    const check = await server.client();
    const left = await check.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pg_worker'",
    );
    await check.end();
    expect(left.rows).toEqual([{ n: 0 }]);
  }, 60_000);
});
