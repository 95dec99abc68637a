import { DeliveryTracker } from '../../../lib/logging/delivery';

describe('DeliveryTracker', () => {
  it('resolves at once when nothing is pending', async () => {
    await expect(new DeliveryTracker().whenSettled()).resolves.toBeUndefined();
  });

  it('waits only for what was accepted before the call, not for later records', async () => {
    const tracker = new DeliveryTracker();
    const order: string[] = [];
    tracker.accept(2);
    const first = tracker.whenSettled().then(() => order.push('first'));
    tracker.accept(3);
    const second = tracker.whenSettled().then(() => order.push('second'));

    tracker.settle(1);
    await Promise.resolve();
    expect(order).toEqual([]);
    tracker.settle(1);
    await first;
    expect(order).toEqual(['first']);

    tracker.settle(3);
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('settles a record whose write failed and reports the error', async () => {
    const tracker = new DeliveryTracker();
    const failures: string[] = [];
    const callback = tracker.writeCallback((error) => failures.push(error.message));
    tracker.accept(2);
    callback(null);
    callback(new Error('EPIPE'));

    await tracker.whenSettled();
    expect(failures).toEqual(['EPIPE']);
  });
});
