import { consume, KafkaResource, Microservice, microservice, run, type KafkaMessageMeta } from '../../lib';
import { Order } from './messages';
import { useSampleSettings } from './settings';

/**
 * One member of the group `kafka_orders_workers`: start two and they share the partitions of
 * `orders`; an order's offset is committed only once it is invoiced.
 */
@microservice({ name: 'kafka_orders_worker', resources: { kafka: KafkaResource } })
export class KafkaOrdersWorker extends Microservice {
  @consume('orders', { group: 'kafka_orders_workers', fromBeginning: true, schema: Order })
  invoice(order: Order, meta: KafkaMessageMeta): void {
    meta.log.info(
      { order: order.id, partition: meta.partition },
      `invoiced ${order.quantity} x ${order.sku}`,
    );
  }
}

useSampleSettings();
if (require.main === module) void run(KafkaOrdersWorker);
