import { DeliveryTracker } from '../delivery';
import type { DropCounter } from '../drops';
import type { LogEntry } from '../record';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { LogSink } from './types';

const BUFFER_POLL_MS = 10;
/**
 * A stream that took no byte for this long while a flush waits is taken as not read (a pipe held
 * open by a reader that stopped): the flush, and so the stop, no longer waits for it.
 */
export const STALLED_STREAM_MS = 1000;
/** What `system.logging.stdout_max_queue_bytes` defaults to, and what the provisional stderr holds. */
export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
/**
 * How long a line may wait for others to share its write. Once per event-loop turn was not enough:
 * under load a turn serves one or two requests, and the write per turn cost more than the rest of
 * the access log. Lines still reach the stream at exit (the hook below) and on every flush; only a
 * SIGKILL can take the last few milliseconds of them.
 */
const BATCH_DELAY_MS = 5;
/** A batch this long is written at once rather than after the delay, so a logging loop stays bounded. */
const MAX_BATCH_CHARS = 64 * 1024;

/**
 * Batches not yet written, for the exit hook: `process.exit()` runs no further tick, and a record
 * logged just before it must still reach the stream, as it did when every line was written at once.
 */
const unwrittenBatches = new Set<() => void>();
let exitHookInstalled = false;

function writeBatchesAtExit(): void {
  for (const writeBatch of unwrittenBatches) writeBatch();
}

export interface StreamSinkOptions {
  /**
   * Bytes the stream and the batch may hold unwritten (a reader that does not keep up); a record
   * beyond it is dropped and counted.
   */
  maxQueueBytes?: number;
  /** Called with how many records were dropped once the stream takes records again. */
  onDropsEnded?: (dropped: number) => void;
  /** Called for a record longer than `maxQueueBytes` on its own, dropped at once whatever the reader does. */
  onOversized?: (chars: number) => void;
  /** Called when a flush gives up on the stream, with the records and bytes it still holds. */
  onStalled?: (records: number, bytes: number) => void;
}

/**
 * JSON lines in bunyan's format on a stream Keel does not own (stdout, stderr), so it is never ended.
 * The lines logged within a few milliseconds go out in one `write`: stdout on a file or a pipe
 * writes synchronously, and a system call per record cost more than building the record.
 * A pipe whose reader stalls queues in node's memory instead: past `maxQueueBytes` records are
 * dropped and counted, and a flush gives up on a stream that takes nothing for `STALLED_STREAM_MS`.
 */
export class StreamSink implements LogSink {
  private readonly delivery = new DeliveryTracker();
  private batch = '';
  private batchRecords = 0;
  private readonly maxQueueBytes: number;
  /** Dropped since the stream last took a record. */
  private unreported = 0;
  /** Unsettled records a flush already counted as dropped when it gave up; not counted twice. */
  private givenUp = 0;

  constructor(
    readonly name: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly drops: DropCounter,
    private readonly options: StreamSinkOptions = {},
  ) {
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  }

  write(entry: LogEntry): void {
    if (entry.line.length > this.maxQueueBytes) {
      // No reader could take it: blaming a slow one, as the drain notice does, would mislead.
      this.drops.add(this.name, 1);
      return this.options.onOversized?.(entry.line.length);
    }
    if (this.unwrittenLength() + this.batch.length + entry.line.length > this.maxQueueBytes) {
      return this.drop();
    }
    if (this.unreported > 0) this.reportDrops();
    this.delivery.accept();
    if (this.batchRecords === 0) {
      // Unref'd: a batch must not keep a finished process alive; the exit hook writes it instead.
      setTimeout(this.writeBatch, BATCH_DELAY_MS).unref();
      if (!exitHookInstalled) {
        process.on('exit', writeBatchesAtExit);
        exitHookInstalled = true;
      }
      unwrittenBatches.add(this.writeBatch);
    }
    this.batch += entry.line;
    this.batchRecords++;
    if (this.batch.length >= MAX_BATCH_CHARS) this.writeBatch();
  }

  private unwrittenLength(): number {
    return (this.stream as { writableLength?: number }).writableLength ?? 0;
  }

  /**
   * A drop happens while a write is pending (the stream's queue is full) or a batch is (the batch
   * alone passed the bound): the drops are told when that write calls back with nothing left.
   */
  private drop(): void {
    this.unreported++;
    this.drops.add(this.name, 1);
  }

  private reportDrops(): void {
    const dropped = this.unreported;
    // First: the report is itself a record, which may come back through write().
    this.unreported = 0;
    this.options.onDropsEnded?.(dropped);
  }

  private readonly writeBatch = (): void => {
    const records = this.batchRecords;
    if (records === 0) return;
    const text = this.batch;
    this.batch = '';
    this.batchRecords = 0;
    unwrittenBatches.delete(this.writeBatch);
    const written = (error?: Error | null) => {
      if (error) this.drops.add(this.name, records);
      this.delivery.settle(records);
      if (this.unreported > 0 && this.unwrittenLength() === 0) this.reportDrops();
    };
    try {
      this.stream.write(text, written);
    } catch (error) {
      written(error as Error);
    }
  };

  /**
   * Settled when every write called back, or when the stream holds nothing unwritten: a wrapped
   * stdout (jest's reporter replaces `write` and drops its callback) never calls back at all.
   * Also when the stream took nothing for `STALLED_STREAM_MS`: what it still holds is counted
   * as dropped, since the process may exit before anyone reads it.
   */
  flush(): Promise<void> {
    this.writeBatch();
    return Promise.race([this.delivery.whenSettled(), this.bufferEmptied()]);
  }

  private async bufferEmptied(): Promise<void> {
    const unwritten = () => (this.stream as { writableLength?: number }).writableLength;
    if (unwritten() === undefined) return new Promise<void>(() => undefined);
    let last = unwritten() ?? 0;
    let stillSince = performance.now();
    while ((unwritten() ?? 0) > 0) {
      await delay(BUFFER_POLL_MS);
      const now = unwritten() ?? 0;
      if (now !== last) [last, stillSince] = [now, performance.now()];
      else if (performance.now() - stillSince >= STALLED_STREAM_MS) return this.giveUp();
    }
  }

  private giveUp(): void {
    const unsettled = this.delivery.unsettled() - this.givenUp;
    if (unsettled <= 0) return;
    this.givenUp += unsettled;
    this.drops.add(this.name, unsettled);
    this.options.onStalled?.(unsettled, this.unwrittenLength());
  }

  /** As `flush`, giving up at `deadline` (epoch ms): a stop is never held by a stream nobody reads. */
  async close(deadline?: number): Promise<void> {
    if (deadline === undefined) return this.flush();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>(
      (resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))),
    );
    await Promise.race([this.flush(), late]).finally(() => clearTimeout(timer));
  }
}
