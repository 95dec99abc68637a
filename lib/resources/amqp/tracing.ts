import { randomUUID } from 'node:crypto';
import type { ConsumeMessage, Options } from 'amqplib';
import type { Tracing } from '../../tracing';
import { tracedProcess, tracedProduce } from '../../tracing/messaging';
import type { MessagePattern } from './handlers/decorators';

const SYSTEM = 'rabbitmq';

/**
 * A publish, push or request as a producer span under the span active where it was sent, its trace
 * context in the message's headers for the consumer to continue. Tracing off: `send` as it is.
 */
export function tracedSend<T>(
  tracing: Tracing,
  operation: 'publish' | 'push' | 'request',
  destination: string,
  properties: Options.Publish,
  send: (properties: Options.Publish) => Promise<T>,
): Promise<T> {
  if (!tracing.enabled) return send(properties);
  const messageId = properties.messageId ?? randomUUID();
  return tracedProduce(
    tracing,
    `${operation} ${destination}`,
    {
      'messaging.system': SYSTEM,
      'messaging.destination.name': destination,
      'messaging.operation.type': 'send',
      'messaging.operation.name': operation,
      'messaging.message.id': messageId,
    },
    { ...properties.headers },
    (headers) => send({ ...properties, messageId, headers }),
  );
}

/**
 * A handler's run on one message as a consumer span that continues the sender's trace (or starts
 * one), with `requestId` as the request id inside. Tracing off: the handler with the request id only.
 */
export function tracedConsume(
  tracing: Tracing,
  pattern: MessagePattern,
  queue: string,
  message: ConsumeMessage,
  requestId: string,
  handle: () => unknown,
): unknown {
  const { properties, fields } = message;
  return tracedProcess(
    tracing,
    `process ${queue}`,
    properties.headers ?? {},
    tracing.enabled
      ? {
          'messaging.system': SYSTEM,
          'messaging.destination.name': queue,
          'messaging.operation.type': 'process',
          'messaging.operation.name': pattern,
          'messaging.rabbitmq.destination.routing_key': fields.routingKey,
          ...(typeof properties.messageId === 'string' && { 'messaging.message.id': properties.messageId }),
          ...(fields.redelivered && { 'messaging.rabbitmq.redelivered': true }),
        }
      : {},
    requestId,
    handle,
  );
}
