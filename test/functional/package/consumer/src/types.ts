// Type-level checks of Keel's declarations: each line fails to compile if a type degrades to any or
// unknown (an unresolved import in Keel's .d.ts turns it into any without any other error).
import {
  AmqpResource,
  createMicroservice,
  Discovery,
  HttpClientResource,
  HttpServerResource,
  inject,
  LazyServiceIdentifier,
  resourceToken,
  ResourceStatus,
  Test,
  type App,
  type Counter,
  type HttpContext,
  type Log,
  type MessageMeta,
  type MeterFactory,
  type ServiceIdentifier,
  type SettingsView,
} from 'keel';
import { trace, type Context, type Span } from '@opentelemetry/api';
import { FakeDiscovery, InMemoryBroker, messageMeta, Test as KitTest } from 'keel/testing';
import { ConsumerService, Greeter, type GreeterSettings } from './service';

type IsAny<T> = 0 extends 1 & T ? true : false;
export type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Real<T> = IsAny<T> extends true ? false : unknown extends T ? false : true;
export function expectType<T extends true>(): T | undefined {
  return undefined;
}

export async function typeChecks(
  ctx: HttpContext,
  view: SettingsView<GreeterSettings>,
  meters: MeterFactory,
  log: Log,
): Promise<void> {
  expectType<Equal<typeof ctx.params.id, string>>();
  // @ts-expect-error a route parameter is a string
  const asNumber: number = ctx.params.id;
  expectType<Real<typeof ctx.state.requestId>>();
  expectType<Real<typeof ctx.request>>();

  expectType<Equal<ReturnType<typeof view.get<'excited'>>, boolean>>();
  expectType<Equal<ReturnType<typeof view.value>, GreeterSettings>>();
  expectType<Equal<GreeterSettings['greeting'], string>>();
  // @ts-expect-error not a key of the schema
  view.get('colour');

  const counter = meters.counter('c', { help: 'c' });
  expectType<Equal<typeof counter, Counter>>();
  expectType<Real<typeof log.info>>();
  log.info('a message alone');
  log.warn({ sku: 'a' }, 'fields, then the message');
  // @ts-expect-error fields alone are not a record: the message is missing
  log.error({ sku: 'a' });

  const app = await createMicroservice(ConsumerService);
  expectType<Equal<typeof app, App>>();
  expectType<Equal<ReturnType<typeof app.get<HttpServerResource>>, HttpServerResource>>();
  const server = app.get(HttpServerResource);
  expectType<Equal<typeof server, HttpServerResource>>();
  expectType<Equal<ReturnType<typeof app.get<Greeter>>, Greeter>>();
  expectType<Real<ReturnType<typeof app.status>>>();
  expectType<Real<typeof ResourceStatus.STARTED>>();

  const token: ServiceIdentifier<Greeter> = resourceToken<Greeter>('greeter');
  expectType<Equal<ReturnType<typeof app.get<Greeter>>, Greeter>>();
  expectType<Real<typeof token>>();
  expectType<Real<ReturnType<typeof inject>>>();
  expectType<Real<LazyServiceIdentifier<Greeter>>>();
  new LazyServiceIdentifier(() => Greeter).unwrap();

  const builder = Test.createMicroservice(ConsumerService).overrideResource(Greeter);
  expectType<Real<typeof builder>>();
  expectType<Real<ReturnType<typeof builder.useValue>>>();
  builder.useValue({ greet: (who: string) => who });
  // @ts-expect-error a replacement has the replaced resource's public members, typed as they are
  builder.useValue({ greet: (who: number) => String(who) });
  // @ts-expect-error a replacement without them is refused
  builder.useValue({});
  const byName = Test.createMicroservice(ConsumerService).overrideResource('greeter');
  // @ts-expect-error by name, a replacement needs the type it stands for
  byName.useValue({ greet: () => '' });
  const typedByName = Test.createMicroservice(ConsumerService).overrideResource<Greeter>('greeter');
  typedByName.useValue({ greet: () => '', stop: () => undefined });
  const discovery = Test.createMicroservice(ConsumerService).overrideResource(Discovery);
  // @ts-expect-error a fake Discovery must have what the HTTP client and users call
  discovery.useValue({ pick: () => undefined });
  Test.createMicroservice(ConsumerService).overrideResource(Discovery).useValue(new FakeDiscovery());
  Test.createMicroservice(ConsumerService)
    .overrideResource(AmqpResource)
    .useClass(new InMemoryBroker().AmqpResource);
  expectType<Equal<ReturnType<typeof messageMeta>, MessageMeta>>();
  // The kit's Test is the entry's: one copy of Keel.
  expectType<Equal<typeof KitTest, typeof Test>>();
  void asNumber;
}

/** The type leaks of issue 22: each typo or wrong guess below fails to compile. */
export async function strictChecks(
  view: SettingsView<GreeterSettings>,
  meters: MeterFactory,
  client: HttpClientResource,
): Promise<Response> {
  view.watch('excited', (next, previous) => {
    expectType<Equal<typeof next, boolean>>();
    expectType<Equal<typeof previous, boolean>>();
  });
  view.watch('', (next) => expectType<Equal<typeof next, GreeterSettings>>());
  // @ts-expect-error not a key of the schema
  view.watch('colour', () => undefined);

  const app = await createMicroservice(ConsumerService);
  const typed: Greeter = app.get<Greeter>('greeter');
  // @ts-expect-error by a bare name the type is not taken from where the result goes
  const guessed: Greeter = app.get('greeter');
  // @ts-expect-error nor can it be used untyped
  app.get('greeter').greet('ann');

  Test.createMicroservice(ConsumerService).withSettings({
    system: { logging: { level: 'warn', stdout: false }, resources: { greeter: { excited: true } } },
  });
  // @ts-expect-error a misspelled scope
  Test.createMicroservice(ConsumerService).withSettings({ system: { loging: { level: 'warn' } } });
  // @ts-expect-error stdout is a flag
  Test.createMicroservice(ConsumerService).withSettings({ system: { logging: { stdout: 'no' } } });

  const orders = meters.counter('orders', { help: 'orders', labelNames: ['channel', 'sku'] });
  orders.labels({ channel: 'web' }).labels({ sku: 'ab-1' }).inc();
  // @ts-expect-error not one of labelNames
  orders.labels({ skuu: 'ab-1' });

  void typed;
  void guessed;
  // The platform's Response: what a method of the project returns, under strict, skipLibCheck false.
  const fallback = await client.get('/x', { fallback: () => new Response('{}') });
  return fallback;
}

/** A user's spans through `@opentelemetry/api` and through `app.tracing`, typed as the API's. */
export function tracingTypes(app: App): void {
  const own = app.tracing.startSpan('own work', { kind: 'internal', attributes: { 'order.id': 7 } });
  expectType<Equal<typeof own, Span | undefined>>();
  const answer = app.tracing.run(own, () => {
    // Inside Keel's span the API's active span is it, and a span started there nests under it.
    const active = trace.getActiveSpan();
    expectType<Equal<typeof active, Span | undefined>>();
    return trace.getTracer('user').startActiveSpan('nested', (child: Span) => {
      child.setAttribute('nested', true);
      child.end();
      return 42;
    });
  });
  expectType<Equal<typeof answer, number>>();
  const carrier: Record<string, unknown> = {};
  app.tracing.inject(carrier, own);
  const parent = app.tracing.extract(carrier);
  expectType<Equal<typeof parent, Context | undefined>>();
  app.tracing.startSpan('continued', { kind: 'consumer', parent })?.end();
  // @ts-expect-error a span kind OpenTelemetry has
  app.tracing.startSpan('sideways', { kind: 'sideways' });
  app.tracing.end(own);
}
