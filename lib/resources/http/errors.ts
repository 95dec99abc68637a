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

export type HttpListenErrorCode = CodesOf<'HttpListenError'>;

/** A server that cannot listen; the message names the setting that chose the address. */
export class HttpListenError extends KeelError {
  override readonly name = 'HttpListenError';
  constructor(
    readonly code: HttpListenErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Why `server` (`http server 'api'`) could not listen on `host:port`, told with the keys under
 * `settingsPath` that chose them: a port in use is fixed in settings, not in code.
 */
export function listenFailure(
  server: string,
  settingsPath: string,
  host: string,
  port: number,
  error: NodeJS.ErrnoException,
): HttpListenError {
  const where = `${server} cannot listen on ${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new HttpListenError(
      'HTTP_PORT_IN_USE',
      `${where}: port ${port} is in use (${settingsPath}.port); stop what holds it, or set ${settingsPath}.port to another port (0 picks a free one)`,
      { cause: error },
    );
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAFNOSUPPORT') {
    return new HttpListenError(
      'HTTP_LISTEN_FAILED',
      `${where}: ${error.message}; ${settingsPath}.host is not an address of this machine`,
      { cause: error },
    );
  }
  return new HttpListenError(
    'HTTP_LISTEN_FAILED',
    `${where} (${settingsPath}.host, ${settingsPath}.port): ${error.message}`,
    { cause: error },
  );
}

export type HttpResponseErrorCode = CodesOf<'HttpResponseError'>;

/** A handler's answer that cannot be sent as it is (a body JSON cannot serialize); answered 500. */
export class HttpResponseError extends KeelError {
  override readonly name = 'HttpResponseError';
  readonly status = 500;
  constructor(
    readonly code: HttpResponseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
