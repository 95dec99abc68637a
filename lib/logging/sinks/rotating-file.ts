import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { DeliveryTracker } from '../delivery';
import type { LogEntry } from '../record';
import type { LogSink, SinkContext } from './types';

export interface RotationPolicy {
  /** Rotate before a write would take the file past this size; 0: never by size. */
  maxBytes: number;
  /** Rotate on UTC multiples of this period; 0: never by time. */
  periodMs: number;
  /** Rotated files kept: `<path>.0` (newest) to `<path>.<count - 1>`. */
  count: number;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `1d` → 86400000; empty → 0. The schema has already checked the shape. */
export function parsePeriod(period: string): number {
  if (period === '') return 0;
  return Number(period.slice(0, -1)) * UNIT_MS[period.slice(-1)];
}

/**
 * A file that rotates by size and/or period, keeping `count` old files. Rotation renames while
 * the old stream may still be writing: each stream holds its own descriptor, opened before the
 * rename, so its pending records land in the rotated file where they belong.
 */
export class RotatingFileSink implements LogSink {
  readonly name = 'file';
  private readonly delivery = new DeliveryTracker();
  private readonly retiring = new Set<Promise<void>>();
  private readonly written = this.delivery.writeCallback(() => this.context.drops.add(this.name, 1));
  private stream: fs.WriteStream;
  private size: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly filePath: string,
    private readonly policy: RotationPolicy,
    private readonly context: SinkContext,
  ) {
    fs.mkdirSync(path.dirname(filePath), { recursive: true });
    this.stream = this.open();
    this.size = fs.statSync(filePath).size;
    this.scheduleRotation();
  }

  write(entry: LogEntry): void {
    const line = entry.line;
    if (this.policy.maxBytes > 0) {
      const bytes = Buffer.byteLength(line);
      if (this.size > 0 && this.size + bytes > this.policy.maxBytes) this.rotate();
      this.size += bytes;
    } else {
      // Period rotation only needs to know whether the file is empty.
      this.size += line.length;
    }
    this.delivery.accept();
    this.stream.write(line, this.written);
  }

  flush(): Promise<void> {
    return this.delivery.whenSettled();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.retire(this.stream);
    await this.flush();
    await Promise.all(this.retiring);
  }

  rotate(): void {
    try {
      this.shiftFiles();
    } catch (error) {
      this.context.warn(`cannot rotate ${this.filePath}; still writing to it`, { err: error });
      return;
    }
    this.retire(this.stream);
    this.stream = this.open();
    this.size = 0;
  }

  private open(): fs.WriteStream {
    const fd = fs.openSync(this.filePath, 'a');
    const stream = fs.createWriteStream(this.filePath, { fd });
    stream.on('error', (error) => this.context.warn(`cannot write ${this.filePath}`, { err: error }));
    return stream;
  }

  private retire(stream: fs.WriteStream): void {
    const done = finished(stream.end()).catch(() => undefined);
    this.retiring.add(done);
    void done.then(() => this.retiring.delete(done));
  }

  private shiftFiles(): void {
    if (this.policy.count === 0) {
      fs.unlinkSync(this.filePath);
      return;
    }
    for (let index = this.policy.count - 1; index > 0; index--) {
      renameIfPresent(`${this.filePath}.${index - 1}`, `${this.filePath}.${index}`);
    }
    fs.renameSync(this.filePath, `${this.filePath}.0`);
  }

  private scheduleRotation(): void {
    const period = this.policy.periodMs;
    if (period === 0) return;
    const now = Date.now();
    this.timer = setTimeout(
      () => {
        if (this.size > 0) this.rotate();
        this.scheduleRotation();
      },
      period - (now % period),
    );
    // Rotation alone is no reason to keep a finished process alive.
    this.timer.unref();
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
