import {
  createMicroservice,
  GraphError,
  LifecycleError,
  Microservice,
  microservice,
  resource,
  ResourceStatus,
  task,
  type Log,
} from '../../../lib';
import { deferred, quietLog } from '../../support/async';

/** Each resource class records its hooks into the shared journal, by name. */
function journaled(journal: string[], name: string, hooks: Partial<Record<string, () => unknown>> = {}) {
  const record = (phase: string) => (): unknown => {
    journal.push(`${name}:${phase}`);
    return hooks[phase]?.();
  };
  return {
    preStart: record('preStart'),
    start: record('start'),
    postStart: record('postStart'),
    stop: record('stop'),
    postStop: record('postStop'),
  };
}

const silent: Log = quietLog();

describe('the lifecycle', () => {
  it('starts in dependency order and stops in reverse', async () => {
    const journal: string[] = [];
    @resource()
    class Db {
      hooks = journaled(journal, 'db');
      start = this.hooks.start;
      stop = this.hooks.stop;
      postStop = this.hooks.postStop;
    }
    @resource()
    class Repo {
      hooks = journaled(journal, 'repo');
      constructor(readonly db: Db) {}
      start = this.hooks.start;
      stop = this.hooks.stop;
      postStop = this.hooks.postStop;
    }
    @resource()
    class Api {
      hooks = journaled(journal, 'api');
      constructor(readonly repo: Repo) {}
      start = async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return this.hooks.start();
      };
      stop = this.hooks.stop;
      postStop = this.hooks.postStop;
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { api: Api, repo: Repo, db: Db } })
    class Service extends Microservice {}

    const app = await createMicroservice(Service, { log: silent });
    await app.start();
    expect(journal).toEqual(['db:start', 'repo:start', 'api:start']);
    journal.length = 0;
    await app.stop();
    expect(journal).toEqual([
      'api:stop',
      'repo:stop',
      'db:stop',
      'api:postStop',
      'repo:postStop',
      'db:postStop',
    ]);
    expect(app.status().resources.every((row) => row.status === ResourceStatus.STOPPED)).toBe(true);
  });

  it('runs independent hooks concurrently and a hook as soon as its own dependencies are done', async () => {
    const journal: string[] = [];
    const slow = deferred<void>();
    @resource()
    class Slow {
      async start() {
        journal.push('slow:begin');
        await slow.promise;
        journal.push('slow:end');
      }
    }
    @resource()
    class Fast {
      start() {
        journal.push('fast');
      }
    }
    @resource()
    class AfterFast {
      constructor(readonly fast: Fast) {}
      start() {
        journal.push('afterFast');
        slow.resolve();
      }
    }
    @resource()
    class Top {
      constructor(
        readonly slow: Slow,
        readonly afterFast: AfterFast,
      ) {}
      start() {
        journal.push('top');
      }
    }
    @microservice({
      defaultResources: false,
      name: 'svc',
      resources: { top: Top, slow: Slow, fast: Fast, after_fast: AfterFast },
    })
    class Service extends Microservice {}

    const app = await createMicroservice(Service, { log: silent });
    await app.start();
    // afterFast ran while slow was still in flight: no barrier between dependency levels.
    expect(journal.indexOf('afterFast')).toBeLessThan(journal.indexOf('slow:end'));
    expect(journal.indexOf('fast')).toBeLessThan(journal.indexOf('slow:end'));
    expect(journal[journal.length - 1]).toBe('top');
    await app.stop();
  });

  it('rolls back what started when a start hook fails, and names resource, phase and cause', async () => {
    const journal: string[] = [];
    const boom = new Error('connection refused');
    @resource()
    class Db {
      start = () => journal.push('db:start');
      stop = () => journal.push('db:stop');
      postStop = () => journal.push('db:postStop');
    }
    @resource()
    class Cache {
      constructor(readonly db: Db) {}
      start = () => {
        throw boom;
      };
      stop = () => journal.push('cache:stop');
    }
    @resource()
    class Api {
      constructor(readonly cache: Cache) {}
      start = () => journal.push('api:start');
      stop = () => journal.push('api:stop');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { api: Api, cache: Cache, db: Db } })
    class Service extends Microservice {}

    const app = await createMicroservice(Service, { log: silent });
    const error = await app.start().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LifecycleError);
    const failure = error as LifecycleError;
    expect(failure.code).toBe('HOOK_FAILED');
    expect(failure.resource).toBe('cache');
    expect(failure.phase).toBe('start');
    expect(failure.cause).toBe(boom);
    expect(failure.message).toContain("resource 'cache' failed in start: connection refused");
    expect(journal).toEqual(['db:start', 'db:stop', 'db:postStop']);
    const statuses = Object.fromEntries(app.status().resources.map((row) => [row.name, row.status]));
    expect(statuses).toEqual({ db: 'STOPPED', cache: 'FAILED', api: 'NOT_STARTED' });
    expect(await app.stopped).toEqual({ exitCode: 1, reason: failure.message });
  });

  it('fails a hook that outlives hook_timeout_ms', async () => {
    @resource()
    class Stuck {
      start = () => new Promise(() => undefined);
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { stuck: Stuck } })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, {
      log: silent,
      settings: { system: { lifecycle: { hook_timeout_ms: 30 } } },
    });
    await expect(app.start()).rejects.toMatchObject({
      code: 'HOOK_TIMEOUT',
      resource: 'stuck',
      message: expect.stringContaining('did not finish start within 30 ms'),
    });
  });

  it('treats a hook that returns any thenable as async: awaited, and failed on its timeout', async () => {
    const journal: string[] = [];
    @resource()
    class Later {
      start = (): PromiseLike<void> => ({
        then: (resolve) => {
          setTimeout(() => {
            journal.push('later:started');
            resolve?.();
          }, 5);
          return Promise.resolve() as never;
        },
      });
    }
    @resource()
    class After {
      constructor(readonly later: Later) {}
      start = () => journal.push('after:start');
    }
    @resource()
    class Never {
      start = (): PromiseLike<void> => ({ then: () => Promise.resolve() as never });
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { after: After } })
    class Awaits extends Microservice {}
    const awaits = await createMicroservice(Awaits, { log: silent });
    await awaits.start();
    expect(journal).toEqual(['later:started', 'after:start']);
    await awaits.stop();

    @microservice({ defaultResources: false, name: 'svc', resources: { never: Never } })
    class Hangs extends Microservice {}
    const hangs = await createMicroservice(Hangs, {
      log: silent,
      settings: { system: { lifecycle: { hook_timeout_ms: 30 } } },
    });
    await expect(hangs.start()).rejects.toMatchObject({
      code: 'HOOK_TIMEOUT',
      message: expect.stringContaining("resource 'never' did not finish start within 30 ms"),
    });
  });

  it('gives a resource its own hook timeout: system.resources.<name>.hook_timeout_ms, then @resource({ hookTimeoutMs }), then the global one', async () => {
    const stuckStart = () => new Promise(() => undefined);
    @resource({ hookTimeoutMs: 40 })
    class Migration {
      start = stuckStart;
    }
    @resource({ settings: { url: { doc: 'where', format: String, default: 'x' } } })
    class Configured {
      start = stuckStart;
    }
    @resource()
    class Plain {
      start = stuckStart;
    }
    const failureOf = async (
      resources: Record<string, new () => unknown>,
      settings: Record<string, unknown>,
    ) => {
      @microservice({ defaultResources: false, name: 'svc', resources })
      class Service extends Microservice {}
      const app = await createMicroservice(Service, { log: silent, settings: { system: settings } });
      return app.start().then(
        () => undefined,
        (error: unknown) => (error as LifecycleError).message.split('\n')[0],
      );
    };
    const global = { lifecycle: { hook_timeout_ms: 600_000 } };
    expect(await failureOf({ migration: Migration }, global)).toContain(
      "'migration' did not finish start within 40 ms",
    );
    expect(
      await failureOf(
        { migration: Migration },
        { ...global, resources: { migration: { hook_timeout_ms: 30 } } },
      ),
    ).toContain("'migration' did not finish start within 30 ms");
    // With a schema of its own and without one (an open scope), the setting is the resource's.
    expect(
      await failureOf(
        { configured: Configured },
        { ...global, resources: { configured: { hook_timeout_ms: 20 } } },
      ),
    ).toContain("'configured' did not finish start within 20 ms");
    expect(
      await failureOf({ plain: Plain }, { ...global, resources: { plain: { hook_timeout_ms: 10 } } }),
    ).toContain("'plain' did not finish start within 10 ms");
  });

  it('refuses a per-resource hook timeout that is not a duration, before any constructor runs', async () => {
    let constructed = 0;
    @resource()
    class Plain {
      constructor() {
        constructed++;
      }
    }
    @resource({ settings: { url: { doc: 'where', format: String, default: 'x' } } })
    class Configured {
      constructor() {
        constructed++;
      }
    }
    @microservice({
      defaultResources: false,
      name: 'svc',
      resources: { plain: Plain, configured: Configured },
    })
    class Service extends Microservice {}
    for (const name of ['plain', 'configured']) {
      await expect(
        createMicroservice(Service, {
          log: silent,
          settings: { system: { resources: { [name]: { hook_timeout_ms: -1 } } } },
        }),
      ).rejects.toMatchObject({
        code: 'SETTINGS_INVALID',
        message: expect.stringContaining(`system.resources.${name}.hook_timeout_ms`),
      });
    }
    expect(constructed).toBe(0);
    expect(() => resource({ hookTimeoutMs: 0.5 })).toThrow(
      expect.objectContaining({ name: 'GraphError', code: 'INVALID_OPTION' }),
    );
  });

  it('stops every resource even when some stops fail, and reports all failures together', async () => {
    const journal: string[] = [];
    @resource()
    class A {
      stop = () => journal.push('a:stop');
    }
    @resource()
    class B {
      constructor(readonly a: A) {}
      stop = () => {
        throw new Error('b broke');
      };
    }
    @resource()
    class C {
      constructor(readonly b: B) {}
      stop = async () => {
        throw new Error('c broke');
      };
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { a: A, b: B, c: C } })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: silent });
    await app.start();
    const error = (await app.stop().catch((caught: unknown) => caught)) as LifecycleError;
    expect(error.code).toBe('STOP_FAILED');
    expect(error.failures.map((failure) => failure.resource)).toEqual(['c', 'b']);
    expect(error.message).toContain('b (stop): b broke');
    expect(error.message).toContain('c (stop): c broke');
    expect(journal).toEqual(['a:stop']);
    expect((await app.stopped).exitCode).toBe(1);
  });

  it('reports every resource status with its startup waterfall', async () => {
    @resource()
    class Db {
      start = () => new Promise((resolve) => setTimeout(resolve, 5));
    }
    @resource()
    class Api {
      constructor(readonly db: Db) {}
      start() {}
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { api: Api, db: Db } })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: silent });
    expect(app.status().resources.map((row) => row.status)).toEqual(['NOT_STARTED', 'NOT_STARTED']);
    await app.start();
    const report = app.status();
    expect(report).toMatchObject({ service: 'svc', state: 'running' });
    const [db, api] = report.resources;
    expect(db).toMatchObject({ name: 'db', status: 'STARTED', dependsOn: [] });
    expect(api).toMatchObject({ name: 'api', status: 'STARTED', dependsOn: ['db'] });
    expect(api.phases.start!.offsetMs).toBeGreaterThanOrEqual(
      db.phases.start!.offsetMs + db.phases.start!.durationMs,
    );
    await app.stop();
  });

  it('refuses a phase override that does not call super', async () => {
    @microservice({ defaultResources: false, name: 'svc' })
    class Forgetful extends Microservice {
      override async start(): Promise<void> {}
    }
    const app = await createMicroservice(Forgetful, { log: silent });
    await expect(app.start()).rejects.toMatchObject({
      code: 'SUPER_NOT_CALLED',
      message: expect.stringContaining('Forgetful.start() did not call super.start()'),
    });
  });

  it.each(['stop', 'postStop'] as const)(
    'refuses a %s override that does not call super, and stops the resources all the same',
    async (phase) => {
      const journal: string[] = [];
      @resource()
      class Db {
        stop = () => journal.push('db:stop');
        postStop = () => journal.push('db:postStop');
      }
      class ForgetsStop extends Microservice {
        override async stop(): Promise<void> {}
      }
      class ForgetsPostStop extends Microservice {
        override async postStop(): Promise<void> {}
      }
      const Forgetful = phase === 'stop' ? ForgetsStop : ForgetsPostStop;
      microservice({ defaultResources: false, name: 'svc', resources: { db: Db } })(Forgetful);
      const app = await createMicroservice(Forgetful, { log: silent });
      await app.start();
      await expect(app.stop()).rejects.toMatchObject({
        code: 'SUPER_NOT_CALLED',
        message: expect.stringContaining(
          `${Forgetful.name}.${phase}() did not call super.${phase}()`,
        ) as unknown,
      });
      expect(journal).toEqual(['db:stop', 'db:postStop']);
      expect(app.status().resources[0].status).toBe(ResourceStatus.STOPPED);
      expect((await app.stopped).exitCode).toBe(1);
    },
  );

  it("refuses an override that calls another phase's super, or its own twice: no hook runs twice, no task is left running", async () => {
    const journal: string[] = [];
    let ticks = 0;
    @resource()
    class Db {
      start = () => journal.push('db:start');
      postStart = () => journal.push('db:postStart');
      stop = () => journal.push('db:stop');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { db: Db } })
    class Restarts extends Microservice {
      @task()
      async tick(signal: AbortSignal): Promise<void> {
        while (!signal.aborted) {
          ticks++;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
      override async postStart(): Promise<void> {
        await super.start();
        await super.postStart();
      }
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { db: Db } })
    class Twice extends Microservice {
      override async start(): Promise<void> {
        await super.start();
        await super.start();
      }
    }
    const restarts = await createMicroservice(Restarts, { log: silent });
    await expect(restarts.start()).rejects.toMatchObject({
      code: 'SUPER_OUT_OF_PHASE',
      message: expect.stringContaining('Restarts.postStart() called super.start()'),
    });
    expect(journal).toEqual(['db:start', 'db:stop']);
    const afterStop = ticks;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ticks).toBe(afterStop);

    journal.length = 0;
    const twice = await createMicroservice(Twice, { log: silent });
    await expect(twice.start()).rejects.toMatchObject({
      code: 'SUPER_OUT_OF_PHASE',
      message: expect.stringContaining('Twice.start() called super.start() a second time'),
    });
    expect(journal).toEqual(['db:start', 'db:stop']);
  });

  it('runs code around a phase in an override that calls super', async () => {
    const journal: string[] = [];
    @resource()
    class Db {
      start = () => journal.push('db:start');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { db: Db } })
    class Service extends Microservice {
      override async start(): Promise<void> {
        journal.push('before');
        await super.start();
        journal.push('after');
      }
    }
    const app = await createMicroservice(Service, { log: silent });
    await app.start();
    expect(journal).toEqual(['before', 'db:start', 'after']);
    await app.stop();
  });

  it('reports a constructor that throws with its name and chain, and starts nothing', async () => {
    const journal: string[] = [];
    @resource()
    class Db {
      start = () => journal.push('db:start');
    }
    @resource()
    class Broken {
      constructor(readonly db: Db) {
        throw new Error('bad config');
      }
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { broken: Broken } })
    class Service extends Microservice {}
    const error = (await createMicroservice(Service, { log: silent }).catch(
      (caught: unknown) => caught,
    )) as GraphError;
    expect(error).toBeInstanceOf(GraphError);
    expect(error.code).toBe('CONSTRUCTOR_FAILED');
    expect(error.message).toContain("resource 'broken' failed to construct (svc → broken): bad config");
    expect(journal).toEqual([]);
  });

  it('refuses a stop while starting, and stops once the start has settled', async () => {
    const started = deferred<void>();
    const journal: string[] = [];
    @resource()
    class Slow {
      start = () => started.promise;
      stop = () => journal.push('slow:stop');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { slow: Slow } })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: silent });
    const starting = app.start();
    await expect(app.stop()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    started.resolve();
    await starting;
    await app.stop();
    expect(journal).toEqual(['slow:stop']);
  });

  it('cannot start twice', async () => {
    @microservice({ defaultResources: false, name: 'svc' })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: silent });
    await app.start();
    await expect(app.start()).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await app.stop();
  });
});
