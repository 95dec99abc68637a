import { DeliveryTracker } from '../delivery';
import type { DropCounter } from '../drops';
import type { LogEntry } from '../record';
import { setTimeout as delay } from 'node:timers/promises';
import type { LogSink } from './types';

const BUFFER_POLL_MS = 10;

/** JSON lines in bunyan's format on a stream Keel does not own (stdout, stderr), so it is never ended. */
export class StreamSink implements LogSink {
  private readonly delivery = new DeliveryTracker();
  private readonly written: (error?: Error | null) => void;

  constructor(
    readonly name: string,
    private readonly stream: NodeJS.WritableStream,
    drops: DropCounter,
  ) {
    this.written = this.delivery.writeCallback(() => drops.add(name, 1));
  }

  write(entry: LogEntry): void {
    this.delivery.accept();
    this.stream.write(entry.line, this.written);
  }

  /**
   * Settled when every write called back, or when the stream holds nothing unwritten: a wrapped
   * stdout (jest's reporter replaces `write` and drops its callback) never calls back at all.
   */
  flush(): Promise<void> {
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
