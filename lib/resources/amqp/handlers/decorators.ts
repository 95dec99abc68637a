import type { Infer, Schema } from '../../../contracts/schema';
import type { Log } from '../../../lifecycle/log';

export type MessagePattern = 'subscribe' | 'respond' | 'pull';

/** What a handler gets beside the decoded message. */
export interface MessageMeta {
  readonly pattern: MessagePattern;
  /** The queue it was consumed from. */
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, unknown>>;
  /** From the `x-request-id` header, or generated for a message without one. */
  readonly requestId: string;
  /** 0 for the first delivery through the handler, then 1, 2… for each retry. */
  readonly attempt: number;
  /** The broker delivered it before (a consumer went away without acking it). */
  readonly redelivered: boolean;
  /** The resource's logger with `request_id` and `queue` bound. */
  readonly log: Log;
}

/** For `@respond` the return value is the reply; for the others it is ignored. */
export type MessageHandler<T = never> = (message: T, meta: MessageMeta) => unknown;

export interface HandlerOptions<S extends Schema = Schema> {
  /**
   * The message's schema: a delivery that does not match is dead-lettered with the problems as its
   * reason (a request gets an error reply), and the handler's message is typed from it.
   */
  schema?: S;
  /** For `@respond`: the reply's schema (documented in the AsyncAPI document). */
  reply?: Schema;
  /** One line for the AsyncAPI document. */
  summary?: string;
  /** Name of the AmqpResource that consumes; required when the service has several. */
  resource?: string;
}

export interface SubscribeOptions<S extends Schema = Schema> extends HandlerOptions<S> {
  /** The queue's name; `<service>.<pattern>` by default, shared by the service's instances. */
  queue?: string;
}

export interface DeclaredHandler {
  pattern: MessagePattern;
  /** A topic pattern for subscribe, a routing key for respond, a queue for pull. */
  target: string;
  key: string | symbol;
  resource?: string;
  queue?: string;
  options: SubscribeOptions;
}

const handlersByPrototype = new WeakMap<object, DeclaredHandler[]>();

/** The handler a decorator with options `O` accepts: its message typed from `schema`, its answer from `reply`. */
export type HandlerFor<O> = (
  message: O extends { schema: infer S } ? Infer<S> : never,
  meta: MessageMeta,
) => O extends { reply: infer R } ? Infer<R> | PromiseLike<Infer<R>> : unknown;

type HandlerDecorator<O> = <H extends HandlerFor<O>>(
  prototype: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<H>,
) => void;

function declare<O extends SubscribeOptions>(
  pattern: MessagePattern,
  target: string,
  options: O,
): HandlerDecorator<O> {
  return (prototype, key, descriptor) => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(`@${pattern}('${target}') must decorate a method, not ${String(key)}`);
    }
    const handlers = handlersByPrototype.get(prototype) ?? [];
    handlers.push({ pattern, target, key, resource: options.resource, queue: options.queue, options });
    handlersByPrototype.set(prototype, handlers);
  };
}

/** Every message published to a topic matching `pattern` (`orders.*`, `#`), once per service. */
export function subscribe<const O extends SubscribeOptions = SubscribeOptions<never>>(
  pattern: string,
  options: O = {} as O,
): HandlerDecorator<O> {
  return declare('subscribe', pattern, options);
}

/** Answers `request(routingKey, …)`: the return value is the reply, a thrown error an error reply. */
export function respond<const O extends HandlerOptions = HandlerOptions<never>>(
  routingKey: string,
  options: O = {} as O,
): HandlerDecorator<O> {
  return declare('respond', routingKey, options);
}

/** Takes work from the durable queue `queue`, competing with other consumers; acked once it resolves. */
export function pull<const O extends HandlerOptions = HandlerOptions<never>>(
  queue: string,
  options: O = {} as O,
): HandlerDecorator<O> {
  return declare('pull', queue, options);
}

/** The handlers declared on `prototype`'s class and the classes it extends, base classes first. */
export function handlersOfPrototype(prototype: object | null): DeclaredHandler[] {
  const chain: DeclaredHandler[][] = [];
  for (let proto = prototype; proto !== null;) {
    const own = handlersByPrototype.get(proto);
    if (own !== undefined) chain.unshift(own);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return chain.flat();
}

/**
 * Marks an error a retry cannot fix (a 404 from a dependency, a refused value): a `@subscribe` or
 * `@pull` handler that throws it has its message dead-lettered at once, not retried.
 */
export function permanent<E extends Error>(error: E): E & { readonly permanent: true } {
  return Object.assign(error, { permanent: true as const });
}
