import { declaredPrototype, type ResourceGraph } from '../../../container/graph';
import { instanceIdentity } from '../../../identity/instance';
import { routesOfPrototype } from '../decorators';
import { HttpServerResource } from '../server';
import { openApiDocument, openApiInfoFor, type DocumentedRoute, type OpenApiDocument } from './openapi';

/** The names of the graph's HTTP servers, from their classes: nothing is constructed. */
export function httpServersOf(graph: ResourceGraph): string[] {
  return graph.nodes
    .filter((node) => {
      const prototype = declaredPrototype(node);
      return prototype instanceof HttpServerResource || prototype === HttpServerResource.prototype;
    })
    .map((node) => node.name);
}

/**
 * The OpenAPI document of `server`'s `@http` routes, read from the classes of the graph (what
 * `keel openapi` writes without starting the service); routes added in code with `route()` exist
 * only at run time, in `HttpServerResource.openApiDocument()`.
 */
export function openApiOfGraph(graph: ResourceGraph, server: string): OpenApiDocument {
  const servers = httpServersOf(graph);
  const routes: DocumentedRoute[] = [];
  for (const node of graph.nodes) {
    for (const route of routesOfPrototype(declaredPrototype(node))) {
      if ((route.server ?? (servers.length === 1 ? servers[0] : undefined)) !== server) continue;
      routes.push({
        method: route.method,
        path: route.path,
        owner: `${node.name}.${String(route.key)}`,
        options: route.options,
      });
    }
  }
  const classes = graph.nodes.map((node) => declaredPrototype(node)?.constructor);
  return openApiDocument(
    { name: graph.serviceName, version: instanceIdentity().version },
    routes,
    openApiInfoFor(classes, server),
  );
}
