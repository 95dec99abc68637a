import type { HttpRouteOptions, NoOptions, RouteHandler } from './contracts/types';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface DecoratedRoute {
  method: HttpMethod;
  path: string;
  key: string | symbol;
  server?: string;
  options: HttpRouteOptions;
}

/** A route declared once as a value: `@http(createOrder)` serves it, `RouteContext<typeof createOrder>` types its handler. */
export interface RouteDefinition<
  Path extends string = string,
  O extends HttpRouteOptions = HttpRouteOptions,
> {
  readonly method: HttpMethod;
  readonly path: Path;
  readonly options: O;
}

/** A route's method, template and options (schemas, documentation, server), for `@http(route)`. */
export function defineRoute<const Path extends string, const O extends HttpRouteOptions = NoOptions>(
  method: HttpMethod,
  path: Path,
  options?: O,
): RouteDefinition<Path, O> {
  return { method, path, options: options ?? ({} as O) };
}

const routesByPrototype = new WeakMap<object, DecoratedRoute[]>();

type RouteDecorator<Path extends string, O extends HttpRouteOptions> = <T extends RouteHandler<Path, O>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void;

/**
 * Serves a method of the microservice or of a resource at `method path`, in tomodachi's style:
 * the method gets the koa context and returns a body or `reply(status, body)`. With schemas in
 * `options` the request is validated before the method runs, and the method's `ctx`
 * (`HttpContext<path, typeof options>`) and answer are checked against them by the compiler.
 */
export function http<const Path extends string, const O extends HttpRouteOptions = NoOptions>(
  method: HttpMethod,
  path: Path,
  options?: O,
): RouteDecorator<Path, O>;
export function http<const Path extends string, const O extends HttpRouteOptions>(
  route: RouteDefinition<Path, O>,
): RouteDecorator<Path, O>;
export function http(
  methodOrRoute: HttpMethod | RouteDefinition,
  path?: string,
  options: HttpRouteOptions = {},
): RouteDecorator<string, HttpRouteOptions> {
  const route =
    typeof methodOrRoute === 'string' ? { method: methodOrRoute, path: path!, options } : methodOrRoute;
  return (target, key, descriptor) => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(
        `@http('${route.method}', '${route.path}') must decorate a method, not ${String(key)}`,
      );
    }
    const routes = routesByPrototype.get(target) ?? [];
    routes.push({
      method: route.method,
      path: route.path,
      key,
      server: route.options.server,
      options: route.options,
    });
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
