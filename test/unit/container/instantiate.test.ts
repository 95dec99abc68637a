import { createMicroservice, GraphError, inject, Microservice, microservice, resource } from '../../../lib';
import { quietLog } from '../../support/async';

const POOL = Symbol('Pool');

describe('constructing the graph', () => {
  it('refuses a useFactory provider that returns a Promise, naming it, instead of injecting the Promise', async () => {
    const received: unknown[] = [];
    @resource()
    class Repo {
      constructor(@inject(POOL) pool: unknown) {
        received.push(pool);
      }
    }
    @microservice({
      defaultResources: false,
      name: 'svc',
      resources: { repo: Repo },
      providers: [{ provide: POOL, useFactory: () => Promise.resolve({ size: 3 }) }],
    })
    class Service extends Microservice {}
    const created = createMicroservice(Service, { log: quietLog() });
    await expect(created).rejects.toBeInstanceOf(GraphError);
    await expect(created).rejects.toMatchObject({
      code: 'ASYNC_PROVIDER',
      message: expect.stringContaining(
        "provider 'Symbol(Pool)' (svc → repo → Symbol(Pool)): useFactory returned a Promise",
      ) as unknown,
    });
    expect(received).toEqual([]);
  });

  it('injects what a synchronous useFactory returns', async () => {
    @resource()
    class Repo {
      constructor(@inject(POOL) readonly pool: { size: number }) {}
    }
    @microservice({
      defaultResources: false,
      name: 'svc',
      resources: { repo: Repo },
      providers: [{ provide: POOL, useFactory: () => ({ size: 3 }) }],
    })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: quietLog() });
    expect(app.get(Repo).pool).toEqual({ size: 3 });
    await app.stop();
  });
});
