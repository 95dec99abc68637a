import type { Layer, Router, RouterMiddleware } from '@koa/router';
import type { Middleware } from 'koa';
import { fallbackTaken } from '../../internals/reach';
import type { HttpContext, HttpState } from './context';

type RouteLayer = Layer<HttpState>;

// Anything path-to-regexp reads as more than a literal character.
const PATTERN_SYNTAX = /[:*{}()[\]+?!\\]/;

const REACH = "@koa/router's layers (lib/resources/http/direct-routes.ts)";

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
 *
 * What this reads of the router is not all its public API (`Layer#match` is private, and what it
 * sets on the context is the router's behaviour, not a promise), so @koa/router is pinned `~`, the
 * shape is checked (the router's `stack` and `opts`, each layer's `match`, `methods` and one-handler
 * `stack`), and a router or layer of another shape is left to the router's own middleware, said once.
 * `test/contract/koa-router.test.ts` sends the same requests both ways.
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
    const { opts, stack } = this.router;
    if (typeof opts !== 'object' || opts === null || !Array.isArray(stack)) {
      fallbackTaken(REACH, 'the router has no stack of layers or no opts');
      return undefined;
    }
    // Options that make the router match something other than the request's path and method.
    if (opts.host !== undefined || opts.routerPath !== undefined) return undefined;
    if (this.builtForLayers !== stack.length || this.builtForPrefix !== opts.prefix) this.rebuild();
    return this.table.get(path)?.get(method);
  }

  private rebuild(): void {
    const table = new Map<string, Map<string, RouteLayer>>();
    const shaped = this.router.stack.every(isShaped);
    if (!shaped) fallbackTaken(REACH, 'a layer has no match(), methods or stack');
    for (const layer of shaped ? this.router.stack : []) {
      const { path } = layer;
      if (!this.direct.has(layer) || typeof path !== 'string' || PATTERN_SYNTAX.test(path)) continue;
      // A route() layer has its one handler; more is something this version adds (param middleware).
      if (layer.stack.length !== 1) continue;
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

/** What `rebuild` and the direct dispatch read of a layer, as in @koa/router 15.7. */
function isShaped(layer: RouteLayer): boolean {
  return (
    typeof layer.match === 'function' &&
    Array.isArray(layer.methods) &&
    Array.isArray(layer.stack) &&
    layer.stack.every((handler) => typeof handler === 'function')
  );
}
