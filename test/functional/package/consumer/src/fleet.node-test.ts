import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { NotifierService, Stock } from './fleet';
import { startFleet, type Fleet } from './fleet-start';

// The same kit under `node --test`.
let fleet: Fleet;

before(async () => {
  fleet = await startFleet();
});

after(() => fleet?.stop());

test('stock.low published by inventory reaches the notifier, which calls inventory back', async () => {
  await fleet.inventory.get(Stock).take('ab-1');
  await fleet.broker.settled();
  assert.deepEqual(fleet.notifier.get(NotifierService).notes, ['stock.low: ab-1 at 1 (attempt 0)']);
});
