import { addGraphCheck } from '../../../container/checks';
import type { Log } from '../../../lifecycle/log';
import { requireAmqpForHandlers } from './check';

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

export interface HandlerOptions {
  /** Name of the AmqpResource that consumes; required when the service has several. */
  resource?: string;
}

export interface SubscribeOptions extends HandlerOptions {
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
}

const handlersByPrototype = new WeakMap<object, DeclaredHandler[]>();

function declare(pattern: MessagePattern, target: string, options: SubscribeOptions) {
  return <H extends MessageHandler>(
    prototype: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(`@${pattern}('${target}') must decorate a method, not ${String(key)}`);
    }
    addGraphCheck(prototype, requireAmqpForHandlers);
    const handlers = handlersByPrototype.get(prototype) ?? [];
    handlers.push({ pattern, target, key, resource: options.resource, queue: options.queue });
    handlersByPrototype.set(prototype, handlers);
  };
}

/** Every message published to a topic matching `pattern` (`orders.*`, `#`), once per service. */
export function subscribe(pattern: string, options: SubscribeOptions = {}) {
  return declare('subscribe', pattern, options);
}

/** Answers `request(routingKey, …)`: the return value is the reply, a thrown error an error reply. */
export function respond(routingKey: string, options: HandlerOptions = {}) {
  return declare('respond', routingKey, options);
}

/** Takes work from the durable queue `queue`, competing with other consumers; acked once it resolves. */
export function pull(queue: string, options: HandlerOptions = {}) {
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
