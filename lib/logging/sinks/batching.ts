import { Backoff } from '../../resilience/backoff';
import { DeliveryTracker } from '../delivery';
import { OutageReporter } from '../outage';
import { safeJson, type LogEntry } from '../record';
import { toLogstashEvent } from './logstash-event';
import type { LogSink, SinkContext } from './types';

export interface BatchingOptions {
  /** A batch this big is sent at once. */
  maxRecords: number;
  /** No record waits longer than this for a batch to fill (while the receiver answers). */
  maxTimeMs: number;
  /** Records held (queued and in flight) while the receiver is slow or down; more are dropped and counted. */
  maxQueueRecords: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** The `host` field of each event. */
  hostName: string;
}

export type Outcome = { ok: true } | { ok: false; retry: boolean; reason: string };

/**
 * Logstash v1 events sent in batches, one batch at a time so they arrive in order. A failed batch
 * stays at the head and is retried on the policy module's jittered schedule; meanwhile new records queue up to the
 * bound, and what is beyond it is dropped and counted. A subclass says how a batch is sent.
 */
export abstract class BatchingSink implements LogSink {
  private readonly delivery = new DeliveryTracker();
  private readonly outage: OutageReporter;
  private queue: string[] = [];
  private inFlight = 0;
  private enqueued = 0;
  private dequeued = 0;
  /** Records enqueued up to this count go out without waiting for a full batch (timer, flush, close). */
  private dueThrough = 0;
  private pumping = false;
  private batchTimer: NodeJS.Timeout | undefined;
  /** While closing: no attempt starts, and none may outlive, this epoch ms. */
  protected deadline = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;

  constructor(
    /** Label of the stream in dropped-record counts and warnings. */
    readonly name: string,
    private readonly batching: BatchingOptions,
    private readonly context: SinkContext,
  ) {
    this.outage = new OutageReporter(name, context.warn, () => context.drops.of(name));
  }

  /** Sends one batch of JSON events; resolves with what the receiver said, never rejects. */
  protected abstract send(batch: readonly string[]): Promise<Outcome>;

  /** Releases sockets once the last batch is sent or given up. */
  protected abstract release(): void | Promise<void>;

  write(entry: LogEntry): void {
    if (this.queue.length + this.inFlight >= this.batching.maxQueueRecords) {
      this.outage.trouble('queue full', `records beyond ${this.batching.maxQueueRecords} queued are dropped`);
      this.drop(1);
      return;
    }
    this.delivery.accept();
    this.queue.push(safeJson(toLogstashEvent(entry.record, this.batching.hostName)));
    this.enqueued++;
    this.schedule();
  }

  flush(): Promise<void> {
    this.markDue();
    return this.delivery.whenSettled();
  }

  async close(deadline: number): Promise<void> {
    this.deadline = deadline;
    this.wake?.();
    await this.flush();
    clearTimeout(this.batchTimer);
    await this.release();
  }

  private markDue(): void {
    this.dueThrough = this.enqueued;
    this.schedule();
  }

  private hasBatch(): boolean {
    const queued = this.queue.length;
    return queued >= this.batching.maxRecords || (queued > 0 && this.dequeued < this.dueThrough);
  }

  private schedule(): void {
    if (this.pumping) return;
    if (this.hasBatch()) {
      void this.pump();
    } else if (this.queue.length > 0 && this.batchTimer === undefined) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.markDue();
      }, this.batching.maxTimeMs);
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.hasBatch()) {
      const batch = this.queue.splice(0, this.batching.maxRecords);
      this.dequeued += batch.length;
      this.inFlight = batch.length;
      await this.deliver(batch);
      this.inFlight = 0;
      this.delivery.settle(batch.length);
    }
    this.pumping = false;
    this.schedule();
  }

  private async deliver(batch: string[]): Promise<void> {
    const backoff = new Backoff({ initialMs: this.batching.backoffMs, maxMs: this.batching.maxBackoffMs });
    for (;;) {
      if (Date.now() >= this.deadline) {
        this.drop(batch.length);
        return;
      }
      const outcome = await this.send(batch);
      if (outcome.ok) {
        if (this.queue.length < this.batching.maxRecords) this.outage.clear();
        return;
      }
      if (!outcome.retry) {
        this.outage.trouble(outcome.reason, 'rejected batches are dropped');
        this.drop(batch.length);
        return;
      }
      this.outage.trouble(
        outcome.reason,
        `records are queued up to ${this.batching.maxQueueRecords}, then dropped`,
      );
      await this.pause(Math.min(backoff.next(), this.deadline - Date.now()));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private drop(count: number): void {
    this.context.drops.add(this.name, count);
  }
}
