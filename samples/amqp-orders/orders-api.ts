import {
  AmqpRequestError,
  AmqpResource,
  http,
  HttpServerResource,
  Microservice,
  microservice,
  reply,
  run,
  type HttpContext,
  type HttpReply,
} from '../../lib';
import type { Order, Quote } from './messages';
import { useSampleSettings } from './settings';

/**
 * `POST /orders {sku, quantity}`: asks the pricing service for a quote (request/response), then
 * announces `orders.created` (publish/subscribe) and leaves the invoice to a worker (push/pull).
 */
@microservice({ name: 'orders_api', resources: { http: HttpServerResource, amqp: AmqpResource } })
export class OrdersApi extends Microservice {
  private readonly orders: Order[] = [];

  constructor(private readonly amqp: AmqpResource) {
    super();
  }

  @http('POST', '/orders')
  async create(ctx: HttpContext): Promise<HttpReply<Order | { error: string }>> {
    const { sku, quantity } = ctx.state.body as { sku: string; quantity: number };
    let quote: Quote;
    try {
      quote = await this.amqp.request<Quote>('price.quote', { sku, quantity }, { timeout_ms: 2000 });
    } catch (error) {
      if (error instanceof AmqpRequestError && error.code === 'AMQP_REMOTE_ERROR')
        return reply(422, { error: error.message });
      throw error;
    }
    const order: Order = { id: this.orders.length + 1, sku, quantity, total: quote.total };
    this.orders.push(order);
    const requestId = ctx.state.requestId;
    await this.amqp.publish('orders.created', order, { requestId });
    await this.amqp.push('jobs', { kind: 'invoice', order }, { requestId });
    return reply(201, order);
  }

  @http('GET', '/orders')
  list(): Order[] {
    return this.orders;
  }
}

useSampleSettings();
if (require.main === module) void run(OrdersApi);
