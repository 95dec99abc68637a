import { addGraphCheck } from '../../container/checks';
import type { HttpHandler } from './context';
import { requireServerForRoutes } from './route-check';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface HttpRouteOptions {
  /**
   * Name of the HttpServerResource serving the route; required when the service has several
   * servers, optional when it has exactly one.
   */
  server?: string;
}

export interface DecoratedRoute {
  method: HttpMethod;
  path: string;
  key: string | symbol;
  server?: string;
}

const routesByPrototype = new WeakMap<object, DecoratedRoute[]>();

/**
 * Serves a method of the microservice or of a resource at `method path`, in tomodachi's style:
 * the method gets the koa context and returns a body or `reply(status, body)`.
 */
export function http(method: HttpMethod, path: string, options: HttpRouteOptions = {}) {
  return <T extends HttpHandler>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(`@http('${method}', '${path}') must decorate a method, not ${String(key)}`);
    }
    addGraphCheck(target, requireServerForRoutes);
    const routes = routesByPrototype.get(target) ?? [];
    routes.push({ method, path, key, server: options.server });
    routesByPrototype.set(target, routes);
  };
}

/** The routes declared on `instance`'s class and the classes it extends, base classes first. */
export function decoratedRoutes(instance: object): DecoratedRoute[] {
  return routesOfPrototype(Object.getPrototypeOf(instance) as object | null);
}

/** The same for a class not yet constructed, from its prototype. */
export function routesOfPrototype(prototype: object | null): DecoratedRoute[] {
  const chain: DecoratedRoute[][] = [];
  for (let proto = prototype; proto !== null;) {
    const own = routesByPrototype.get(proto);
    if (own !== undefined) chain.unshift(own);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return chain.flat();
}
