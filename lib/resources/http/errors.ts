import { KeelError, type CodesOf } from '../../errors';

export type HttpRouteErrorCode = CodesOf<'HttpRouteError'>;

/** A decorated route that cannot be bound to a server; raised while the server starts. */
export class HttpRouteError extends KeelError {
  override readonly name = 'HttpRouteError';
  constructor(
    readonly code: HttpRouteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type HttpClientErrorCode = CodesOf<'HttpClientError'>;

/** A request of HttpClientResource that got no response; an HTTP error status is a response, not this. */
export class HttpClientError extends KeelError {
  override readonly name = 'HttpClientError';
  constructor(
    readonly code: HttpClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type HttpBodyErrorCode = CodesOf<'HttpBodyError'>;

/** A request body refused while read or parsed; answered with `status` and the message (`expose`). */
export class HttpBodyError extends KeelError {
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
