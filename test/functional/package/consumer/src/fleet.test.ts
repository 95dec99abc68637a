import { HttpServerResource } from 'keel';
import { messageMeta } from 'keel/testing';
import { NotifierService } from './fleet';
import { startFleet, type Fleet } from './fleet-start';

// The kit under jest: AMQP through an in-memory broker, discovery faked, real HTTP between them.
describe('a fleet of two services with keel/testing', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet();
  });

  afterAll(() => fleet?.stop());

  it('publishes stock.low from an HTTP call, and the other service handles it', async () => {
    const { port } = fleet.inventory.get(HttpServerResource).address()!;
    const response = await fetch(`http://127.0.0.1:${port}/stock/ab-1/take`, { method: 'POST' });
    expect(await response.json()).toEqual({ level: 1 });
    await fleet.broker.settled();
    expect(fleet.broker.publishedTo('stock.low')).toEqual([{ sku: 'ab-1', level: 1 }]);
    expect(fleet.notifier.get(NotifierService).notes).toEqual(['stock.low: ab-1 at 1 (attempt 0)']);
  });

  it('delivers a message from the test, and calls a handler with a MessageMeta', async () => {
    await fleet.broker.publish('stock.low', { sku: 'zz-9' });
    const service = fleet.notifier.get(NotifierService);
    await service.onLow({ sku: 'ab-1' }, messageMeta({ routingKey: 'stock.low', attempt: 2 }));
    expect(service.notes.slice(-2)).toEqual([
      'stock.low: zz-9 at 0 (attempt 0)',
      'stock.low: ab-1 at 1 (attempt 2)',
    ]);
  });
});
