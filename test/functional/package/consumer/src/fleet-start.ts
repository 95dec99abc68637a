import { AmqpResource, Discovery, HttpServerResource, type App } from 'keel';
import { FakeDiscovery, InMemoryBroker, Test } from 'keel/testing';
import { InventoryService, NotifierService } from './fleet';

export interface Fleet {
  broker: InMemoryBroker;
  inventory: App;
  notifier: App;
  stop(): Promise<void>;
}

/** Both services on one in-memory broker, the notifier finding inventory through a FakeDiscovery. */
export async function startFleet(): Promise<Fleet> {
  const broker = new InMemoryBroker();
  const quiet = { system: { logging: { level: 'error' } } };
  const inventory = await Test.createMicroservice(InventoryService)
    .overrideResource(AmqpResource)
    .useClass(broker.AmqpResource)
    .withSettings(quiet)
    .withSettings({ system: { resources: { http: { port: 0 } } } })
    .start();
  const { port } = inventory.get(HttpServerResource).address()!;
  const notifier = await Test.createMicroservice(NotifierService)
    .overrideResource(AmqpResource)
    .useClass(broker.AmqpResource)
    .overrideResource(Discovery)
    .useValue(new FakeDiscovery({ inventory: [{ port }] }))
    .withSettings(quiet)
    .withSettings({ system: { resources: { inventory: { service: 'inventory' } } } })
    .start();
  return {
    broker,
    inventory,
    notifier,
    stop: async () => {
      await notifier.stop();
      await inventory.stop();
    },
  };
}
