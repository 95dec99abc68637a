import type { IncomingMessage } from 'node:http';
import type { Attributes, Span } from '@opentelemetry/api';
import type { SpanScope, Tracing } from '../../tracing';

/** The methods the semantic conventions name; any other is `_OTHER`, so a client cannot mint span names. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

function methodOf(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
}

/**
 * The server span of one request: it continues the caller's trace from `traceparent` (or starts
 * one), named by method until the route is known, with the semantic conventions' attributes.
 */
export function startServerSpan(tracing: Tracing, request: IncomingMessage): SpanScope | undefined {
  const { headers, socket } = request;
  const method = methodOf(request.method);
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  const host = headers.host ?? '';
  const colon = host.lastIndexOf(':');
  const hasPort = colon > host.lastIndexOf(']');
  // One object with its keys in one order, the optional ones set after: no spread's copies per request.
  const attributes: Attributes = {
    'http.request.method': method,
    'url.path': query < 0 ? url : url.slice(0, query),
    'url.scheme': 'encrypted' in socket ? 'https' : 'http',
    'server.address': hasPort ? host.slice(0, colon) : host,
    'network.protocol.version': request.httpVersion,
  };
  if (hasPort) attributes['server.port'] = Number(host.slice(colon + 1));
  if (socket.remoteAddress !== undefined) attributes['client.address'] = socket.remoteAddress;
  const agent = headers['user-agent'];
  if (agent !== undefined) attributes['user_agent.original'] = agent;
  return tracing.startScope(method, { kind: 'server', parent: tracing.extract(headers), attributes });
}

/** Names the span by its route template (never the path: names stay few), records the status, ends it. */
export function endServerSpan(
  tracing: Tracing,
  span: Span,
  request: IncomingMessage,
  route: string | undefined,
  status: number,
  error: unknown,
): void {
  if (route !== undefined) {
    span.updateName(`${methodOf(request.method)} ${route}`);
    span.setAttribute('http.route', route);
  }
  span.setAttribute('http.response.status_code', status);
  // A 4xx is the client's error, not the server's: only a 5xx marks the server span as failed.
  if (status >= 500) {
    span.setAttribute('error.type', String(status));
    tracing.end(span, error ?? new Error(`answered ${status}`));
  } else tracing.end(span);
}

/**
 * One attempt of the HTTP client as its own client span (under the span active where the request
 * was made), its trace context injected into that attempt's headers. Tracing off: `send` as it is.
 */
export function tracedAttempt<R extends { status: number }>(
  tracing: Tracing,
  method: string,
  url: URL,
  resendCount: number,
  headers: Record<string, string>,
  send: (headers: Record<string, string>) => Promise<R>,
): Promise<R> {
  if (!tracing.enabled) return send(headers);
  const known = methodOf(method);
  const span = tracing.startSpan(known, {
    kind: 'client',
    attributes: {
      'http.request.method': known,
      // Never the credentials a URL may carry.
      'url.full': url.username === '' && url.password === '' ? url.href : withoutCredentials(url),
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      ...(resendCount > 0 && { 'http.request.resend_count': resendCount }),
    },
  });
  const carried = { ...headers };
  tracing.inject(carried, span);
  return send(carried).then(
    (response) => {
      span?.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) {
        span?.setAttribute('error.type', String(response.status));
        tracing.end(span, new Error(`answered ${response.status}`));
      } else tracing.end(span);
      return response;
    },
    (error: unknown) => {
      span?.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      tracing.end(span, error);
      throw error;
    },
  );
}

function withoutCredentials(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}
