import type { Log } from '../lifecycle/log';
import { Meta } from '../resources/amqp/handlers/consumer';
import type { MessageMeta } from '../resources/amqp/handlers/decorators';

/** What `messageMeta` may be told; everything else takes a first delivery's value. */
export type MessageMetaFields = Partial<Omit<MessageMeta, 'log'>> & { log?: Log };

const silent: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silent,
};

/**
 * A real `MessageMeta`, the one a consumer hands a handler, for calling a `@subscribe`,
 * `@respond` or `@pull` method directly: `service.onLow(message, messageMeta({ routingKey: 'stock.low' }))`.
 */
export function messageMeta(fields: MessageMetaFields = {}): MessageMeta {
  const pattern = fields.pattern ?? 'subscribe';
  const routingKey = fields.routingKey ?? 'test';
  return new Meta(
    pattern,
    fields.queue ?? routingKey,
    fields.exchange ?? (pattern === 'subscribe' ? 'keel.events' : ''),
    routingKey,
    fields.contentType ?? 'application/json',
    fields.headers ?? {},
    fields.requestId ?? 'test-request',
    fields.attempt ?? 0,
    fields.redelivered ?? false,
    fields.log ?? silent,
  );
}
