import { declaredPrototype, type ResourceGraph } from '../../../container/graph';
import {
  asyncApiIdentifier as identifier,
  asyncApiMessage as messageOf,
  type AsyncApiParts,
} from '../../../contracts';
import { handlersOfPrototype, type DeclaredHandler } from '../handlers/decorators';
import { AmqpResource } from '../resource';
import { amqpSchema } from '../settings';

const BINDING_VERSION = '0.3.0';

/** The names of the graph's AMQP resources, from their classes: nothing is constructed. */
export function amqpResourcesOf(graph: ResourceGraph): string[] {
  return graph.nodes
    .filter((node) => {
      const prototype = declaredPrototype(node);
      return prototype instanceof AmqpResource || prototype === AmqpResource.prototype;
    })
    .map((node) => node.name);
}

/**
 * The AMQP part of the service's AsyncAPI document, read from the classes of the graph: a channel
 * per topic pattern, work queue or request key with its AMQP binding (exchange, routing key, queue),
 * a `receive` operation per handler (with its reply for `@respond`), each message's payload schema.
 * The exchange is the `exchange` setting's default (settings are not read).
 */
export function amqpAsyncApi(graph: ResourceGraph): AsyncApiParts {
  const resources = amqpResourcesOf(graph);
  const exchange = {
    name: amqpSchema.exchange.default,
    type: 'topic',
    durable: true,
    autoDelete: false,
    vhost: '/',
  };
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const node of graph.nodes) {
    for (const handler of handlersOfPrototype(declaredPrototype(node))) {
      const resource = handler.resource ?? (resources.length === 1 ? resources[0] : undefined);
      if (resource === undefined) continue;
      const owner = `${node.name}.${String(handler.key)}`;
      const id = identifier(`${resource}.${handler.pattern}.${handler.target}`);
      const message = identifier(`${owner}.message`);
      messages[message] = messageOf(handler.options.schema, handler.options.summary);
      channels[id] = {
        address: handler.target,
        messages: { [message]: { $ref: `#/components/messages/${message}` } },
        ...(handler.pattern === 'subscribe' && {
          description: `Consumed from the queue ${handler.queue ?? `${graph.serviceName}.${handler.target}`}, shared by the service's instances`,
        }),
        bindings: { amqp: channelBinding(handler, exchange) },
      };
      const operation: Record<string, unknown> = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
        ...(handler.options.summary !== undefined && { summary: handler.options.summary }),
      };
      if (handler.pattern === 'respond') {
        const replyId = `${id}.reply`;
        const replyMessage = identifier(`${owner}.reply`);
        messages[replyMessage] = messageOf(handler.options.reply, undefined);
        channels[replyId] = {
          address: null,
          messages: { [replyMessage]: { $ref: `#/components/messages/${replyMessage}` } },
        };
        operation.reply = {
          address: { location: '$message.header#/replyTo' },
          channel: { $ref: `#/channels/${replyId}` },
          messages: [{ $ref: `#/channels/${replyId}/messages/${replyMessage}` }],
        };
      }
      operations[identifier(owner)] = operation;
    }
  }
  return { channels, operations, messages };
}

function channelBinding(
  handler: DeclaredHandler,
  exchange: Record<string, unknown>,
): Record<string, unknown> {
  if (handler.pattern === 'subscribe') {
    // A topic on the exchange (the binding's `is: routingKey` has no queue: the channel says it).
    return { is: 'routingKey', exchange, bindingVersion: BINDING_VERSION };
  }
  // @pull's durable work queue, or @respond's queue named by its routing key (the default exchange).
  return {
    is: 'queue',
    queue: {
      name: handler.target,
      durable: handler.pattern === 'pull',
      exclusive: false,
      autoDelete: false,
      vhost: '/',
    },
    bindingVersion: BINDING_VERSION,
  };
}
