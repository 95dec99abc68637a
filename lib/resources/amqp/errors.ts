import { KeelError, type CodesOf } from '../../errors';

export type AmqpErrorCode = CodesOf<'AmqpError'>;

/** A failure of an AmqpResource itself: its library, its connection, its handlers' binding. */
export class AmqpError extends KeelError {
  override readonly name = 'AmqpError';
  constructor(
    readonly code: AmqpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AmqpRequestErrorCode = CodesOf<'AmqpRequestError'>;

/** `request()` got no reply, or an error reply: `remoteCode` is the responder's error code, if any. */
export class AmqpRequestError extends KeelError {
  override readonly name = 'AmqpRequestError';
  constructor(
    readonly code: AmqpRequestErrorCode,
    message: string,
    readonly remoteCode?: string,
  ) {
    super(message);
  }
}

export type CodecErrorCode = CodesOf<'CodecError'>;

/** A value a codec cannot encode, bytes it cannot decode, or a codec that is not registered. */
export class CodecError extends KeelError {
  override readonly name = 'CodecError';
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
