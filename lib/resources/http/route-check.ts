import { CHAIN_ARROW, GraphError } from '../../container/errors';
import type { ResourceGraph } from '../../container/graph';
import { routesOfPrototype } from './decorators';
import { HttpServerResource } from './server';

/**
 * A graph check: `@http` routes need an HttpServerResource to serve them. Without one they would
 * never be served, and nothing else would say so.
 */
export function requireServerForRoutes(graph: ResourceGraph): void {
  const classes = graph.nodes.map((node) =>
    'useClass' in node.provision ? node.provision.useClass : undefined,
  );
  if (
    classes.some(
      (cls) =>
        cls !== undefined && (cls === HttpServerResource || cls.prototype instanceof HttpServerResource),
    )
  ) {
    return;
  }
  for (const [index, cls] of classes.entries()) {
    const routes = cls === undefined ? [] : routesOfPrototype(cls.prototype as object);
    if (routes.length === 0) continue;
    const node = graph.nodes[index];
    const shown = routes.map((route) => `${route.method} ${route.path}`).join(', ');
    throw new GraphError(
      'MISSING_PROVIDER',
      `${node.chain.join(CHAIN_ARROW)}: ${cls!.name} declares @http routes (${shown}) but ${graph.serviceName} ` +
        'has no HttpServerResource to serve them; list one in its resources',
      node.chain,
    );
  }
}
