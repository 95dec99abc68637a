import { performance } from 'node:perf_hooks';
import type { CompressionTypes, Message, Producer } from 'kafkajs';
import { KafkaError } from './errors';
import type { KafkaSettings } from './settings';

interface Pending {
  topic: string;
  message: Message;
  began: number;
  resolve(): void;
  reject(error: Error): void;
  settled: boolean;
}

export interface PublisherHooks {
  /** The cluster acknowledged `count` records of `topic`, `seconds` after each was published. */
  acknowledged(topic: string, seconds: number): void;
  /** A send failed because the cluster went away: the records wait for `attach()` again. */
  lost(error: Error): void;
}

/**
 * One produce request in flight at a time (what an idempotent producer keeps ordered), and every
 * record published meanwhile waits for the next one: under load the batches grow by themselves,
 * with no linger added to a lone record. Records wait here too while the producer is not connected,
 * each bounded by `publish_timeout_ms`: one timer for them all, since every record has the same
 * bound and so the oldest unsettled one is always the next due (a timer per record held 350 bytes
 * of heap for as long as it waited, a third of a pending publish).
 */
export class Publisher {
  private readonly queue: Pending[] = [];
  /** The batch of the produce request in flight, older than anything queued. */
  private inFlight: Pending[] = [];
  private unsettled = 0;
  private deadlineTimer?: NodeJS.Timeout;
  private producer?: Producer;
  private sending = false;
  private lingering?: NodeJS.Timeout;
  private scheduled = false;

  constructor(
    private readonly resource: string,
    private settings: KafkaSettings['producer'],
    private readonly compression: CompressionTypes,
    private readonly hooks: PublisherHooks,
  ) {}

  /** The connected producer, or undefined while there is none: records then wait in the queue. */
  attach(producer: Producer | undefined): void {
    this.producer = producer;
    this.schedule();
  }

  get queued(): number {
    return this.queue.length;
  }

  enqueue(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, began: performance.now(), resolve, reject, settled: false });
      this.unsettled++;
      this.armDeadline();
      this.schedule();
    });
  }

  /** Rejects every record still waiting: the resource is stopping for good. */
  abandon(why: string): void {
    for (const pending of this.queue.splice(0)) {
      this.settle(
        pending,
        new KafkaError(
          'KAFKA_NOT_STARTED',
          `publish('${pending.topic}') on kafka '${this.resource}': ${why}`,
        ),
      );
    }
  }

  /** Resolves once nothing is queued or in flight, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while ((this.sending || this.queue.length > 0) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits for the oldest unsettled record's deadline, unless a wait is already set. */
  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) return;
    const oldest = this.inFlight.find((pending) => !pending.settled) ?? this.queue[0];
    if (oldest === undefined) return;
    const wait = oldest.began + this.settings.publish_timeout_ms - performance.now();
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = undefined;
        this.expire();
        this.armDeadline();
      },
      Math.max(0, wait),
    );
  }

  /** Rejects every record past `publish_timeout_ms`: some of the batch in flight, the front of the queue. */
  private expire(): void {
    const timeoutMs = this.settings.publish_timeout_ms;
    const due = performance.now() - timeoutMs;
    const expired = (pending: Pending) =>
      this.settle(
        pending,
        new KafkaError(
          'KAFKA_PUBLISH_TIMEOUT',
          `publish('${pending.topic}') on kafka '${this.resource}' was not acknowledged within ${timeoutMs} ms (the record may still be written)`,
        ),
      );
    for (const pending of this.inFlight) if (!pending.settled && pending.began <= due) expired(pending);
    let count = 0;
    while (count < this.queue.length && this.queue[count].began <= due) count++;
    for (const pending of this.queue.splice(0, count)) expired(pending);
  }

  private schedule(): void {
    if (
      this.sending ||
      this.producer === undefined ||
      this.queue.length === 0 ||
      this.lingering !== undefined
    )
      return;
    const linger = this.settings.linger_ms;
    if (linger > 0 && this.queue.length < this.settings.batch_max_records) {
      this.lingering = setTimeout(() => {
        this.lingering = undefined;
        void this.send();
      }, linger);
    } else if (!this.scheduled) {
      // After the current turn: the records published in it go together.
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        void this.send();
      });
    }
  }

  private async send(): Promise<void> {
    const producer = this.producer;
    if (this.sending || producer === undefined || this.queue.length === 0) return;
    this.sending = true;
    const batch = this.queue.splice(0, this.settings.batch_max_records);
    this.inFlight = batch;
    const byTopic = new Map<string, Message[]>();
    for (const pending of batch) {
      let messages = byTopic.get(pending.topic);
      if (messages === undefined) byTopic.set(pending.topic, (messages = []));
      messages.push(pending.message);
    }
    try {
      await producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: ACKS[this.settings.acks],
        compression: this.compression,
      });
      const now = performance.now();
      for (const pending of batch) {
        if (!pending.settled) this.hooks.acknowledged(pending.topic, (now - pending.began) / 1000);
        this.settle(pending);
      }
    } catch (error) {
      if (lostCluster(error)) {
        // Kept, in order, for the producer the resource connects once the cluster answers again.
        this.queue.unshift(...batch.filter((pending) => !pending.settled));
        if (this.producer === producer) this.producer = undefined;
        this.hooks.lost(error as Error);
        return;
      }
      const reason = (error as Error).message;
      for (const pending of batch) {
        this.settle(
          pending,
          new KafkaError(
            'KAFKA_PUBLISH_FAILED',
            `publish('${pending.topic}') on kafka '${this.resource}' failed: ${reason}`,
            {
              cause: error,
            },
          ),
        );
      }
    } finally {
      this.inFlight = [];
      this.sending = false;
      this.schedule();
    }
  }

  private settle(pending: Pending, error?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    // Nothing left to time out: no timer holds the process until the last one's deadline.
    if (--this.unsettled === 0) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }
}

/** kafkajs gives up on a connection that stays refused: that is the cluster gone, not the records refused. */
function lostCluster(error: unknown): boolean {
  for (let cause = error as { name?: string; retriable?: boolean; cause?: unknown } | undefined; cause;) {
    if (
      cause.retriable === true ||
      /Connection|Timeout|BrokerNotFound|NumberOfRetriesExceeded/.test(cause.name ?? '')
    ) {
      return true;
    }
    cause = cause.cause as typeof cause;
  }
  return false;
}

const ACKS = { all: -1, leader: 1, none: 0 } as const;
