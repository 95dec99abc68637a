import type { Layer, Router, RouterMiddleware } from '@koa/router';
import type { Middleware } from 'koa';
import type { HttpContext, HttpState } from './context';

type RouteLayer = Layer<HttpState>;

// Anything path-to-regexp reads as more than a literal character.
const PATTERN_SYNTAX = /[:*{}()[\]+?!\\]/;

/**
 * The last middleware of a server: a request whose method and path name a literal route
 * registered through `route()` or `@http` goes straight to that route's handler, everything else
 * through the router and its `allowedMethods`.
 *
 * @koa/router matches every layer's regexp and composes a fresh chain on every request; for a
 * literal path served by one layer that work always ends with the same handler. The context gets
 * what the router would have set. A path is taken out of the table when any other layer of the
 * router matches it (a second route, a wildcard, `router.use` middleware): that request needs
 * the router's own chain. The table is rebuilt when layers are added or the prefix changes.
 */
export class DirectRoutes {
  private readonly direct = new Set<RouteLayer>();
  private table = new Map<string, Map<string, RouteLayer>>();
  private builtForLayers = -1;
  private builtForPrefix: string | undefined;

  constructor(private readonly router: Router<HttpState>) {}

  /** A layer made by `route()`: one handler, never calling `next`, served directly when its path is literal. */
  add(layer: RouteLayer): void {
    this.direct.add(layer);
    this.builtForLayers = -1;
  }

  middleware(): Middleware<HttpState> {
    const routes = this.router.routes();
    const allowedMethods = this.router.allowedMethods();
    return (koaContext, next) => {
      const ctx = koaContext as HttpContext & { newRouterPath?: string };
      // A path rewritten for the router (`newRouterPath`, which it reads before `path`) is its to match.
      const { request } = ctx;
      const layer = ctx.newRouterPath === undefined ? this.lookup(request.method, request.path) : undefined;
      if (layer === undefined) return routes(ctx, () => allowedMethods(ctx, next));
      const path = layer.path as string;
      ctx.router = this.router;
      ctx.matched = [layer];
      ctx.routeMatched = true;
      ctx.captures = [];
      ctx.params = request.params = {};
      ctx.routerPath = ctx._matchedRoute = path;
      ctx.routerName = layer.name || undefined;
      if (layer.name) ctx._matchedRouteName = layer.name;
      return (layer.stack[0] as RouterMiddleware<HttpState>)(ctx, next);
    };
  }

  private lookup(method: string, path: string): RouteLayer | undefined {
    // Options that make the router match something other than the request's path and method.
    const { host, routerPath } = this.router.opts;
    if (host !== undefined || routerPath !== undefined) return undefined;
    if (this.builtForLayers !== this.router.stack.length || this.builtForPrefix !== this.router.opts.prefix) {
      this.rebuild();
    }
    return this.table.get(path)?.get(method);
  }

  private rebuild(): void {
    const table = new Map<string, Map<string, RouteLayer>>();
    for (const layer of this.router.stack) {
      const { path } = layer;
      if (!this.direct.has(layer) || typeof path !== 'string' || PATTERN_SYNTAX.test(path)) continue;
      const alone = this.router.stack.every((other) => other === layer || !other.match(path));
      if (!alone) continue;
      const byMethod = new Map<string, RouteLayer>();
      for (const method of layer.methods) byMethod.set(method, layer);
      table.set(path, byMethod);
    }
    this.table = table;
    this.builtForLayers = this.router.stack.length;
    this.builtForPrefix = this.router.opts.prefix;
  }
}
