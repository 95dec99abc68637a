import * as net from 'node:net';
import { Backoff } from '../../resilience/backoff';

import type { LineSink, ReporterLogger } from './line-sink';

export interface CarbonSinkOptions {
  host: string;
  port: number;
  logger: ReporterLogger;
  /** Lines kept while carbon is unreachable; beyond it the oldest are dropped. Default 10,000. */
  maxBufferedLines?: number;
  /** Ceiling of the first reconnect delay (full jitter under it), doubled after each failure. Default 100 ms. */
  initialRetryMs?: number;
  /** Cap of the reconnect delay. Default 10 s. */
  maxRetryMs?: number;
  /** A connect that hangs (dropped SYNs) counts as failed after this. Default 5 s. */
  connectTimeoutMs?: number;
  /** Called with the number of lines dropped, to count them in a metric. */
  onDrop?: (lines: number) => void;
}

export interface CarbonSinkStats {
  connected: boolean;
  buffered: number;
  /** Lines handed to the socket; those in flight when carbon goes away are lost unnoticed. */
  sent: number;
  dropped: number;
}

/**
 * Carbon's plaintext protocol over one long-lived TCP connection. An unreachable carbon never
 * fails the service: lines wait in a bounded buffer, the connection is retried on the policy
 * module's jittered schedule, and each outage is logged once (and once more when it ends).
 */
export class CarbonSink implements LineSink {
  readonly description: string;
  private readonly maxBufferedLines: number;
  private readonly maxRetryMs: number;
  private readonly connectTimeoutMs: number;
  private socket: net.Socket | undefined;
  private connected = false;
  private closing = false;
  private buffer: string[] = [];
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private inOutage = false;
  private droppedSinceConnected = 0;
  private sent = 0;
  private dropped = 0;

  constructor(private readonly options: CarbonSinkOptions) {
    this.description = `carbon ${options.host}:${options.port}`;
    this.maxBufferedLines = options.maxBufferedLines ?? 10_000;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.backoff = new Backoff({ initialMs: options.initialRetryMs ?? 100, maxMs: this.maxRetryMs });
  }

  stats(): CarbonSinkStats {
    return {
      connected: this.connected,
      buffered: this.buffer.length,
      sent: this.sent,
      dropped: this.dropped,
    };
  }

  /** Starts connecting and returns at once: the service starts whether carbon is up or not. */
  async open(): Promise<void> {
    this.closing = false;
    this.connect();
  }

  async write(lines: readonly string[]): Promise<void> {
    // concat, not push(...lines): a period of a large registry exceeds the arguments limit.
    this.buffer = this.buffer.concat(lines);
    const excess = this.buffer.length - this.maxBufferedLines;
    if (excess > 0) {
      // The newest values are the ones worth keeping.
      this.buffer.splice(0, excess);
      this.drop(excess);
    }
    this.flush();
  }

  /** Waits for a connection in progress, so a service stopped right after starting still delivers. */
  async close(timeoutMs = 2_000): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (socket !== undefined && !this.connected) await settled(socket, 'connect', timeoutMs);
    if (socket !== undefined && this.connected) {
      this.flush(true);
      socket.end();
      await settled(socket, 'close', timeoutMs);
    }
    socket?.destroy();
    this.drop(this.buffer.splice(0).length);
  }

  private connect(): void {
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    // Neither the socket nor the retry timer may keep a finished process alive.
    socket.unref();
    socket.setTimeout(this.connectTimeoutMs, () => socket.destroy(new Error('connect timed out')));
    // Carbon never writes back; reading is what makes a remote close visible.
    socket.resume();
    let failure: Error | undefined;
    socket.once('connect', () => {
      socket.setTimeout(0);
      this.connected = true;
      this.backoff.reset();
      this.endOutage();
      this.flush();
    });
    socket.on('drain', () => this.flush());
    socket.on('error', (error) => {
      failure = error;
    });
    socket.once('close', () => {
      this.connected = false;
      if (this.socket === socket) this.socket = undefined;
      if (this.closing) return;
      this.startOutage(failure?.message ?? 'connection closed by carbon');
      this.retryTimer = setTimeout(() => this.connect(), this.backoff.next());
      this.retryTimer.unref();
    });
  }

  /** `force` ignores backpressure: used once, on close, so the last period is not left behind. */
  private flush(force = false): void {
    const socket = this.socket;
    if (!this.connected || socket === undefined || this.buffer.length === 0) return;
    if (socket.writableNeedDrain && !force) return;
    const lines = this.buffer;
    this.buffer = [];
    this.sent += lines.length;
    socket.write(`${lines.join('\n')}\n`);
  }

  private drop(lines: number): void {
    if (lines === 0) return;
    this.dropped += lines;
    this.droppedSinceConnected += lines;
    this.options.onDrop?.(lines);
  }

  private startOutage(reason: string): void {
    if (this.inOutage) return;
    this.inOutage = true;
    this.options.logger.warn(
      `metrics: ${this.description} unreachable (${reason}); keeping up to ${this.maxBufferedLines} lines ` +
        `and retrying with backoff up to ${this.maxRetryMs} ms`,
    );
  }

  private endOutage(): void {
    const dropped = this.droppedSinceConnected;
    this.droppedSinceConnected = 0;
    if (!this.inOutage) return;
    this.inOutage = false;
    this.options.logger.info(
      `metrics: ${this.description} reachable again; ${dropped} lines were dropped during the outage`,
    );
  }
}

/** Resolves on `event`, on the socket closing, or after `timeoutMs`, whichever comes first. */
function settled(socket: net.Socket, event: 'connect' | 'close', timeoutMs: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off(event, done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once(event, done);
    socket.once('close', done);
  });
}
