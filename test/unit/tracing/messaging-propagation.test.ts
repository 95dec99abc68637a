import { context, trace } from '@opentelemetry/api';
import {
  AmqpResource,
  Microservice,
  microservice,
  pull,
  respond,
  subscribe,
  taskTimer,
  Test,
  type App,
  type MessageMeta,
} from '../../../lib';
import { InMemoryBroker } from '../../../lib/testing';
import { quietLog, until } from '../../support/async';

interface Seen {
  pattern: string;
  traceId?: string;
  spanId?: string;
  /** The span id the message's traceparent names: the producer span. */
  sentBy: string;
}

const seen: Seen[] = [];
const timerTraces: string[] = [];
const active = () => trace.getSpan(context.active())?.spanContext();

function record(meta: MessageMeta): void {
  seen.push({
    pattern: meta.pattern,
    traceId: active()?.traceId,
    spanId: active()?.spanId,
    sentBy: String(meta.headers.traceparent).split('-')[2],
  });
}

@microservice({ name: 'fanout', resources: { amqp: AmqpResource } })
class Fanout extends Microservice {
  @subscribe('orders.created')
  created(_message: unknown, meta: MessageMeta): void {
    record(meta);
  }

  @pull('invoices')
  invoice(_message: unknown, meta: MessageMeta): void {
    record(meta);
  }

  @respond('quote')
  quote(_message: unknown, meta: MessageMeta): number {
    record(meta);
    return 1;
  }

  @taskTimer({ interval: 10 })
  tick(): void {
    timerTraces.push(active()?.traceId ?? 'none');
  }
}

describe('tracing: the trace context through publish, push and request to their consumers, and timer ticks', () => {
  const broker = new InMemoryBroker();
  let app: App;

  beforeAll(async () => {
    app = await Test.createMicroservice(Fanout, { log: quietLog() })
      .overrideResource(AmqpResource)
      .useClass(broker.AmqpResource)
      .withSettings({ system: { tracing: { enabled: true, exporter: 'none' } } })
      .start();
  });

  afterAll(() => app?.stop());

  it('runs @subscribe, @pull and @respond in a consumer span under the producer span of the sender', async () => {
    const amqp = app.get(AmqpResource);
    const caller = app.tracing.startSpan('caller', { parent: 'root' })!;
    const { traceId, spanId } = caller.spanContext();
    await app.tracing.run(caller, async () => {
      await amqp.publish('orders.created', { id: 1 });
      await amqp.push('invoices', { id: 1 });
      await expect(amqp.request('quote', { id: 1 })).resolves.toBe(1);
    });
    caller.end();
    await broker.settled();
    expect(seen.map(({ pattern }) => pattern).sort()).toEqual(['pull', 'respond', 'subscribe']);
    for (const message of seen) {
      expect(message.traceId).toBe(traceId);
      // A producer span between the caller and the message, a consumer span around the handler.
      expect(message.sentBy).toMatch(/^[0-9a-f]{16}$/);
      expect(message.sentBy).not.toBe(spanId);
      expect(message.spanId).not.toBe(message.sentBy);
      expect(message.spanId).not.toBe(spanId);
    }
    expect(new Set(seen.map(({ sentBy }) => sentBy)).size).toBe(3);
  });

  it('runs each tick of a @taskTimer as the root span of its own trace', async () => {
    await until(() => timerTraces.length >= 3, 5000, 'three ticks');
    expect(timerTraces.slice(0, 3).every((id) => /^[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(timerTraces.slice(0, 3)).size).toBe(3);
  });
});
