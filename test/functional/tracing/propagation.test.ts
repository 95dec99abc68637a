import type { IncomingHttpHeaders } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import {
  http,
  HttpClientResource,
  HttpServerResource,
  Microservice,
  microservice,
  task,
  Test,
  type App,
  type HttpContext,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { Upstream } from '../../unit/http/upstream';

let taskTraces: string[] = [];

@microservice({ name: 'relay', resources: { http: HttpServerResource, http_client: HttpClientResource } })
class Relay extends Microservice {
  constructor(private readonly client: HttpClientResource) {
    super();
  }

  @http('GET', '/relay/:id')
  async relay(ctx: HttpContext): Promise<string> {
    await this.client.get('/next');
    // A user's span through the API: it nests under Keel's server span.
    const own = trace.getTracer('user').startSpan('own work');
    const ownParent = trace.getSpan(context.active())?.spanContext().spanId;
    own.end();
    ctx.state.log.info({ own_parent: ownParent }, 'relayed');
    return 'relayed';
  }

  @task()
  async background(): Promise<void> {
    taskTraces.push(trace.getSpan(context.active())?.spanContext().traceId ?? 'none');
  }
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

describe('tracing: W3C trace context through the HTTP server and client, hostile headers bounded', () => {
  let downstream: Upstream;
  let app: App;
  let port: number;
  const records: { level: string; message: string; fields: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    taskTraces = [];
    downstream = new Upstream();
    const baseUrl = await downstream.listen();
    app = await Test.createMicroservice(Relay, { log: quietLog(records) })
      .withSettings({
        system: {
          logging: { profile: 'DEVELOP' },
          tracing: { enabled: true, exporter: 'none' },
          resources: { http: { port: 0 }, http_client: { base_url: baseUrl } },
        },
      })
      .start();
    port = app.get(HttpServerResource).address()!.port;
  });
  afterAll(async () => {
    await app.stop();
    await downstream.close();
  });
  beforeEach(() => {
    downstream.seen.length = 0;
    records.length = 0;
  });

  async function relay(headers: Record<string, string>): Promise<{ sent: IncomingHttpHeaders }> {
    const response = await fetch(`http://127.0.0.1:${port}/relay/7`, { headers });
    expect(response.status).toBe(200);
    expect(downstream.seen).toHaveLength(1);
    return { sent: downstream.seen[0].headers };
  }

  const traceIdOf = (traceparent: unknown) => String(traceparent).split('-')[1];

  it('continues the caller trace, passes tracestate and baggage on, and joins the logs', async () => {
    const { sent } = await relay({
      traceparent: `00-${TRACE_ID}-${PARENT}-01`,
      tracestate: 'vendor=abc,other=1',
      baggage: 'tenant=acme',
    });
    expect(sent.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(sent.traceparent).not.toContain(PARENT);
    expect(sent.tracestate).toBe('vendor=abc,other=1');
    expect(sent.baggage).toBe('tenant=acme');
    const relayed = records.find((record) => record.message === 'relayed')!;
    expect(relayed.fields).toMatchObject({ trace_id: TRACE_ID, trace_sampled: true });
    // The user's span had Keel's server span as its parent: the span the record was written in.
    expect(relayed.fields.own_parent).toBe(relayed.fields.span_id);
    // Baggage stays out of the records unless configured.
    expect(JSON.stringify(records)).not.toContain('acme');
  });

  it('follows the caller when it did not sample', async () => {
    const { sent } = await relay({ traceparent: `00-${TRACE_ID}-${PARENT}-00` });
    expect(sent.traceparent).toMatch(/-00$/);
    expect(records.find((record) => record.message === 'relayed')!.fields.trace_sampled).toBe(false);
  });

  it.each([
    ['a version of ff', `ff-${TRACE_ID}-${PARENT}-01`],
    ['invalid hex', `00-${'z'.repeat(32)}-${PARENT}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['a short span id', `00-${TRACE_ID}-b7ad6b71-01`],
    ['version 00 with extra fields', `00-${TRACE_ID}-${PARENT}-01-extra`],
    ['a 4 KB value', `00-${TRACE_ID}-${PARENT}-01${'x'.repeat(4096)}`],
  ])('starts a new trace on a traceparent with %s, and says so at debug', async (_, traceparent) => {
    const { sent } = await relay({ traceparent, tracestate: 'vendor=abc' });
    expect(traceIdOf(sent.traceparent)).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOf(sent.traceparent)).not.toBe(TRACE_ID);
    // No parent, no state to pass on.
    expect(sent.tracestate).toBeUndefined();
    expect(
      records.filter((record) => record.message.startsWith('ignored a malformed traceparent')),
    ).toMatchObject([{ level: 'debug' }]);
  });

  it('cuts an oversized tracestate to the W3C limits before it is parsed', async () => {
    const members = Array.from({ length: 1500 }, (_, index) => `k${index}=${'v'.repeat(4)}`).join(',');
    expect(members.length).toBeGreaterThan(12_000);
    const { sent } = await relay({ traceparent: `00-${TRACE_ID}-${PARENT}-01`, tracestate: members });
    expect(traceIdOf(sent.traceparent)).toBe(TRACE_ID);
    expect(String(sent.tracestate).length).toBeLessThanOrEqual(512);
    expect(String(sent.tracestate).split(',').length).toBeLessThanOrEqual(32);
    expect(String(sent.tracestate)).toMatch(/^k0=vvvv,k1=vvvv/);
  });

  it('refuses a 100 KB tracestate with 431 before any handler runs (node bounds request headers)', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/relay/7`, {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01`, tracestate: `k=${'v'.repeat(100 * 1024)}` },
    });
    expect(response.status).toBe(431);
    expect(downstream.seen).toHaveLength(0);
  });

  it('bounds what extract reads from a message header of 100 KB', () => {
    const hostile = Array.from({ length: 20_000 }, (_, index) => `m${index}=x`).join(',');
    expect(hostile.length).toBeGreaterThan(100_000);
    const extracted = app.tracing.extract({
      traceparent: `00-${TRACE_ID}-${PARENT}-01`,
      tracestate: hostile,
      baggage: hostile,
    })!;
    const spanContext = trace.getSpanContext(extracted)!;
    expect(spanContext.traceId).toBe(TRACE_ID);
    expect(spanContext.traceState!.serialize().length).toBeLessThanOrEqual(512);
  });

  it('starts a trace of its own for a request without a traceparent', async () => {
    const { sent } = await relay({});
    expect(traceIdOf(sent.traceparent)).toMatch(/^[0-9a-f]{32}$/);
    expect(records.find((record) => record.message === 'relayed')!.fields.trace_id).toBe(
      traceIdOf(sent.traceparent),
    );
  });

  it('runs a task as the root span of its own trace', async () => {
    await until(() => taskTraces.length > 0);
    expect(taskTraces[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});
