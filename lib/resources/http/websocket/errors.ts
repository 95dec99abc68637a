import { KeelError, type CodesOf } from '../../../errors';

export type WebSocketErrorCode = CodesOf<'WebSocketError'>;

/** A WebSocket route that cannot be served: its peer package missing, its codec unknown. */
export class WebSocketError extends KeelError {
  override readonly name = 'WebSocketError';
  constructor(
    readonly code: WebSocketErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
