import { randomUUID } from 'node:crypto';
import {
  http,
  HttpServerResource,
  KafkaResource,
  Microservice,
  microservice,
  reply,
  run,
  type HttpContext,
  type HttpReply,
} from '../../lib';
import { Order } from './messages';
import { useSampleSettings } from './settings';

/** `POST /orders {sku, quantity}`: 202 once the cluster has the order (acks=all), keyed by SKU. */
@microservice({ name: 'kafka_orders_api', resources: { http: HttpServerResource, kafka: KafkaResource } })
export class KafkaOrdersApi extends Microservice {
  constructor(private readonly kafka: KafkaResource) {
    super();
  }

  @http('POST', '/orders')
  async create(ctx: HttpContext): Promise<HttpReply<Order>> {
    const { sku, quantity } = ctx.state.body as { sku: string; quantity: number };
    const order: Order = { id: randomUUID(), sku, quantity };
    await this.kafka.publish('orders', order, { key: sku, requestId: ctx.state.requestId, schema: Order });
    return reply(202, order);
  }
}

useSampleSettings();
if (require.main === module) void run(KafkaOrdersApi);
