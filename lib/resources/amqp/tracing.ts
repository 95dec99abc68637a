import { randomUUID } from 'node:crypto';
import type { ConsumeMessage, Options } from 'amqplib';
import { withRequestId } from '../../context';
import type { Tracing } from '../../tracing';
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
  const span = tracing.startSpan(`${operation} ${destination}`, {
    kind: 'producer',
    attributes: {
      'messaging.system': SYSTEM,
      'messaging.destination.name': destination,
      'messaging.operation.type': 'send',
      'messaging.operation.name': operation,
      'messaging.message.id': messageId,
    },
  });
  const headers: Record<string, unknown> = { ...properties.headers };
  tracing.inject(headers, span);
  return send({ ...properties, messageId, headers }).then(
    (result) => {
      tracing.end(span);
      return result;
    },
    (error: unknown) => {
      tracing.end(span, error);
      throw error;
    },
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
  if (!tracing.enabled) return withRequestId(requestId, handle);
  const { properties, fields } = message;
  const span = tracing.startSpan(`process ${queue}`, {
    kind: 'consumer',
    parent: tracing.extract(properties.headers ?? {}),
    attributes: {
      'messaging.system': SYSTEM,
      'messaging.destination.name': queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': pattern,
      'messaging.rabbitmq.destination.routing_key': fields.routingKey,
      ...(typeof properties.messageId === 'string' && { 'messaging.message.id': properties.messageId }),
      ...(fields.redelivered && { 'messaging.rabbitmq.redelivered': true }),
    },
  });
  return tracing.runAndEnd(span, handle, requestId);
}
