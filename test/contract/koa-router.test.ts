// @koa/router's dispatch, which DirectRoutes (lib/resources/http/direct-routes.ts) re-implements for
// literal routes: the same requests through the fast path and through the router's own middleware,
// on the pinned version, give the same status, body, Allow header and routing context; a router of
// another shape is left to its own middleware, said once.
import Router, { type RouterContext } from '@koa/router';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FALLBACK_WARNING } from '../../lib/internals/reach';
import type { HttpState } from '../../lib/resources/http/context';
import { DirectRoutes } from '../../lib/resources/http/direct-routes';
import { warnings } from '../support/warnings';

type Answer = { status: number; allow: string | null; body: string };

/** What a handler sees of the routing, whichever way the request reached it. */
function routing(ctx: RouterContext<HttpState>): object {
  return {
    params: ctx.params,
    requestParams: (ctx.request as { params?: object }).params,
    matchedRoute: ctx._matchedRoute,
    matchedRouteName: ctx._matchedRouteName,
    routerPath: ctx.routerPath,
    routerName: ctx.routerName,
    routeMatched: ctx.routeMatched,
    captures: ctx.captures,
    matched: ctx.matched?.map((layer) => layer.path),
    hasRouter: ctx.router !== undefined,
  };
}

const answer = (ctx: RouterContext<HttpState>) => {
  ctx.body = { method: ctx.method, ...routing(ctx) };
};

/** The routes of both servers: what `route()` and `@http` register, and layers a service adds itself. */
function routes(router: Router<HttpState>, direct?: DirectRoutes): void {
  const add = (path: string, methods: string[], name?: string) => {
    const layer = router.register(path, methods, answer, name === undefined ? {} : { name });
    if (!(layer instanceof Router)) direct?.add(layer);
  };
  add('/literal', ['GET'], 'literal');
  add('/both', ['GET', 'PUT']);
  add('/users', ['POST']);
  add('/users/:id', ['GET']);
  add('/files/{*rest}', ['GET']);
  router.use('/guarded', async (ctx, next) => {
    if (ctx.get('authorization') !== 'yes') {
      ctx.status = 401;
      return;
    }
    await next();
  });
  add('/guarded', ['GET']);
  router.get('/shared', async (ctx, next) => {
    ctx.set('x-first-layer', 'ran');
    await next();
  });
  add('/shared', ['GET']);
}

type Request = [method: string, path: string, headers?: Record<string, string>];

const REQUESTS: Request[] = [
  ['GET', '/literal'],
  ['GET', '/literal/'],
  ['GET', '/LITERAL'],
  ['GET', '/literal?q=1'],
  ['HEAD', '/literal'],
  ['POST', '/literal'],
  ['OPTIONS', '/literal'],
  ['GET', '/both'],
  ['PUT', '/both'],
  ['DELETE', '/both'],
  ['POST', '/users'],
  ['GET', '/users'],
  ['GET', '/users/42'],
  ['GET', '/users/a%20b'],
  ['GET', '/files/a/b.txt'],
  ['GET', '/guarded'],
  ['GET', '/guarded', { authorization: 'yes' }],
  ['GET', '/shared'],
  ['GET', '/nowhere'],
  ['PATCH', '/nowhere'],
];

/** Requests the fast path serves without the router: literal paths, each served by one layer. */
const DIRECT = ['/literal', '/both', '/users'];

async function listen(app: Koa<HttpState>): Promise<{ server: Server; base: string }> {
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function ask(base: string, [method, path, headers]: Request): Promise<Answer> {
  const reply = await fetch(base + path, { method, headers });
  return { status: reply.status, allow: reply.headers.get('allow'), body: await reply.text() };
}

/** The router's public middleware, and nothing of its layers: what an upgrade that moved them leaves. */
function publicOnly(router: Router<HttpState>): Router<HttpState> {
  return new Proxy(router, {
    get: (target, property) => {
      if (property === 'stack') return undefined;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

type Way = 'direct' | 'router' | 'public-only';

describe("@koa/router's dispatch, and DirectRoutes in its place", () => {
  const servers: Server[] = [];

  /** A server of the routes above: through DirectRoutes, through the router's own middleware, or through DirectRoutes given only the router's public middleware. */
  async function serve(way: Way): Promise<{ router: Router<HttpState>; base: string }> {
    const router = new Router<HttpState>();
    const app = new Koa<HttpState>();
    if (way === 'router') {
      routes(router);
      app.use(router.routes()).use(router.allowedMethods());
    } else {
      const direct = new DirectRoutes(way === 'direct' ? router : publicOnly(router));
      routes(router, direct);
      app.use(direct.middleware());
    }
    const { server, base } = await listen(app);
    servers.push(server);
    return { router, base };
  }

  afterAll(() => {
    for (const server of servers) server.close();
  });

  async function bothWays(fast: string, own: string, requests: Request[]): Promise<void> {
    for (const request of requests) {
      const mine = await ask(fast, request);
      expect({ request, ...mine }).toEqual({ request, ...(await ask(own, request)) });
    }
  }

  it('answers every request as the router does: params, 404, 405 and Allow, HEAD, several methods', async () => {
    const seen = warnings();
    const [fast, own] = await Promise.all([serve('direct'), serve('router')]);
    await bothWays(fast.base, own.base, REQUESTS);
    seen.stop();
    expect(seen.codes).toEqual([]);
  });

  it('serves the literal routes without the router matching them', async () => {
    const fast = await serve('direct');
    const match = jest.spyOn(fast.router, 'match');
    for (const path of DIRECT) await ask(fast.base, [path === '/users' ? 'POST' : 'GET', path]);
    expect(match).not.toHaveBeenCalled();
    await ask(fast.base, ['GET', '/users/1']);
    expect(match).toHaveBeenCalled();
  });

  it('answers as the router does once a prefix is set on it', async () => {
    const [fast, own] = await Promise.all([serve('direct'), serve('router')]);
    // Asked once before: the table is built for no prefix, then must follow the new one.
    await bothWays(fast.base, own.base, [['GET', '/literal']]);
    fast.router.prefix('/v1');
    own.router.prefix('/v1');
    const prefixed = REQUESTS.map(([method, path, headers]): Request => [method, `/v1${path}`, headers]);
    await bothWays(fast.base, own.base, [
      ...prefixed,
      ['GET', '/literal'],
      ['GET', '/v1'],
      ['GET', '/v2/literal'],
    ]);
  });

  it('leaves a layer of more than one handler to the router', async () => {
    const router = new Router<HttpState>();
    const direct = new DirectRoutes(router);
    const layer = router.register('/two', ['GET'], [(_ctx, next) => next(), answer]);
    if (!(layer instanceof Router)) direct.add(layer);
    const app = new Koa<HttpState>();
    app.use(direct.middleware());
    const { server, base } = await listen(app);
    servers.push(server);
    const match = jest.spyOn(router, 'match');
    expect((await ask(base, ['GET', '/two'])).status).toBe(200);
    expect(match).toHaveBeenCalled();
  });

  it("takes the router's own middleware, said once, when the router has no stack of layers", async () => {
    const seen = warnings();
    const [fast, own] = await Promise.all([serve('public-only'), serve('router')]);
    const match = jest.spyOn(fast.router, 'match');
    await bothWays(fast.base, own.base, REQUESTS);
    seen.stop();
    expect(match).toHaveBeenCalledTimes(REQUESTS.length);
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
  });
});
