import { CHAIN_ARROW, GraphError } from '../../../container/errors';
import type { ResourceGraph } from '../../../container/graph';
import { AmqpResource } from '../resource';
import { handlersOfPrototype } from './decorators';

/** A graph check: `@subscribe`, `@respond` and `@pull` handlers need an AmqpResource to consume for them. */
export function requireAmqpForHandlers(graph: ResourceGraph): void {
  const classes = graph.nodes.map((node) =>
    'useClass' in node.provision ? node.provision.useClass : undefined,
  );
  // An AmqpResource a test replaced (a value, a factory) is still the one the service declared.
  const amqp = [...classes, ...graph.nodes.map((node) => node.declaredClass)];
  if (
    amqp.some((cls) => cls !== undefined && (cls === AmqpResource || cls.prototype instanceof AmqpResource))
  ) {
    return;
  }
  for (const [index, cls] of classes.entries()) {
    const handlers = cls === undefined ? [] : handlersOfPrototype(cls.prototype as object);
    if (handlers.length === 0) continue;
    const node = graph.nodes[index];
    const shown = handlers.map((handler) => `@${handler.pattern}('${handler.target}')`).join(', ');
    throw new GraphError(
      'AMQP_NO_RESOURCE',
      `${node.chain.join(CHAIN_ARROW)}: ${cls!.name} declares ${shown} but ${graph.serviceName} has no AmqpResource to consume for them; list one in its resources`,
      node.chain,
    );
  }
}
