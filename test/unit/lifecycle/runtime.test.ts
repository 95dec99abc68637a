import {
  createMicroservice,
  inject,
  Microservice,
  microservice,
  resource,
  ResourceStatus,
  SERVICE,
  SETTINGS,
  type ServiceHandle,
} from '../../../lib';
import type { SettingsView } from '../../../lib/settings/types';
import { quietLog, until } from '../../support/async';

describe('a running service', () => {
  it('shows what a resource says of itself once started, and FAILED when its status() throws', async () => {
    let health: unknown = ResourceStatus.STARTED;
    @resource()
    class Broker {
      status() {
        if (health instanceof Error) throw health;
        return health as ResourceStatus;
      }
    }
    @microservice({ name: 'svc', resources: { broker: Broker }, defaultResources: false })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: quietLog() });
    await app.start();
    expect(app.status().resources[0]).toMatchObject({ name: 'broker', status: 'STARTED' });
    health = { status: ResourceStatus.FAILED, text: 'connection reset' };
    expect(app.status().resources[0]).toMatchObject({ status: 'FAILED', statusText: 'connection reset' });
    health = new Error('socket gone');
    expect(app.status().resources[0]).toMatchObject({
      status: 'FAILED',
      statusText: 'status() threw: socket gone',
    });
    await app.stop();
  });

  it('restarts a resource and what depends on it: stops in reverse, starts in order', async () => {
    const journal: string[] = [];
    const hooks = (name: string) => ({
      start: () => journal.push(`${name}:start`),
      stop: () => journal.push(`${name}:stop`),
    });
    @resource()
    class Db {
      hooks = hooks('db');
      start = this.hooks.start;
      stop = this.hooks.stop;
    }
    @resource()
    class Cache {
      hooks = hooks('cache');
      start = this.hooks.start;
      stop = this.hooks.stop;
    }
    @resource()
    class Repo {
      hooks = hooks('repo');
      constructor(readonly db: Db) {}
      start = this.hooks.start;
      stop = this.hooks.stop;
    }
    @resource()
    class Api {
      hooks = hooks('api');
      constructor(
        readonly repo: Repo,
        readonly cache: Cache,
        @inject(SERVICE) readonly service: ServiceHandle,
      ) {}
      start = this.hooks.start;
      stop = this.hooks.stop;
    }
    @microservice({
      name: 'svc',
      resources: { api: Api, repo: Repo, db: Db, cache: Cache },
      defaultResources: false,
    })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: quietLog() });
    await app.start();
    journal.length = 0;
    const restarting = app.get(Api).service.restartResource('db');
    expect(app.get(Api).service.isRestarting()).toBe(true);
    await restarting;
    expect(journal).toEqual(['api:stop', 'repo:stop', 'db:stop', 'db:start', 'repo:start', 'api:start']);
    expect(app.status().resources.every((row) => row.status === 'STARTED')).toBe(true);
    journal.length = 0;
    await app.stop();
    expect(journal[0]).toBe('api:stop');
    expect(journal.indexOf('repo:stop')).toBeLessThan(journal.indexOf('db:stop'));
    expect([...journal].sort()).toEqual(['api:stop', 'cache:stop', 'db:stop', 'repo:stop']);
  });

  it('hands a settings change of its scope to onSettingsChange', async () => {
    const changes: unknown[] = [];
    @resource({ settings: { limit: { doc: 'limit', format: 'nat', default: 10 } } })
    class Limiter {
      constructor(@inject(SETTINGS) readonly settings: SettingsView<{ limit: number }>) {}
      onSettingsChange(next: unknown, previous: unknown) {
        changes.push({ next, previous });
      }
    }
    @microservice({ name: 'svc', resources: { limiter: Limiter }, defaultResources: false })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: quietLog() });
    await app.start();
    app.settings.updateInternal({ system: { resources: { limiter: { limit: 20 } } } });
    await until(() => changes.length === 1);
    expect(changes).toEqual([{ next: { limit: 20 }, previous: { limit: 10 } }]);
    expect(app.get(Limiter).settings.get('limit')).toBe(20);
    await app.stop();
  });
});
