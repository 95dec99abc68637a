import { Type } from '@sinclair/typebox';
import {
  AmqpRequestError,
  AmqpResource,
  defineRoute,
  http,
  HttpServerResource,
  Microservice,
  microservice,
  reply,
  run,
  type RouteContext,
} from '../../lib';
import { ErrorBody, InvoiceJob, NewOrder, Order, QuoteRequest, type Quote } from './messages';
import { useSampleSettings } from './settings';

const createOrder = defineRoute('POST', '/orders', {
  body: NewOrder,
  responses: { 201: Order, 422: ErrorBody },
  summary: 'Place an order: priced by the pricing service, announced, invoiced by a worker',
  tags: ['orders'],
});

const listOrders = defineRoute('GET', '/orders', {
  responses: { 200: Type.Array(Order) },
  summary: 'The orders placed so far',
  tags: ['orders'],
});

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

  @http(createOrder)
  async create(ctx: RouteContext<typeof createOrder>) {
    const { sku, quantity } = ctx.request.body;
    let quote: Quote;
    try {
      quote = await this.amqp.request<Quote, typeof QuoteRequest>(
        'price.quote',
        { sku, quantity },
        { timeout_ms: 2000, schema: QuoteRequest },
      );
    } catch (error) {
      if (error instanceof AmqpRequestError && error.code === 'AMQP_REMOTE_ERROR')
        return reply(422, { error: error.message });
      throw error;
    }
    const order: Order = { id: this.orders.length + 1, sku, quantity, total: quote.total };
    this.orders.push(order);
    const requestId = ctx.state.requestId;
    await this.amqp.publish('orders.created', order, { requestId, schema: Order });
    await this.amqp.push('jobs', { kind: 'invoice', order }, { requestId, schema: InvoiceJob });
    return reply(201, order);
  }

  @http(listOrders)
  list(): Order[] {
    return this.orders;
  }
}

useSampleSettings();
if (require.main === module) void run(OrdersApi);
