import { inject, Microservice, microservice, resource, resourceToken, Test, type App } from '../../../lib';
import { http, HttpServerResource, type HttpContext } from '../../../lib/resources/http';
import { quietLog } from '../../support/async';
import { json, send } from './requests';

/** What a handler sees of the routing, whichever way the request reached it. */
function routing(ctx: HttpContext): Record<string, unknown> {
  return {
    params: ctx.params,
    requestParams: ctx.request.params,
    matchedRoute: ctx._matchedRoute,
    routerPath: ctx.routerPath,
    hasRouter: ctx.router !== undefined,
  };
}

/** Router layers added in a constructor: they precede the @http routes, bound when the server starts. */
@resource()
class Gatekeeper {
  constructor(@inject(resourceToken('http')) http: HttpServerResource) {
    http.app.use((ctx, next) => {
      if (ctx.get('x-rewrite') !== '') Object.assign(ctx, { newRouterPath: ctx.get('x-rewrite') });
      return next();
    });
    http.router.use('/guarded', async (ctx, next) => {
      if (ctx.get('authorization') !== 'yes') {
        ctx.status = 401;
        return;
      }
      await next();
    });
    http.router.get('/shared', async (ctx, next) => {
      ctx.set('x-first-layer', 'ran');
      await next();
    });
  }
}

@microservice({ name: 'pasture', resources: { http: HttpServerResource, gatekeeper: Gatekeeper } })
class Pasture extends Microservice {
  constructor(readonly gatekeeper: Gatekeeper) {
    super();
  }

  @http('GET', '/literal')
  literal(ctx: HttpContext): Record<string, unknown> {
    return routing(ctx);
  }

  @http('GET', '/with/:param')
  withParam(ctx: HttpContext): Record<string, unknown> {
    return routing(ctx);
  }

  @http('GET', '/shared')
  shared(): string {
    return 'from the decorated route';
  }

  @http('GET', '/guarded')
  guarded(): string {
    return 'guarded';
  }
}

const QUIET = { log: quietLog() };
const FREE_PORT = { system: { resources: { http: { port: 0 } } } };

describe('routes with a literal path, served without matching every router layer', () => {
  let app: App;
  let port: number;
  let server: HttpServerResource;
  beforeAll(async () => {
    app = await Test.createMicroservice(Pasture, QUIET).withSettings(FREE_PORT).start();
    server = app.get(HttpServerResource);
    port = server.address()!.port;
  });
  afterAll(() => app.stop());

  it('gives the handler the context the router would: no params, the route template, the router', async () => {
    const match = jest.spyOn(server.router, 'match');
    const direct = json(await send(port, '/literal'));
    expect(match).not.toHaveBeenCalled();
    const viaRouter = json(await send(port, '/with/x'));
    expect(match).toHaveBeenCalled();
    match.mockRestore();
    expect(direct).toEqual({
      params: {},
      requestParams: {},
      matchedRoute: '/literal',
      routerPath: '/literal',
      hasRouter: true,
    });
    expect(viaRouter).toMatchObject({
      params: { param: 'x' },
      matchedRoute: '/with/:param',
      hasRouter: true,
    });
  });

  it('still answers what only the router matches: a trailing slash, another case, HEAD, 405', async () => {
    expect((await send(port, '/literal/')).status).toBe(200);
    expect((await send(port, '/LITERAL')).status).toBe(200);
    const head = await send(port, '/literal', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const wrongMethod = await send(port, '/literal', { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toContain('GET');
  });

  it('leaves a path to the router when another layer matches it too, so both run in order', async () => {
    const reply = await send(port, '/shared');
    expect(reply.body).toBe('from the decorated route');
    expect(reply.headers['x-first-layer']).toBe('ran');
  });

  it('runs router.use middleware before a literal route, as the router does', async () => {
    expect((await send(port, '/guarded')).status).toBe(401);
    expect(await send(port, '/guarded', { headers: { authorization: 'yes' } })).toMatchObject({
      status: 200,
      body: 'guarded',
    });
  });

  it('leaves a path rewritten for the router by earlier middleware to the router', async () => {
    const reply = json(await send(port, '/literal', { headers: { 'x-rewrite': '/with/rewritten' } }));
    expect(reply).toMatchObject({ params: { param: 'rewritten' }, matchedRoute: '/with/:param' });
  });

  it('serves a literal route added after start', async () => {
    server.route('GET', '/late', () => 'late but served');
    expect(await send(port, '/late')).toMatchObject({ status: 200, body: 'late but served' });
  });

  it('follows a prefix set on the router after start', async () => {
    server.router.prefix('/v1');
    expect(await send(port, '/v1/literal')).toMatchObject({ status: 200 });
    expect((await send(port, '/literal')).status).toBe(404);
  });
});
