import {
  GraphError,
  inject,
  Microservice,
  microservice,
  resource,
  resourceToken,
  Test,
  type App,
} from '../../../lib';
import {
  http,
  HttpServerResource,
  reply,
  type HttpContext,
  type HttpReply,
} from '../../../lib/resources/http';
import { quietLog } from '../../support/async';
import { json, send } from './requests';

@resource()
class Flock {
  private readonly names = ['Dolly', 'Shaun'];

  @http('GET', '/flock/:index')
  byIndex(ctx: HttpContext): { name: string; requestId: string } {
    return { name: this.names[Number(ctx.params.index)], requestId: ctx.state.requestId };
  }
}

@resource()
class Shepherd {
  constructor(@inject(resourceToken('http')) http: HttpServerResource) {
    http.router.get('/koa-style', (ctx) => {
      ctx.body = 'set on ctx';
    });
    http.route('PUT', '/returned', (ctx) => reply(202, { got: ctx.state.body }));
  }
}

@microservice({ name: 'farm', resources: { http: HttpServerResource, flock: Flock, shepherd: Shepherd } })
class Farm extends Microservice {
  private sheep = 0;

  constructor(
    readonly flock: Flock,
    readonly shepherd: Shepherd,
  ) {
    super();
  }

  @http('POST', '/sheep')
  add(): HttpReply<string> {
    return reply(201, String(++this.sheep));
  }

  @http('GET', '/sheep')
  count(): string {
    return String(this.sheep);
  }
}

const QUIET = { log: quietLog() };
const FREE_PORT = { system: { resources: { http: { port: 0 } } } };

function portOf(app: App, name = 'http'): number {
  return app.get<HttpServerResource>(name).address()!.port;
}

describe('routes of an HttpServerResource', () => {
  let app: App;
  beforeAll(async () => {
    app = await Test.createMicroservice(Farm, QUIET).withSettings(FREE_PORT).start();
  });
  afterAll(() => app.stop());

  it('binds 127.0.0.1 on a free port and tells which', () => {
    const address = app.get(HttpServerResource).address()!;
    expect(address.address).toBe('127.0.0.1');
    expect(address.port).toBeGreaterThan(0);
  });

  it('serves @http methods of the microservice: a body, or reply(status, body)', async () => {
    const port = portOf(app);
    expect(await send(port, '/sheep', { method: 'POST' })).toMatchObject({ status: 201, body: '1' });
    expect(await send(port, '/sheep', { method: 'POST' })).toMatchObject({ status: 201, body: '2' });
    expect(await send(port, '/sheep')).toMatchObject({ status: 200, body: '2' });
  });

  it('serves @http methods of a resource, with route parameters and the request id in ctx.state', async () => {
    const reply = await send(portOf(app), '/flock/1', { headers: { 'x-request-id': 'abc-123' } });
    expect(reply.status).toBe(200);
    expect(json(reply)).toEqual({ name: 'Shaun', requestId: 'abc-123' });
  });

  it('serves routes added through the router, koa style or returning a value', async () => {
    expect(await send(portOf(app), '/koa-style')).toMatchObject({ status: 200, body: 'set on ctx' });
    const reply = await send(portOf(app), '/returned', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sheep: 3 }),
    });
    expect(reply.status).toBe(202);
    expect(json(reply)).toEqual({ got: { sheep: 3 } });
  });

  it('answers 404 for an unknown path and 405 for a known path with another method', async () => {
    expect((await send(portOf(app), '/goats')).status).toBe(404);
    const reply = await send(portOf(app), '/sheep', { method: 'DELETE' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toContain('POST');
  });
});

@microservice({
  name: 'two_servers',
  resources: { public_http: HttpServerResource, admin_http: HttpServerResource },
})
class TwoServers extends Microservice {
  @http('GET', '/hello', { server: 'public_http' })
  hello(): string {
    return 'public';
  }

  @http('GET', '/hello', { server: 'admin_http' })
  admin(): string {
    return 'admin';
  }

  @http('POST', '/only-admin', { server: 'admin_http' })
  onlyAdmin(): string {
    return 'ok';
  }
}

describe('two HTTP servers in one service', () => {
  let app: App;
  beforeAll(async () => {
    app = await Test.createMicroservice(TwoServers, QUIET)
      .withSettings({
        system: {
          resources: { public_http: { port: 0 }, admin_http: { port: 0, max_body_bytes: 4 } },
        },
      })
      .start();
  });
  afterAll(() => app.stop());

  it('listens on two ports, each server with its own routes', async () => {
    const publicPort = portOf(app, 'public_http');
    const adminPort = portOf(app, 'admin_http');
    expect(publicPort).not.toBe(adminPort);
    expect(await send(publicPort, '/hello')).toMatchObject({ status: 200, body: 'public' });
    expect(await send(adminPort, '/hello')).toMatchObject({ status: 200, body: 'admin' });
    expect((await send(publicPort, '/only-admin', { method: 'POST' })).status).toBe(404);
  });

  it('applies each server its own settings', async () => {
    const body = 'more than four bytes';
    expect((await send(portOf(app, 'admin_http'), '/only-admin', { method: 'POST', body })).status).toBe(413);
    expect((await send(portOf(app, 'public_http'), '/only-admin', { method: 'POST', body })).status).toBe(
      404,
    );
  });
});

const constructed: string[] = [];

@resource()
class Connected {
  constructor() {
    constructed.push('connected');
  }
}

@microservice({
  name: 'ambiguous',
  resources: { public_http: HttpServerResource, admin_http: HttpServerResource, connected: Connected },
})
class Ambiguous extends Microservice {
  @http('GET', '/which')
  which(): string {
    return 'either';
  }
}

@microservice({ name: 'misnamed', resources: { http: HttpServerResource, connected: Connected } })
class Misnamed extends Microservice {
  @http('GET', '/x', { server: 'admin_http' })
  x(): string {
    return 'x';
  }
}

describe('binding a decorated route to a server', () => {
  const settings = {
    system: { resources: { public_http: { port: 0 }, admin_http: { port: 0 }, http: { port: 0 } } },
  };

  it('refuses the graph, before any constructor runs, when several servers could serve a route', async () => {
    const compile = Test.createMicroservice(Ambiguous, QUIET).withSettings(settings).compile();
    await expect(compile).rejects.toBeInstanceOf(GraphError);
    await expect(compile).rejects.toMatchObject({
      code: 'HTTP_AMBIGUOUS_SERVER',
      message: expect.stringContaining("{ server: 'public_http' | 'admin_http' }") as unknown,
    });
    expect(constructed).toEqual([]);
  });

  it('refuses the graph when a route names a server the service does not have', async () => {
    const compile = Test.createMicroservice(Misnamed, QUIET).withSettings(settings).compile();
    await expect(compile).rejects.toMatchObject({
      code: 'HTTP_UNKNOWN_SERVER',
      message: expect.stringContaining("names server 'admin_http', which misnamed does not have") as unknown,
    });
    expect(constructed).toEqual([]);
  });
});
