import {
  GraphError,
  inject,
  LazyServiceIdentifier,
  Microservice,
  microservice,
  multiInject,
  named,
  optional,
  resource,
  resourceToken,
} from '../../../lib';
import { buildGraph } from '../../../lib/container/graph';

const POOL = Symbol('Pool');

function graphError(run: () => unknown): GraphError {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error('expected a GraphError');
}

describe('the dependency graph', () => {
  @resource()
  class Postgres {}

  @resource()
  class Users {
    constructor(readonly db: Postgres) {}
  }

  @resource()
  class Billing {
    @inject(Users) users!: Users;
    constructor(readonly db: Postgres) {}
  }

  @microservice({
    defaultResources: false,
    name: 'billing_api',
    resources: { billing: Billing, users: Users, postgres: Postgres },
  })
  class BillingService extends Microservice {
    constructor(readonly billing: Billing) {
      super();
    }
  }

  it('orders every node after what it depends on, with the microservice last', () => {
    const graph = buildGraph({ service: BillingService });
    const order = graph.nodes.map((node) => node.name);
    expect(order.indexOf('postgres')).toBeLessThan(order.indexOf('users'));
    expect(order.indexOf('users')).toBeLessThan(order.indexOf('billing'));
    expect(order[order.length - 1]).toBe('billing_api');
    expect(
      graph.byName
        .get('billing')!
        .dependsOn.map((index) => graph.nodes[index].name)
        .sort(),
    ).toEqual(['postgres', 'users']);
  });

  it('reads constructor type metadata, @inject tokens and property injection', () => {
    const graph = buildGraph({ service: BillingService });
    const billing = graph.byName.get('billing')!;
    expect(billing.dependencies.map((dependency) => dependency.target)).toEqual([
      { kind: 'constructor', index: 0 },
      { kind: 'property', key: 'users' },
    ]);
  });

  it('creates only resources reachable from the module, adding unlisted @resource dependencies by default name', () => {
    @resource()
    class AuditLogResource {}
    @resource()
    class Orphan {}
    @resource()
    class Payments {
      constructor(readonly audit: AuditLogResource) {}
    }
    @microservice({ defaultResources: false, name: 'pay', resources: { payments: Payments } })
    class PayService extends Microservice {}
    const graph = buildGraph({ service: PayService });
    expect(graph.nodes.map((node) => node.name)).toEqual(['audit_log', 'payments', 'pay']);
    expect(graph.byToken.has(Orphan)).toBe(false);
  });

  it('names the whole chain of a missing provider', () => {
    @resource()
    class Repo {
      constructor(@inject(POOL) readonly pool: unknown) {}
    }
    @resource()
    class UserStore {
      constructor(readonly repo: Repo) {}
    }
    @microservice({
      defaultResources: false,
      name: 'billing_api',
      resources: { users: UserStore, repo: Repo },
    })
    class Service extends Microservice {}
    const error = graphError(() => buildGraph({ service: Service }));
    expect(error.code).toBe('MISSING_PROVIDER');
    expect(error.message).toContain('billing_api → users → repo → Symbol(Pool)');
    expect(error.message).toContain('constructor parameter #0 of Repo');
  });

  it('explains a parameter typed by an interface', () => {
    interface Clock {
      now(): number;
    }
    @resource()
    class Scheduler {
      constructor(readonly clock: Clock) {}
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { scheduler: Scheduler } })
    class Service extends Microservice {}
    const error = graphError(() => buildGraph({ service: Service }));
    expect(error.code).toBe('MISSING_PROVIDER');
    expect(error.message).toMatch(
      /svc → scheduler: cannot read the dependencies of Scheduler .*interface or union type/,
    );
  });

  it('names the loop of a cycle, including through a LazyServiceIdentifier', () => {
    @resource()
    class R1 {
      constructor(@inject(new LazyServiceIdentifier(() => R2)) readonly r2: unknown) {}
    }
    @resource()
    class R2 {
      constructor(readonly r1: R1) {}
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { r1: R1, r2: R2 } })
    class Service extends Microservice {}
    const error = graphError(() => buildGraph({ service: Service }));
    expect(error.code).toBe('CYCLE');
    expect(error.message).toContain('r1 → r2 → r1');
    expect(error.chain).toEqual(['r1', 'r2', 'r1']);
  });

  it('rejects a name registered twice, naming both classes', () => {
    @resource({ name: 'postgres' })
    class PgPool {}
    @resource()
    class Reports {
      constructor(readonly pool: PgPool) {}
    }
    @microservice({
      defaultResources: false,
      name: 'svc',
      resources: { postgres: Postgres, reports: Reports },
    })
    class Service extends Microservice {}
    const error = graphError(() => buildGraph({ service: Service }));
    expect(error.code).toBe('DUPLICATE_NAME');
    expect(error.message).toContain('Postgres');
    expect(error.message).toContain('PgPool');
  });

  it('rejects an undecorated class in resources, naming it', () => {
    class Plain {}
    @microservice({ defaultResources: false, name: 'svc', resources: { plain: Plain } })
    class Service extends Microservice {}
    const error = graphError(() => buildGraph({ service: Service }));
    expect(error.code).toBe('NOT_A_RESOURCE');
    expect(error.message).toContain("resource 'plain'");
    expect(error.message).toContain('class Plain is not decorated with @resource()');
  });

  it('rejects a microservice without a name', () => {
    @microservice({ defaultResources: false, name: '' })
    class Nameless extends Microservice {}
    expect(graphError(() => buildGraph({ service: Nameless })).code).toBe('MISSING_NAME');
  });

  it('rejects a class that is not a microservice', () => {
    class NotAService extends Microservice {}
    const error = graphError(() => buildGraph({ service: NotAService }));
    expect(error.message).toContain('NotAService is not decorated with @microservice');
  });

  describe('one class under two names', () => {
    @resource()
    class HttpServer {}

    it('is injected by name with resourceToken or @named', () => {
      @resource()
      class Router {
        constructor(
          @inject(resourceToken('public_http')) readonly publicHttp: HttpServer,
          @inject(HttpServer) @named('admin_http') readonly adminHttp: HttpServer,
        ) {}
      }
      @microservice({
        defaultResources: false,
        name: 'svc',
        resources: { public_http: HttpServer, admin_http: HttpServer, router: Router },
      })
      class Service extends Microservice {}
      const graph = buildGraph({ service: Service });
      const router = graph.byName.get('router')!;
      expect(router.dependsOn.map((index) => graph.nodes[index].name)).toEqual(['public_http', 'admin_http']);
    });

    it('is ambiguous when injected by class alone', () => {
      @resource()
      class Router {
        constructor(readonly http: HttpServer) {}
      }
      @microservice({
        defaultResources: false,
        name: 'svc',
        resources: { public_http: HttpServer, admin_http: HttpServer, router: Router },
      })
      class Service extends Microservice {}
      const error = graphError(() => buildGraph({ service: Service }));
      expect(error.code).toBe('AMBIGUOUS_PROVIDER');
      expect(error.message).toContain("'public_http', 'admin_http'");
    });

    it('is injected all at once with @multiInject', () => {
      @resource()
      class Gateway {
        constructor(@multiInject(HttpServer) readonly servers: HttpServer[]) {}
      }
      @microservice({
        defaultResources: false,
        name: 'svc',
        resources: { a: HttpServer, b: HttpServer, gateway: Gateway },
      })
      class Service extends Microservice {}
      const graph = buildGraph({ service: Service });
      expect(graph.byName.get('gateway')!.dependencies[0].resolution).toEqual({
        kind: 'nodes',
        nodes: [graph.byName.get('a')!.index, graph.byName.get('b')!.index],
      });
    });
  });

  it('leaves an @optional dependency without provider absent', () => {
    @resource()
    class Cache {
      constructor(@inject(POOL) @optional() readonly pool?: unknown) {}
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { cache: Cache } })
    class Service extends Microservice {}
    const graph = buildGraph({ service: Service });
    expect(graph.byName.get('cache')!.dependencies[0].resolution).toEqual({ kind: 'absent' });
  });

  it('uses providers for non-resource tokens', () => {
    @resource()
    class Repo {
      constructor(@inject(POOL) readonly pool: { size: number }) {}
    }
    @microservice({
      defaultResources: false,
      name: 'svc',
      resources: { repo: Repo },
      providers: [{ provide: POOL, useValue: { size: 3 } }],
    })
    class Service extends Microservice {}
    const graph = buildGraph({ service: Service });
    expect(graph.nodes.map((node) => node.name)).toEqual(['Symbol(Pool)', 'repo', 'svc']);
  });

  it('drops the dependencies of a replaced class that the replacement does not need', () => {
    @resource()
    class Repo {
      constructor(@inject(POOL) readonly pool: unknown) {}
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { repo: Repo } })
    class Service extends Microservice {}
    const graph = buildGraph({
      service: Service,
      overrides: [{ target: 'repo', provision: { useValue: {} } }],
    });
    expect(graph.nodes.map((node) => node.name)).toEqual(['repo', 'svc']);
  });
});
