import type { Producer } from 'kafkajs';
import { Publisher } from '../../../lib/resources/kafka/publisher';
import type { KafkaSettings } from '../../../lib/resources/kafka/settings';

const producerSettings = (publishTimeoutMs: number): KafkaSettings['producer'] => ({
  idempotent: true,
  acks: 'all',
  compression: 'none',
  linger_ms: 0,
  batch_max_records: 2,
  publish_timeout_ms: publishTimeoutMs,
});

const hooks = { acknowledged: () => undefined, lost: () => undefined };

/** A producer whose sends stay unanswered until `answer()` acknowledges every one of them. */
function heldProducer() {
  const held: Array<() => void> = [];
  const batches: string[][] = [];
  const producer = {
    sendBatch: ({ topicMessages }: { topicMessages: Array<{ messages: Array<{ value: Buffer }> }> }) => {
      batches.push(topicMessages.flatMap(({ messages }) => messages.map(({ value }) => value.toString())));
      return new Promise<[]>((resolve) => held.push(() => resolve([])));
    },
  } as unknown as Producer;
  return { producer, batches, answer: () => held.splice(0).forEach((resolve) => resolve()) };
}

const record = (value: string) => ({ key: null, value: Buffer.from(value) });
const outcome = (publish: Promise<void>) =>
  publish.then(
    () => 'acknowledged',
    (error: { code?: string }) => error.code,
  );

describe('Kafka Publisher: publish_timeout_ms', () => {
  it('rejects queued records (no producer yet) and records in flight once their bound passes, oldest first', async () => {
    const publisher = new Publisher('kafka', producerSettings(30), 0, hooks);
    const settled: string[] = [];
    const track = (name: string, publish: Promise<void>) =>
      outcome(publish).then((result) => settled.push(`${name}:${result}`));
    const queued = [
      track('a', publisher.enqueue('t', record('a'))),
      track('b', publisher.enqueue('t', record('b'))),
    ];
    await Promise.all(queued);
    expect(settled).toEqual(['a:KAFKA_PUBLISH_TIMEOUT', 'b:KAFKA_PUBLISH_TIMEOUT']);
    expect(publisher.queued).toBe(0);

    const { producer, batches } = heldProducer();
    publisher.attach(producer);
    const first = track('c', publisher.enqueue('t', record('c')));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = track('d', publisher.enqueue('t', record('d')));
    await Promise.all([first, second]);
    // c went alone (published in a turn of its own), d waited behind it: each got its own full bound.
    expect(batches).toEqual([['c']]);
    expect(settled.slice(2)).toEqual(['c:KAFKA_PUBLISH_TIMEOUT', 'd:KAFKA_PUBLISH_TIMEOUT']);
  });

  it('keeps one timer for every waiting record, and none once they are acknowledged', async () => {
    // Only setTimeout is faked: the count is of this publisher's timers, not of the whole worker's.
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
      ],
    });
    try {
      const publisher = new Publisher('kafka', producerSettings(60_000), 0, hooks);
      const { producer, batches, answer } = heldProducer();
      publisher.attach(producer);
      const published = ['a', 'b', 'c'].map((value) => outcome(publisher.enqueue('t', record(value))));
      expect(jest.getTimerCount()).toBe(1);
      for (let sent = 1; sent <= 2; sent++) {
        await until(() => batches.length === sent);
        answer();
      }
      expect(await Promise.all(published)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
      expect(batches).toEqual([['a', 'b'], ['c']]);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('bounds a record published after the earlier ones were acknowledged', async () => {
    const publisher = new Publisher('kafka', producerSettings(20), 0, hooks);
    const { producer, batches, answer } = heldProducer();
    publisher.attach(producer);
    const first = outcome(publisher.enqueue('t', record('a')));
    await until(() => batches.length === 1);
    answer();
    expect(await first).toBe('acknowledged');
    expect(await outcome(publisher.enqueue('t', record('b')))).toBe('KAFKA_PUBLISH_TIMEOUT');
  });
});

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}
