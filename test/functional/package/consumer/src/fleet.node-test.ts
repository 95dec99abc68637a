import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AmqpResource, Discovery, HttpServerResource, type App } from 'keel';
import { FakeDiscovery, InMemoryBroker, Test } from 'keel/testing';
import { InventoryService, NotifierService, Stock } from './fleet';

// The same kit under `node --test`.
const broker = new InMemoryBroker();
let inventory: App;
let notifier: App;
const QUIET = { system: { logging: { level: 'error' } } };

before(async () => {
  inventory = await Test.createMicroservice(InventoryService)
    .overrideResource(AmqpResource)
    .useClass(broker.AmqpResource)
    .withSettings(QUIET)
    .withSettings({ system: { resources: { http: { port: 0 } } } })
    .start();
  const { port } = inventory.get(HttpServerResource).address()!;
  notifier = await Test.createMicroservice(NotifierService)
    .overrideResource(AmqpResource)
    .useClass(broker.AmqpResource)
    .overrideResource(Discovery)
    .useValue(new FakeDiscovery({ inventory: [{ port }] }))
    .withSettings(QUIET)
    .withSettings({ system: { resources: { inventory: { service: 'inventory' } } } })
    .start();
});

after(async () => {
  await notifier?.stop();
  await inventory?.stop();
});

test('stock.low published by inventory reaches the notifier, which calls inventory back', async () => {
  await inventory.get(Stock).take('ab-1');
  await broker.settled();
  assert.deepEqual(notifier.get(NotifierService).notes, ['stock.low: ab-1 at 1 (attempt 0)']);
});
