import { declaredPrototype, type ResourceGraph } from '../../../container/graph';
import { asyncApiIdentifier, asyncApiMessage, type AsyncApiParts } from '../../../contracts';
import { consumersOfPrototype } from '../decorators';
import { KafkaResource } from '../resource';

const BINDING_VERSION = '0.5.0';

/**
 * The Kafka part of the service's AsyncAPI document, read from the classes of the graph: a channel
 * per topic a `@consume` reads, a `receive` operation per handler with its consumer group in the
 * Kafka binding, each record's payload schema.
 */
export function kafkaAsyncApi(graph: ResourceGraph): AsyncApiParts {
  const resources = graph.nodes
    .filter((node) => {
      const prototype = declaredPrototype(node);
      return prototype instanceof KafkaResource || prototype === KafkaResource.prototype;
    })
    .map((node) => node.name);
  const parts: AsyncApiParts = { channels: {}, operations: {}, messages: {} };
  for (const node of graph.nodes) {
    for (const consumer of consumersOfPrototype(declaredPrototype(node))) {
      const resource = consumer.resource ?? (resources.length === 1 ? resources[0] : undefined);
      if (resource === undefined) continue;
      const owner = `${node.name}.${String(consumer.key)}`;
      const id = asyncApiIdentifier(`${resource}.consume.${consumer.topic}`);
      const message = asyncApiIdentifier(`${owner}.message`);
      parts.messages[message] = asyncApiMessage(consumer.schema, undefined);
      const channel = (parts.channels[id] ??= {
        address: consumer.topic,
        messages: {},
        bindings: { kafka: { topic: consumer.topic, bindingVersion: BINDING_VERSION } },
      }) as { messages: Record<string, unknown> };
      channel.messages[message] = { $ref: `#/components/messages/${message}` };
      const group = consumer.group ?? `${graph.serviceName}.${consumer.topic}`;
      parts.operations[asyncApiIdentifier(owner)] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
        bindings: {
          kafka: { groupId: { type: 'string', enum: [group] }, bindingVersion: BINDING_VERSION },
        },
      };
    }
  }
  return parts;
}
