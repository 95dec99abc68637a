import { AmqpResource, Discovery, HttpServerResource, type App } from 'keel';
import { FakeDiscovery, InMemoryBroker, messageMeta, Test } from 'keel/testing';
import { InventoryService, NotifierService } from './fleet';

// The kit under jest: AMQP through an in-memory broker, discovery faked, real HTTP between them.
describe('a fleet of two services with keel/testing', () => {
  const broker = new InMemoryBroker();
  let inventory: App;
  let notifier: App;

  beforeAll(async () => {
    inventory = await Test.createMicroservice(InventoryService)
      .overrideResource(AmqpResource)
      .useClass(broker.AmqpResource)
      .withSettings({ system: { logging: { level: 'error' }, resources: { http: { port: 0 } } } })
      .start();
    const { port } = inventory.get(HttpServerResource).address()!;
    notifier = await Test.createMicroservice(NotifierService)
      .overrideResource(AmqpResource)
      .useClass(broker.AmqpResource)
      .overrideResource(Discovery)
      .useValue(new FakeDiscovery({ inventory: [{ port }] }))
      .withSettings({
        system: { logging: { level: 'error' }, resources: { inventory: { service: 'inventory' } } },
      })
      .start();
  });

  afterAll(async () => {
    await notifier?.stop();
    await inventory?.stop();
  });

  it('publishes stock.low from an HTTP call, and the other service handles it', async () => {
    const { port } = inventory.get(HttpServerResource).address()!;
    const response = await fetch(`http://127.0.0.1:${port}/stock/ab-1/take`, { method: 'POST' });
    expect(await response.json()).toEqual({ level: 1 });
    await broker.settled();
    expect(broker.publishedTo('stock.low')).toEqual([{ sku: 'ab-1', level: 1 }]);
    expect(notifier.get(NotifierService).notes).toEqual(['stock.low: ab-1 at 1 (attempt 0)']);
  });

  it('delivers a message from the test, and calls a handler with a MessageMeta', async () => {
    await broker.publish('stock.low', { sku: 'zz-9' });
    const service = notifier.get(NotifierService);
    await service.onLow({ sku: 'ab-1' }, messageMeta({ routingKey: 'stock.low', attempt: 2 }));
    expect(service.notes.slice(-2)).toEqual([
      'stock.low: zz-9 at 0 (attempt 0)',
      'stock.low: ab-1 at 1 (attempt 2)',
    ]);
  });
});
