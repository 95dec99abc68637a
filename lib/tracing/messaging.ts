import type { Attributes } from '@opentelemetry/api';
import { withRequestId } from '../context';
import type { Tracing } from './tracing';

/**
 * A send as a producer span under the span active where it is made, its trace context written into
 * `headers` (a copy) for the consumer to continue; `send` gets those headers. Tracing off: `send`
 * with the headers as they are. The AMQP and Kafka resources name the span and its attributes.
 */
export function tracedProduce<H extends Record<string, unknown>, T>(
  tracing: Tracing,
  name: string,
  attributes: Attributes,
  headers: H,
  send: (headers: H) => Promise<T>,
): Promise<T> {
  if (!tracing.enabled) return send(headers);
  const span = tracing.startSpan(name, { kind: 'producer', attributes });
  const traced = { ...headers };
  tracing.inject(traced, span);
  return tracing.runAndEnd(span, () => send(traced));
}

/**
 * A handler's run on one message as a consumer span continuing the trace its `headers` carry (or
 * starting one), with `requestId` as the request id inside. Tracing off: with the request id only.
 */
export function tracedProcess<T>(
  tracing: Tracing,
  name: string,
  headers: Record<string, unknown>,
  attributes: Attributes,
  requestId: string,
  handle: () => T,
): T {
  if (!tracing.enabled) return withRequestId(requestId, handle);
  const scope = tracing.startScope(name, { kind: 'consumer', parent: tracing.extract(headers), attributes });
  return tracing.runAndEnd(scope, handle, requestId);
}
