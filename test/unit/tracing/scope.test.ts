import { context, propagation, trace } from '@opentelemetry/api';
import { Microservice, microservice, Test, type App } from '../../../lib';
import { currentRequestId } from '../../../lib/context';
import { quietLog } from '../../support/async';

@microservice({ name: 'scoped', resources: {} })
class Scoped extends Microservice {}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const HEADERS = {
  traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
  baggage: 'tenant=acme',
};

describe('tracing: startScope and startSpan run their work on the context the span was started on', () => {
  let app: App;

  beforeAll(async () => {
    app = await Test.createMicroservice(Scoped, { log: quietLog() })
      .withSettings({ system: { tracing: { enabled: true, exporter: 'none' } } })
      .start();
  });

  afterAll(() => app?.stop());

  /** What the work sees: the active span, the baggage of the context it runs in, the request id. */
  const inside = () => ({
    span: trace.getActiveSpan(),
    tenant: propagation.getBaggage(context.active())?.getEntry('tenant')?.value,
    requestId: currentRequestId(),
  });

  it('runs a scope in its parent with the span active: the caller trace, its baggage and the request id', () => {
    const scope = app.tracing.startScope('GET /scoped', {
      kind: 'server',
      parent: app.tracing.extract(HEADERS),
    })!;
    expect(scope.span.spanContext().traceId).toBe(TRACE_ID);
    expect(trace.getSpan(scope.context)).toBe(scope.span);
    // Twice, as a websocket runs each message in the span of its upgrade.
    for (const requestId of ['r-1', 'r-2'])
      expect(app.tracing.run(scope, inside, requestId)).toEqual({
        span: scope.span,
        tenant: 'acme',
        requestId,
      });
    scope.span.end();
  });

  it('runs a span of startSpan on its explicit parent too, not on the context active where run is called', () => {
    const span = app.tracing.startSpan('consume', {
      kind: 'consumer',
      parent: app.tracing.extract(HEADERS),
    })!;
    const elsewhere = app.tracing.startScope('elsewhere', { parent: 'root' })!;
    const seen = app.tracing.run(elsewhere, () => app.tracing.run(span, inside));
    expect(seen).toEqual({ span, tenant: 'acme', requestId: undefined });
    span.end();
    elsewhere.span.end();
  });

  it('gives no scope while tracing is off, and run then only sets the request id', async () => {
    const off = await Test.createMicroservice(Scoped, { log: quietLog() }).start();
    try {
      const scope = off.tracing.startScope('GET /scoped', { parent: off.tracing.extract(HEADERS) });
      expect(scope).toBeUndefined();
      expect(off.tracing.run(scope, () => currentRequestId(), 'r-3')).toBe('r-3');
    } finally {
      await off.stop();
    }
  });
});
