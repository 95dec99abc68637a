import { CHAIN_ARROW, GraphError } from '../../container/errors';
import { declaredPrototype, type GraphNode, type ResourceGraph } from '../../container/graph';
import { routesOfPrototype } from './decorators';
import { HttpServerResource } from './server';
import { socketsOfPrototype } from './websocket/decorator';

/** An `@http` or `@websocket` route as the check shows it. */
interface ServedRoute {
  /** `@http('GET', '/x')`, `@websocket('/chat')` */
  decorator: string;
  /** `GET /x`, `WS /chat` */
  shown: string;
  key: string | symbol;
  server?: string;
}

function servedRoutes(prototype: object | null): ServedRoute[] {
  return [
    ...routesOfPrototype(prototype).map((route) => ({
      decorator: `@http('${route.method}', '${route.path}')`,
      shown: `${route.method} ${route.path}`,
      key: route.key,
      server: route.server,
    })),
    ...socketsOfPrototype(prototype).map((route) => ({
      decorator: `@websocket('${route.path}')`,
      shown: `WS ${route.path}`,
      key: route.key,
      server: route.options.server,
    })),
  ];
}

/**
 * A graph check: every `@http` and `@websocket` route needs exactly one HttpServerResource to serve it (the one it
 * names, or the only one). Checked before any constructor runs, so a route no server would take
 * fails the build of the graph instead of a start that has already connected resources.
 */
export function requireServerForRoutes(graph: ResourceGraph): void {
  const prototypes = graph.nodes.map(declaredPrototype);
  const servers = graph.nodes
    .filter(
      (node) =>
        prototypes[node.index] instanceof HttpServerResource ||
        prototypes[node.index] === HttpServerResource.prototype,
    )
    .map((node) => node.name);
  for (const [index, prototype] of prototypes.entries()) {
    const routes = servedRoutes(prototype);
    if (routes.length === 0) continue;
    const node = graph.nodes[index];
    if (servers.length === 0) {
      const shown = routes.map((route) => route.shown).join(', ');
      const kinds = [
        ...new Set(routes.map((route) => route.decorator.slice(0, route.decorator.indexOf('(')))),
      ];
      throw new GraphError(
        'HTTP_NO_SERVER',
        `${node.chain.join(CHAIN_ARROW)}: ${describeOwner(prototype)} declares ${kinds.join(' and ')} routes (${shown}) but ${graph.serviceName} ` +
          'has no HttpServerResource to serve them; list one in its resources',
        node.chain,
      );
    }
    for (const route of routes) checkServerOf(route, node, servers, graph.serviceName);
  }
}

function checkServerOf(
  route: ServedRoute,
  node: GraphNode,
  servers: readonly string[],
  serviceName: string,
): void {
  const where = `${node.chain.join(CHAIN_ARROW)}: ${route.decorator} on ${node.name}.${String(route.key)}`;
  const choices = servers.map((name) => `'${name}'`).join(' | ');
  if (route.server !== undefined && !servers.includes(route.server)) {
    throw new GraphError(
      'HTTP_UNKNOWN_SERVER',
      `${where} names server '${route.server}', which ${serviceName} does not have; its HTTP servers: ${choices}`,
      node.chain,
    );
  }
  if (route.server === undefined && servers.length > 1) {
    throw new GraphError(
      'HTTP_AMBIGUOUS_SERVER',
      `${where} does not say which HTTP server serves it, and ${serviceName} has ${servers.length}: add { server: ${choices} }`,
      node.chain,
    );
  }
}

function describeOwner(prototype: object | null): string {
  const owner = (prototype as { constructor?: { name?: string } } | null)?.constructor?.name;
  return owner || 'a value';
}
