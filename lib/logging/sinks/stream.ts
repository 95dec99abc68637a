import { DeliveryTracker } from '../delivery';
import type { DropCounter } from '../drops';
import type { LogEntry } from '../record';
import { setTimeout as delay } from 'node:timers/promises';
import type { LogSink } from './types';

const BUFFER_POLL_MS = 10;
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

/**
 * JSON lines in bunyan's format on a stream Keel does not own (stdout, stderr), so it is never ended.
 * The lines logged within a few milliseconds go out in one `write`: stdout on a file or a pipe
 * writes synchronously, and a system call per record cost more than building the record.
 */
export class StreamSink implements LogSink {
  private readonly delivery = new DeliveryTracker();
  private batch = '';
  private batchRecords = 0;

  constructor(
    readonly name: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly drops: DropCounter,
  ) {}

  write(entry: LogEntry): void {
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
   */
  flush(): Promise<void> {
    this.writeBatch();
    return Promise.race([this.delivery.whenSettled(), this.bufferEmptied()]);
  }

  private async bufferEmptied(): Promise<void> {
    const unwritten = () => (this.stream as { writableLength?: number }).writableLength;
    if (unwritten() === undefined) return new Promise<void>(() => undefined);
    while ((unwritten() ?? 0) > 0) await delay(BUFFER_POLL_MS);
  }

  close(): Promise<void> {
    return this.flush();
  }
}
