import http from 'node:http';
import type Https from 'node:https';
import { DeliveryTracker } from '../delivery';
import { OutageReporter } from '../outage';
import { safeJson, type LogEntry } from '../record';
import { toLogstashEvent } from './logstash-event';
import type { LogSink, SinkContext } from './types';

export interface LogstashHttpOptions {
  url: string;
  /** Basic auth when not empty. */
  user: string;
  password: string;
  /** A batch this big is sent at once. */
  maxRecords: number;
  /** No record waits longer than this for a batch to fill (while logstash answers). */
  maxTimeMs: number;
  /** Records held (queued and in flight) while logstash is slow or down; more are dropped and counted. */
  maxQueueRecords: number;
  backoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  /** The `host` field of each event. */
  hostName: string;
}

type Outcome = { ok: true } | { ok: false; retry: boolean; reason: string };

/**
 * Bulk POSTs of JSON arrays of logstash v1 events, one request at a time so batches arrive in
 * order. A failed batch stays at the head and is retried with exponential backoff; meanwhile new
 * records queue up to the bound.
 */
export class LogstashHttpSink implements LogSink {
  readonly name = 'logstash_http';
  private readonly delivery = new DeliveryTracker();
  private readonly outage: OutageReporter;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private queue: string[] = [];
  private inFlight = 0;
  private enqueued = 0;
  private dequeued = 0;
  /** Records enqueued up to this count go out without waiting for a full batch (timer, flush, close). */
  private dueThrough = 0;
  private pumping = false;
  private batchTimer: NodeJS.Timeout | undefined;
  private deadline = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: LogstashHttpOptions,
    private readonly context: SinkContext,
  ) {
    this.url = new URL(options.url);
    const Agent = this.url.protocol === 'https:' ? https().Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
    this.headers = { 'content-type': 'application/json' };
    if (options.user !== '') {
      const credentials = Buffer.from(`${options.user}:${options.password}`).toString('base64');
      this.headers.authorization = `Basic ${credentials}`;
    }
    this.outage = new OutageReporter(this.name, context.warn, () => context.drops.of(this.name));
  }

  write(entry: LogEntry): void {
    if (this.queue.length + this.inFlight >= this.options.maxQueueRecords) {
      this.outage.trouble('queue full', `records beyond ${this.options.maxQueueRecords} queued are dropped`);
      this.drop(1);
      return;
    }
    this.delivery.accept();
    this.queue.push(safeJson(toLogstashEvent(entry.record, this.options.hostName)));
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
    this.agent.destroy();
  }

  private markDue(): void {
    this.dueThrough = this.enqueued;
    this.schedule();
  }

  private hasBatch(): boolean {
    const queued = this.queue.length;
    return queued >= this.options.maxRecords || (queued > 0 && this.dequeued < this.dueThrough);
  }

  private schedule(): void {
    if (this.pumping) return;
    if (this.hasBatch()) {
      void this.pump();
    } else if (this.queue.length > 0 && this.batchTimer === undefined) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        this.markDue();
      }, this.options.maxTimeMs);
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.hasBatch()) {
      const batch = this.queue.splice(0, this.options.maxRecords);
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
    let backoff = this.options.backoffMs;
    for (;;) {
      if (Date.now() >= this.deadline) {
        this.drop(batch.length);
        return;
      }
      const outcome = await this.post(batch);
      if (outcome.ok) {
        if (this.queue.length < this.options.maxRecords) this.outage.clear();
        return;
      }
      if (!outcome.retry) {
        this.outage.trouble(outcome.reason, 'rejected batches are dropped');
        this.drop(batch.length);
        return;
      }
      this.outage.trouble(
        outcome.reason,
        `records are queued up to ${this.options.maxQueueRecords}, then dropped`,
      );
      await this.pause(Math.min(backoff, this.deadline - Date.now()));
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
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

  private post(batch: string[]): Promise<Outcome> {
    const body = `[${batch.join(',')}]`;
    const transport = this.url.protocol === 'https:' ? https() : http;
    return new Promise((resolve) => {
      const request = transport.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': Buffer.byteLength(body) },
          // While closing, a request may not outlive the deadline.
          timeout: Math.max(1, Math.min(this.options.timeoutMs, this.deadline - Date.now())),
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(outcomeOf(response.statusCode ?? 0)));
          response.on('error', (error) => resolve({ ok: false, retry: true, reason: error.message }));
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)),
      );
      request.on('error', (error) => resolve({ ok: false, retry: true, reason: error.message }));
      request.end(body);
    });
  }
}

function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return { ok: true };
  // Overload and server faults pass; any other answer would be the same for a retried batch.
  const retry = status === 408 || status === 429 || status >= 500;
  return { ok: false, retry, reason: `HTTP ${status}` };
}

/** node:https, with node:tls under it, for an https URL only: loading them took 4-5 ms of every cold start. */
function https(): typeof Https {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:https') as typeof Https;
}
