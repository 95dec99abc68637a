import { CHAIN_ARROW, GraphError } from './errors';
import type { GraphNode, ResourceGraph, Resolution } from './graph';
import { isPromiseLike } from '../util';

/** Gives the value of a reserved token (SETTINGS, LOGGER, ...) for the node that asks for it. */
export type ReservedResolver = (node: GraphNode, token: symbol) => unknown;

/**
 * Creates every node once, in topological order, handing each constructor the instances the graph
 * resolved for it. Keel walks the graph it already validated instead of asking inversify to plan
 * each request again: resolution is a lookup, and the instance order is the start order.
 */
export function instantiate(graph: ResourceGraph, reserved: ReservedResolver): unknown[] {
  const instances: unknown[] = new Array(graph.nodes.length);
  const valueOf = (node: GraphNode, resolution: Resolution): unknown => {
    switch (resolution.kind) {
      case 'node':
        return instances[resolution.node];
      case 'nodes':
        return resolution.nodes.map((index) => instances[index]);
      case 'reserved':
        return reserved(node, resolution.token);
      case 'absent':
        return undefined;
    }
  };
  for (const node of graph.nodes) {
    try {
      instances[node.index] = create(node, (resolution) => valueOf(node, resolution));
    } catch (error) {
      if (error instanceof GraphError) throw error;
      const cause = error instanceof Error ? error.message : String(error);
      throw new GraphError(
        'CONSTRUCTOR_FAILED',
        `resource '${node.name}' failed to construct (${node.chain.join(CHAIN_ARROW)}): ${cause}`,
        node.chain,
        { cause: error },
      );
    }
  }
  return instances;
}

function create(node: GraphNode, valueOf: (resolution: Resolution) => unknown): unknown {
  const { provision } = node;
  if ('useValue' in provision) return provision.useValue;
  const args: unknown[] = [];
  const properties: [string | symbol, unknown][] = [];
  for (const { target, resolution } of node.dependencies) {
    if (target.kind === 'constructor') args[target.index] = valueOf(resolution);
    else properties.push([target.key, valueOf(resolution)]);
  }
  if ('useFactory' in provision) {
    const value = (provision.useFactory as (...deps: unknown[]) => unknown)(...args);
    if (isPromiseLike(value)) {
      // Constructors are synchronous: a Promise would be injected as such, not as what it resolves to.
      value.then(undefined, () => undefined);
      throw new GraphError(
        'ASYNC_PROVIDER',
        `provider '${node.name}' (${node.chain.join(CHAIN_ARROW)}): useFactory returned a Promise; ` +
          'providers are made synchronously before any hook runs: return the value itself, or make it a resource that connects in its start hook',
        node.chain,
      );
    }
    return value;
  }
  const instance = new provision.useClass(...args) as Record<string | symbol, unknown>;
  for (const [key, value] of properties) instance[key] = value;
  for (const method of node.postConstruct) (instance[method] as () => unknown).call(instance);
  return instance;
}
