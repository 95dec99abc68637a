import {
  inject,
  METRICS,
  Microservice,
  microservice,
  resource,
  taskTimer,
  type Counter,
  type Gauge,
  type Histogram,
  type MeterFactory,
  type Summary,
} from '../../lib';

/**
 * Orders placed once at start, by channel. Fixed so that a scrape of this sample has a known
 * value to find: `metrics_sample_orders_placed_total{resource="shop",channel="web"} 3`.
 */
export const ORDERS_AT_START: Readonly<Record<string, number>> = { web: 3, mobile: 2 };

/** How often the shop simulates traffic, in ms. */
export const TICK_INTERVAL_MS = 200;

/**
 * Prices a basket. Meter decorators need their meter when the class is defined, and a service's
 * meters exist only once it is created: so the class is defined per factory.
 */
function pricingWith(meters: MeterFactory) {
  const calls = meters.counter('price_calls', { help: 'Baskets priced', labelNames: ['method'] });
  const seconds = meters.histogram('price_duration_seconds', {
    help: 'Time spent pricing a basket',
    labelNames: ['method'],
    buckets: [0.001, 0.01, 0.1],
  });
  const quote = { method: 'quote' };

  class Pricing {
    @(calls.labels(quote).countCalls())
    @(seconds.labels(quote).timeit())
    async quote(items: number): Promise<number> {
      await Promise.resolve();
      return items * 4.5;
    }
  }
  return new Pricing();
}

/** A shop that records every meter type, each with labels, as it simulates orders. */
@resource()
export class Shop {
  private readonly placed: Counter;
  private readonly cartItems: Gauge;
  private readonly orderValue: Summary;
  private readonly orderSize: Histogram;
  private readonly pricing: ReturnType<typeof pricingWith>;
  private ticks = 0;

  constructor(@inject(METRICS) meters: MeterFactory) {
    this.placed = meters.counter('orders_placed', { help: 'Orders placed', labelNames: ['channel'] });
    this.cartItems = meters.gauge('cart_items', { help: 'Items in open carts', labelNames: ['channel'] });
    this.orderValue = meters.summary('order_value_euros', {
      help: 'Value of an order',
      labelNames: ['channel'],
    });
    this.orderSize = meters.histogram('order_size_items', {
      help: 'Items in an order',
      labelNames: ['channel'],
      buckets: [1, 2, 5, 10],
    });
    this.pricing = pricingWith(meters);
  }

  start(): void {
    for (const [channel, orders] of Object.entries(ORDERS_AT_START)) {
      for (let order = 0; order < orders; order++) this.placed.labels({ channel }).inc();
    }
  }

  /** Simulated traffic: moves every meter but the orders counter, which stays at its known value. */
  async tick(): Promise<void> {
    const channel = this.ticks++ % 2 === 0 ? 'web' : 'mobile';
    const items = 1 + (this.ticks % 7);
    this.cartItems.labels({ channel }).set(items);
    this.orderSize.labels({ channel }).observe(items);
    this.orderValue.labels({ channel }).observe(await this.pricing.quote(items));
  }
}

@microservice({ name: 'metrics_sample', resources: { shop: Shop } })
export class MetricsSample extends Microservice {
  constructor(private readonly shop: Shop) {
    super();
  }

  @taskTimer({ interval: TICK_INTERVAL_MS, autostart: true })
  async simulateTraffic(): Promise<void> {
    await this.shop.tick();
  }
}
