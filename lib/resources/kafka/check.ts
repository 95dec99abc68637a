import { CHAIN_ARROW, GraphError } from '../../container/errors';
import type { ResourceGraph } from '../../container/graph';
import { consumersOfPrototype } from './decorators';
import { KafkaResource } from './resource';

/** A graph check: `@consume` handlers need a KafkaResource to consume for them. */
export function requireKafkaForConsumers(graph: ResourceGraph): void {
  const classes = graph.nodes.map((node) =>
    'useClass' in node.provision ? node.provision.useClass : undefined,
  );
  if (
    classes.some(
      (cls) => cls !== undefined && (cls === KafkaResource || cls.prototype instanceof KafkaResource),
    )
  ) {
    return;
  }
  for (const [index, cls] of classes.entries()) {
    const declared = cls === undefined ? [] : consumersOfPrototype(cls.prototype as object);
    if (declared.length === 0) continue;
    const node = graph.nodes[index];
    const shown = declared.map((consumer) => `@consume('${consumer.topic}')`).join(', ');
    throw new GraphError(
      'KAFKA_NO_RESOURCE',
      `${node.chain.join(CHAIN_ARROW)}: ${cls!.name} declares ${shown} but ${graph.serviceName} has no KafkaResource to consume for them; list one in its resources`,
      node.chain,
    );
  }
}
