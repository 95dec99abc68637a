import type { IncomingHttpHeaders } from 'node:http';
import type { Log } from '../../../lifecycle/log';
import type { Codec } from '../../amqp/codecs/codec';
import { WS_OPEN, type WsSocket } from './driver';

/** What the server does with a client whose unsent bytes would pass `websocket.send_buffer_bytes`. */
export type SlowClientPolicy = 'close' | 'drop';

/** Why the server ended a connection (the `reason` label of `websocket_closed_total`). */
export type CloseReason = 'client' | 'server' | 'stop' | 'slow' | 'liveness' | 'payload' | 'decode' | 'error';

/** What one connection reports to its route: its meters and its end. */
export interface ConnectionEvents {
  received(): void;
  sent(): void;
  dropped(): void;
  closed(reason: CloseReason): void;
}

export interface ConnectionOptions {
  route: string;
  params: Readonly<Record<string, string>>;
  headers: IncomingHttpHeaders;
  requestId: string;
  codec: Codec;
  /** Frames sent as binary (the raw codec) rather than text. */
  binary: boolean;
  sendBufferBytes: number;
  slowClient: SlowClientPolicy;
  /** Runs the connection's callbacks in its request context (request id, trace). */
  inContext<T>(work: () => T): T;
  log: Log;
  events: ConnectionEvents;
}

/**
 * One accepted WebSocket connection of a `@websocket` route. `In` is what a message decodes to,
 * `Out` what `send` takes; both go through the route's codec. Sends are bounded: a client that
 * does not read is closed (or its messages dropped) once `websocket.send_buffer_bytes` are waiting.
 */
export class WebSocketConnection<In = unknown, Out = In> {
  /** The route template it was accepted on (`/rooms/:room`). */
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  /** The upgrade request's headers. */
  readonly headers: IncomingHttpHeaders;
  /** The upgrade request's id (`x-request-id`, or generated); the callbacks run with it. */
  readonly requestId: string;
  private readonly messageHandlers: ((message: In) => void)[] = [];
  private readonly closeHandlers: ((code: number, reason: string) => void)[] = [];
  private ending?: CloseReason;
  private alive = true;

  /** @internal Made by the HTTP server once the upgrade is accepted. */
  constructor(
    private readonly socket: WsSocket,
    private readonly options: ConnectionOptions,
  ) {
    this.route = options.route;
    this.params = options.params;
    this.headers = options.headers;
    this.requestId = options.requestId;
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('error', (error) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.ending ??= 'payload';
      else this.ending ??= 'error';
      options.log.debug(
        { request_id: this.requestId, route: this.route, reason: error.message },
        `websocket ${this.route}: ${error.message}`,
      );
    });
    socket.on('close', (code, reason) => {
      options.events.closed(this.ending ?? 'client');
      const text = reason.toString('utf8');
      options.inContext(() => {
        for (const handler of this.closeHandlers) handler(code, text);
      });
    });
  }

  get open(): boolean {
    return this.socket.readyState === WS_OPEN;
  }

  /** Bytes given to `send` and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Runs for each message, decoded; a throw (or a rejection of what it returns) is logged and closes the connection with 1011. */
  onMessage(handler: (message: In) => void): void {
    this.messageHandlers.push(handler);
  }

  onClose(handler: (code: number, reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  /**
   * Encodes and queues `message`. False when it was not sent: the connection is not open, or the
   * client is too slow (its unsent bytes would pass `websocket.send_buffer_bytes`; with
   * `slow_client: close` the connection is then closed, with `drop` the message is dropped).
   */
  send(message: Out): boolean {
    if (!this.open) return false;
    const bytes = this.options.codec.encode(message);
    if (this.socket.bufferedAmount + bytes.length > this.options.sendBufferBytes) {
      this.options.events.dropped();
      if (this.options.slowClient === 'close') this.terminate('slow');
      return false;
    }
    this.socket.send(bytes, { binary: this.options.binary });
    this.options.events.sent();
    return true;
  }

  /** The close handshake with `code` (1000: normal); the client's answer ends the connection. */
  close(code = 1000, reason = ''): void {
    this.ending ??= code === 1001 ? 'stop' : 'server';
    this.socket.close(code, reason);
  }

  /** @internal The liveness round: false once a ping went unanswered for a whole interval. */
  ping(): void {
    if (!this.alive) return this.terminate('liveness');
    this.alive = false;
    if (this.open) this.socket.ping();
  }

  /** @internal Ends it without the handshake: the client is not reading, or not there. */
  terminate(reason: CloseReason): void {
    this.ending ??= reason;
    this.socket.terminate();
  }

  private receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.options.events.received();
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    let message: In;
    try {
      message = this.options.codec.decode(bytes) as In;
    } catch (error) {
      this.options.log.debug(
        { request_id: this.requestId, route: this.route, binary: isBinary },
        `websocket ${this.route}: a message ${this.options.codec.contentType} cannot decode: ${(error as Error).message}`,
      );
      this.ending ??= 'decode';
      this.socket.close(1007, `not ${this.options.codec.contentType}`);
      return;
    }
    this.options.inContext(() => {
      for (const handler of this.messageHandlers) {
        try {
          const done: unknown = handler(message);
          if (done instanceof Promise) done.catch((error: unknown) => this.failed(error));
        } catch (error) {
          this.failed(error);
        }
      }
    });
  }

  private failed(error: unknown): void {
    this.options.log.error(
      { err: error, request_id: this.requestId, route: this.route },
      `websocket ${this.route}: a message handler failed: ${(error as Error)?.message ?? String(error)}; closing with 1011`,
    );
    this.ending ??= 'error';
    if (this.open) this.socket.close(1011, 'internal error');
  }
}
