export type AmqpErrorCode =
  | 'MISSING_DEPENDENCY'
  | 'CONNECT_FAILED'
  | 'NOT_STARTED'
  | 'STOPPED'
  | 'PUBLISH_FAILED'
  | 'UNKNOWN_RESOURCE'
  | 'AMBIGUOUS_RESOURCE';

/** A failure of an AmqpResource itself: its library, its connection, its handlers' binding. */
export class AmqpError extends Error {
  override readonly name = 'AmqpError';
  constructor(
    readonly code: AmqpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AmqpRequestErrorCode = 'TIMEOUT' | 'NO_RESPONDER' | 'REMOTE_ERROR' | 'CONNECTION_LOST';

/** `request()` got no reply, or an error reply: `remoteCode` is the responder's error code, if any. */
export class AmqpRequestError extends Error {
  override readonly name = 'AmqpRequestError';
  constructor(
    readonly code: AmqpRequestErrorCode,
    message: string,
    readonly remoteCode?: string,
  ) {
    super(message);
  }
}

export type CodecErrorCode =
  'UNKNOWN_CODEC' | 'UNKNOWN_CONTENT_TYPE' | 'ENCODE' | 'DECODE' | 'DUPLICATE_CODEC';

/** A value a codec cannot encode, bytes it cannot decode, or a codec that is not registered. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
