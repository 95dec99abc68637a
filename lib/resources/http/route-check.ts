import { CHAIN_ARROW, GraphError } from '../../container/errors';
import { declaredPrototype, type GraphNode, type ResourceGraph } from '../../container/graph';
import { routesOfPrototype, type DecoratedRoute } from './decorators';
import { HttpServerResource } from './server';

/**
 * A graph check: every `@http` route needs exactly one HttpServerResource to serve it (the one it
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
    const routes = routesOfPrototype(prototype);
    if (routes.length === 0) continue;
    const node = graph.nodes[index];
    if (servers.length === 0) {
      const shown = routes.map((route) => `${route.method} ${route.path}`).join(', ');
      throw new GraphError(
        'HTTP_NO_SERVER',
        `${node.chain.join(CHAIN_ARROW)}: ${describeOwner(prototype)} declares @http routes (${shown}) but ${graph.serviceName} ` +
          'has no HttpServerResource to serve them; list one in its resources',
        node.chain,
      );
    }
    for (const route of routes) checkServerOf(route, node, servers, graph.serviceName);
  }
}

function checkServerOf(
  route: DecoratedRoute,
  node: GraphNode,
  servers: readonly string[],
  serviceName: string,
): void {
  const where = `${node.chain.join(CHAIN_ARROW)}: @http('${route.method}', '${route.path}') on ${node.name}.${String(route.key)}`;
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
