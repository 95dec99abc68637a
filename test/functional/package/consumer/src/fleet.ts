// Two services of a fleet: inventory publishes `stock.low`; notifier consumes it and calls
// inventory back by service name through discovery.
import {
  AmqpResource,
  Discovery,
  http,
  HttpClientResource,
  HttpServerResource,
  Microservice,
  microservice,
  resource,
  subscribe,
  type HttpContext,
  type MessageMeta,
} from 'keel';

@resource()
export class Stock {
  private readonly levels = new Map<string, number>([['ab-1', 2]]);

  constructor(private readonly amqp: AmqpResource) {}

  level(sku: string): number {
    return this.levels.get(sku) ?? 0;
  }

  async take(sku: string): Promise<number> {
    const level = this.level(sku) - 1;
    this.levels.set(sku, level);
    if (level < 2) await this.amqp.publish('stock.low', { sku, level });
    return level;
  }
}

@microservice({
  name: 'inventory',
  resources: { http: HttpServerResource, amqp: AmqpResource, stock: Stock },
})
export class InventoryService extends Microservice {
  constructor(private readonly stock: Stock) {
    super();
  }

  @http('POST', '/stock/:sku/take')
  async take(ctx: HttpContext): Promise<{ level: number }> {
    return { level: await this.stock.take(ctx.params.sku) };
  }

  @http('GET', '/stock/:sku')
  level(ctx: HttpContext): { level: number } {
    return { level: this.stock.level(ctx.params.sku) };
  }
}

@microservice({
  name: 'notifier',
  resources: { amqp: AmqpResource, discovery: Discovery, inventory: HttpClientResource },
})
export class NotifierService extends Microservice {
  readonly notes: string[] = [];

  constructor(private readonly inventory: HttpClientResource) {
    super();
  }

  @subscribe('stock.low')
  async onLow(message: { sku: string }, meta: MessageMeta): Promise<void> {
    const response = await this.inventory.get(`/stock/${message.sku}`);
    const { level } = (await response.json()) as { level: number };
    this.notes.push(`${meta.routingKey}: ${message.sku} at ${level} (attempt ${meta.attempt})`);
  }
}
