import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  addGraphCheck,
  HttpServerResource,
  inject,
  KeelError,
  Microservice,
  microservice,
  MicroserviceContext,
  resource,
  resourceToken,
  SETTINGS,
  Test,
} from '../../../lib';
import type { SettingsView } from '../../../lib/settings/types';
import { quietLog } from '../../support/async';

const POOL = Symbol('Pool');

@resource()
class Postgres {
  constructor(@inject(POOL) private readonly pool: { query(sql: string): string }) {}
  query(sql: string): string {
    return this.pool.query(sql);
  }
}

@resource()
class Users {
  constructor(private readonly db: Postgres) {}
  find(id: number): string {
    return this.db.query(`select ${id}`);
  }
}

@microservice({
  defaultResources: false,
  name: 'billing_api',
  resources: { users: Users, postgres: Postgres },
  providers: [{ provide: POOL, useValue: { query: (sql: string) => `real:${sql}` } }],
})
class BillingService extends Microservice {}

describe('the test harness', () => {
  it('swaps a resource by name with a value, dropping what the real one needed', async () => {
    const app = await Test.createMicroservice(BillingService, { log: quietLog() })
      .overrideResource<Postgres>('postgres')
      .useValue({ query: (sql: string) => `fake:${sql}` })
      .start();
    expect(app.get(Users).find(1)).toBe('fake:select 1');
    expect(app.graph.nodes.map((node) => node.name)).toEqual(['postgres', 'users', 'billing_api']);
    await app.stop();
  });

  it('drops a listed resource whose only user was replaced, and what only it needed', async () => {
    const app = await Test.createMicroservice(BillingService, { log: quietLog() })
      .overrideResource(Users)
      .useValue({ find: () => 'fake' })
      .compile();
    expect(app.graph.nodes.map((node) => node.name)).toEqual(['users', 'billing_api']);
    expect(app.get(Users).find(1)).toBe('fake');
  });

  it('keeps a listed resource that nothing injected, or that a check of the graph needs', async () => {
    @resource()
    class Ledger {}
    @microservice({
      defaultResources: false,
      name: 'ledger_api',
      resources: { users: Users, postgres: Postgres, ledger: Ledger },
      providers: [{ provide: POOL, useValue: { query: (sql: string) => sql } }],
    })
    class LedgerService extends Microservice {}
    const names = async () =>
      (
        await Test.createMicroservice(LedgerService, { log: quietLog() })
          .overrideResource(Users)
          .useValue({ find: () => 'fake' })
          .compile()
      ).graph.nodes.map((node) => node.name);
    expect(await names()).toEqual(['users', 'ledger', 'ledger_api']);
    // What a feature's check needs stays, as AmqpResource stays for a service's @subscribe handlers.
    addGraphCheck(LedgerService, (graph) => {
      if (!graph.byName.has('postgres')) throw new Error('ledger_api reads postgres by name');
    });
    expect(await names()).toEqual(['users', 'Symbol(Pool)', 'postgres', 'ledger', 'ledger_api']);
  });

  it('swaps by class with another class', async () => {
    @resource()
    class InMemoryPostgres {
      query(sql: string): string {
        return `memory:${sql}`;
      }
    }
    const app = await Test.createMicroservice(BillingService, { log: quietLog() })
      .overrideResource(Postgres)
      .useClass(InMemoryPostgres)
      .start();
    expect(app.get(Users).find(2)).toBe('memory:select 2');
    expect(app.get('postgres')).toBeInstanceOf(InMemoryPostgres);
    await app.stop();
  });

  it('refuses a swap to an undefined class or factory with an error naming what was overridden', async () => {
    const undefinedImport = undefined as unknown as typeof Postgres;
    const swaps = [
      Test.createMicroservice(BillingService, { log: quietLog() })
        .overrideResource(Postgres)
        .useClass(undefinedImport),
      Test.createMicroservice(BillingService, { log: quietLog() })
        .overrideResource<Postgres>('postgres')
        .useClass(undefinedImport),
      Test.createMicroservice(BillingService, { log: quietLog() })
        .overrideResource(POOL)
        .useFactory(undefined as unknown as () => Postgres),
    ];
    const errors = await Promise.all(
      swaps.map((builder) =>
        builder.compile().then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    expect(errors).toEqual([
      expect.objectContaining({
        name: 'GraphError',
        code: 'INVALID_PROVIDER',
        message: 'the override of Postgres: useClass must be a class, got undefined',
      }),
      expect.objectContaining({
        code: 'INVALID_PROVIDER',
        message: 'the override of "postgres": useClass must be a class, got undefined',
      }),
      expect.objectContaining({
        code: 'INVALID_PROVIDER',
        message: 'the override of Symbol(Pool): useFactory must be a function, got undefined',
      }),
    ]);
    expect(errors[0]).toBeInstanceOf(KeelError);
  });

  it('swaps a provider token with a factory', async () => {
    const app = await Test.createMicroservice(BillingService, { log: quietLog() })
      .overrideResource(POOL)
      .useFactory(() => ({ query: (sql: string) => `factory:${sql}` }))
      .start();
    expect(app.get(Users).find(3)).toBe('factory:select 3');
    await app.stop();
  });

  it('calls the hooks of a swapped-in value', async () => {
    const journal: string[] = [];
    const app = await Test.createMicroservice(BillingService, { log: quietLog() })
      .overrideResource(Postgres)
      .useValue({
        query: () => '',
        start: () => journal.push('fake:start'),
        stop: () => journal.push('fake:stop'),
      })
      .start();
    await app.stop();
    expect(journal).toEqual(['fake:start', 'fake:stop']);
  });

  it('refuses to override a name the service does not have', async () => {
    await expect(
      Test.createMicroservice(BillingService).overrideResource<object>('postgress').useValue({}).start(),
    ).rejects.toMatchObject({
      code: 'MISSING_PROVIDER',
      message: expect.stringContaining("cannot override 'postgress'"),
    });
  });

  it('gives two instances of one class their own settings, by name', async () => {
    @resource({ settings: { port: { doc: 'port', format: 'port', default: 80 } } })
    class HttpServer {
      constructor(@inject(SETTINGS) readonly settings: SettingsView<{ port: number }>) {}
    }
    @resource()
    class Gateway {
      constructor(
        @inject(resourceToken('public_http')) readonly publicHttp: HttpServer,
        @inject(resourceToken('admin_http')) readonly adminHttp: HttpServer,
      ) {}
    }
    @microservice({
      defaultResources: false,
      name: 'gw',
      resources: { public_http: HttpServer, admin_http: HttpServer, gateway: Gateway },
    })
    class GatewayService extends Microservice {}
    const app = await Test.createMicroservice(GatewayService, { log: quietLog() })
      .withSettings({ system: { resources: { public_http: { port: 8080 } } } })
      .withSettings({ system: { resources: { admin_http: { port: 9090 } } } })
      .start();
    const gateway = app.get(Gateway);
    expect(gateway.publicHttp.settings.get('port')).toBe(8080);
    expect(gateway.adminHttp.settings.get('port')).toBe(9090);
    expect(app.get(resourceToken<HttpServer>('admin_http'))).toBe(gateway.adminHttp);
    await app.stop();
  });
});

describe('MicroserviceContext', () => {
  it('gives a script the same resources, started and closed in order', async () => {
    const journal: string[] = [];
    @resource()
    class Db {
      start = () => journal.push('db:start');
      stop = () => journal.push('db:stop');
    }
    const context = await MicroserviceContext.create({
      name: 'script',
      resources: { db: Db },
      log: quietLog(),
    });
    await context.start();
    expect(context.get(Db)).toBeInstanceOf(Db);
    await context.close();
    expect(journal).toEqual(['db:start', 'db:stop']);
  });

  it('leaves out the built-in resources with defaultResources: false, so two scripts bind no port', async () => {
    @resource()
    class Db {}
    const create = () =>
      MicroserviceContext.create({
        name: 'script',
        resources: { db: Db },
        defaultResources: false,
        log: quietLog(),
      });
    const [first, second] = await Promise.all([create(), create()]);
    for (const name of ['report_server', 'metrics', 'status'])
      expect(() => first.get(name)).toThrow(expect.objectContaining({ code: 'MISSING_PROVIDER' }));
    await Promise.all([first.start(), second.start()]);
    expect(first.get(Db)).toBeInstanceOf(Db);
    await Promise.all([first.close(), second.close()]);
  });
});

describe('the test harness, for fast and quiet tests', () => {
  @microservice({ name: 'api', resources: { http: HttpServerResource, admin: HttpServerResource } })
  class Api extends Microservice {}

  it('stops HTTP servers without waiting a grace for requests on their way, unless the test sets one', async () => {
    const app = await Test.createMicroservice(Api, { log: quietLog() })
      .withSettings({ system: { resources: { admin: { drain_idle_grace_ms: 250 } } } })
      .compile();
    expect(app.settings.get('system.resources.http.drain_idle_grace_ms')).toBe(0);
    expect(app.settings.get('system.resources.admin.drain_idle_grace_ms')).toBe(250);
  });

  it('obeys system.logging.level from the first record of the settings load', async () => {
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0) as typeof write;
    try {
      const app = await Test.createMicroservice(Api)
        .withSettings({ system: { logging: { level: 'error', stdout: false } } })
        .compile();
      await app.stop();
    } finally {
      process.stderr.write = write;
    }
    expect(stderr.join('')).toBe('');
  });

  it("reads config/test.yaml, not the developer's config/development.yaml, when NODE_ENV is unset (node --test)", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'keel-harness-env-'));
    try {
      mkdirSync(path.join(cwd, 'config'));
      writeFileSync(
        path.join(cwd, 'config', 'development.yaml'),
        'system: { resources: { http: { port: 3000 } } }\n',
      );
      const unset = await Test.createMicroservice(Api, { log: quietLog(), env: {}, cwd }).compile();
      expect(unset.settings.get('system.resources.http.port')).toBe(8080);
      writeFileSync(
        path.join(cwd, 'config', 'test.yaml'),
        'system: { resources: { http: { port: 3001 } } }\n',
      );
      const test = await Test.createMicroservice(Api, { log: quietLog(), env: {}, cwd }).compile();
      expect(test.settings.get('system.resources.http.port')).toBe(3001);
      // Set by the environment, it is obeyed.
      const given = await Test.createMicroservice(Api, {
        log: quietLog(),
        env: { NODE_ENV: 'development' },
        cwd,
      }).compile();
      expect(given.settings.get('system.resources.http.port')).toBe(3000);
      await Promise.all([unset.stop(), test.stop(), given.stop()]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
