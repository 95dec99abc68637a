import { setTimeout as sleep } from 'node:timers/promises';
import { AmqpResource, Microservice, microservice, pull, run, subscribe, type MessageMeta } from '../../lib';
import { InvoiceJob, Order } from './messages';
import { useSampleSettings } from './settings';

/**
 * Pulls invoice jobs (acked only once invoiced; a failure is retried, then dead-lettered to
 * `jobs.dead`) and hears every `orders.*` event. Run several: they share the work.
 */
@microservice({ name: 'orders_worker', resources: { amqp: AmqpResource } })
export class OrdersWorker extends Microservice {
  @pull('jobs', { schema: InvoiceJob, summary: 'Invoice an order' })
  async invoice(job: InvoiceJob, meta: MessageMeta): Promise<void> {
    await sleep(50);
    meta.log.info({ order: job.order.id }, `invoiced order ${job.order.id}: ${job.order.total}`);
  }

  @subscribe('orders.*', { schema: Order, summary: 'Every order event' })
  heard(order: Order, meta: MessageMeta): void {
    meta.log.info({ order: order.id, topic: meta.routingKey }, `${meta.routingKey}: order ${order.id}`);
  }
}

useSampleSettings();
if (require.main === module) void run(OrdersWorker);
