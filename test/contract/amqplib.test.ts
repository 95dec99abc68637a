// amqplib's internals Keel relies on (amqp/connection/link.ts): the socket a ChannelModel keeps in
// `connection.stream`, which the link corks for the rest of each turn, and the text of a nacked
// publish's error (amqplib gives it no code), against a real broker on the pinned version.
import * as amqplib from 'amqplib';
import { Socket } from 'node:net';
import { FALLBACK_WARNING } from '../../lib/internals/reach';
import { warnings } from '../support/warnings';
import { coalesceWrites } from '../../lib/resources/amqp/connection/link';
import { describeWithRabbitmq, RabbitBroker } from '../support/rabbitmq';

describeWithRabbitmq("amqplib's connection socket and nack error", () => {
  let broker: RabbitBroker;
  let model: amqplib.ChannelModel;

  beforeAll(async () => {
    broker = await RabbitBroker.start();
    model = await amqplib.connect(broker.url);
  });

  afterAll(async () => {
    await model?.close();
    await broker?.stop();
  });

  it('keeps its socket in connection.stream, which the link corks, and frames still arrive', async () => {
    const seen = warnings();
    expect((model.connection as unknown as { stream: unknown }).stream).toBeInstanceOf(Socket);
    coalesceWrites(model, true);
    seen.stop();
    expect(seen.codes).toEqual([]);
    const channel = await model.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    for (let index = 0; index < 20; index++) channel.sendToQueue(queue, Buffer.from(String(index)));
    await channel.waitForConfirms();
    expect((await channel.checkQueue(queue)).messageCount).toBe(20);
    await channel.close();
  });

  it("says 'message nacked' for a publish the broker refuses, the text link.ts matches", async () => {
    const channel = await model.createConfirmChannel();
    // A full queue that refuses publishes: the broker nacks each.
    const { queue } = await channel.assertQueue('', {
      exclusive: true,
      arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
    });
    const refused = new Promise<Error | null>((resolve) =>
      channel.sendToQueue(queue, Buffer.from('x'), {}, (error: Error | null) => resolve(error)),
    );
    expect((await refused)?.message).toBe('message nacked');
    await channel.close();
  });

  it('leaves the writes to amqplib, and says so once, when the connection has no socket there', () => {
    const seen = warnings();
    const without = { connection: {} } as unknown as amqplib.ChannelModel;
    coalesceWrites(without, true);
    coalesceWrites(without, true);
    // The testing kit's transport has no socket by design: nothing to say.
    coalesceWrites(without, false);
    seen.stop();
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
  });
});
