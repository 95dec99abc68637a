import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { requirePeer } from '../../../errors/peer';
import { WebSocketError } from './errors';

/** The part of a `ws` WebSocket the server uses (declared here, so Keel's types need no @types/ws). */
export interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'pong', listener: () => void): this;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
}

export interface WsServer {
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    accepted: (socket: WsSocket) => void,
  ): void;
}

export interface WsModule {
  WebSocketServer: new (options: {
    noServer: true;
    maxPayload: number;
    perMessageDeflate: false;
    clientTracking: false;
  }) => WsServer;
}

/** ws' `readyState` of an open connection. */
export const WS_OPEN = 1;

let loaded: WsModule | undefined;

/** `what` names who needs it: `@websocket('/chat') on chat.join`. */
export function loadWs(what: string): WsModule {
  loaded ??= requirePeer<WsModule>(
    'ws',
    () =>
      new WebSocketError(
        'HTTP_WEBSOCKET_MISSING_DEPENDENCY',
        `${what} needs the package ws, which is not installed: npm install ws`,
      ),
  );
  return loaded;
}
