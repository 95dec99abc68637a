export type HttpRouteErrorCode = 'AMBIGUOUS_SERVER' | 'UNKNOWN_SERVER';

/** A decorated route that cannot be bound to a server; raised while the server starts. */
export class HttpRouteError extends Error {
  override readonly name = 'HttpRouteError';
  constructor(
    readonly code: HttpRouteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type HttpClientErrorCode =
  'NOT_STARTED' | 'CLIENT_CLOSED' | 'TIMEOUT' | 'NETWORK' | 'NO_DISCOVERY' | 'NO_INSTANCE';

/** A request of HttpClientResource that got no response; an HTTP error status is a response, not this. */
export class HttpClientError extends Error {
  override readonly name = 'HttpClientError';
  constructor(
    readonly code: HttpClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `currentRequestId()` called while the request context is off (Node 20 and 22 by default). */
export class RequestContextError extends Error {
  override readonly name = 'RequestContextError';
  readonly code = 'REQUEST_CONTEXT_OFF';
}

export type HttpBodyErrorCode =
  | 'BODY_INVALID_JSON'
  | 'BODY_PROTO_POISONING'
  | 'BODY_UNSAFE_KEY'
  | 'BODY_ENCODING_UNSUPPORTED'
  | 'BODY_ENCODING_INVALID'
  | 'BODY_TOO_LARGE';

/** A request body refused while read or parsed; answered with `status` and the message (`expose`). */
export class HttpBodyError extends Error {
  override readonly name = 'HttpBodyError';
  readonly expose = true;
  readonly headers?: Readonly<Record<string, string>>;
  constructor(
    readonly code: HttpBodyErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown; headers?: Readonly<Record<string, string>> },
  ) {
    super(message, options);
    this.headers = options?.headers;
  }
}
