import { EventEmitter } from 'node:events';
import type { ConsumeMessage, Message, Options } from 'amqplib';
import { resource } from '../container/decorators';
import type { ResourceClass } from '../container/provider';
import { codecNamed, decodeMessage, encodeWith, jsonCodec } from '../resources/amqp/codecs/codec';
import { useTransport, type AmqpTransport } from '../resources/amqp/connection/amqplib';
import { ERROR_HEADER } from '../resources/amqp/connection/requester';
import { AmqpRequestError } from '../resources/amqp/errors';
import { AmqpResource } from '../resources/amqp/resource';

/** A message as the in-memory broker saw it published, with its body decoded by its content type. */
export interface PublishedMessage {
  /** `keel.events` for `publish`, `''` for a work queue, a retry, a dead letter or a reply. */
  readonly exchange: string;
  /** The topic, or the queue of a message sent to a queue. */
  readonly routingKey: string;
  readonly body: unknown;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, unknown>>;
}

export interface BrokerSendOptions {
  /** A registered codec's name: `json` by default. */
  codec?: string;
  headers?: Record<string, string | number | boolean>;
  /** The topic exchange; the AmqpResource's default `keel.events` unless given. */
  exchange?: string;
}

interface Delivery {
  content: Buffer;
  fields: { exchange: string; routingKey: string };
  properties: Options.Publish;
  redelivered: boolean;
}

interface Consumer {
  tag: string;
  channel: MemoryChannel;
  noAck: boolean;
  onMessage(message: ConsumeMessage | null): void;
}

interface Queue {
  name: string;
  ready: Delivery[];
  consumers: Consumer[];
  turn: number;
}

const REPLY_TO = 'amq.rabbitmq.reply-to';

/** AMQP topic matching: `*` is one word, `#` zero or more. */
function topicMatches(pattern: string, routingKey: string): boolean {
  const words = routingKey.split('.');
  const parts = pattern.split('.');
  const match = (p: number, w: number): boolean => {
    if (p === parts.length) return w === words.length;
    if (parts[p] === '#') return match(p + 1, w) || (w < words.length && match(p, w + 1));
    return w < words.length && (parts[p] === '*' || parts[p] === words[w]) && match(p + 1, w + 1);
  };
  return match(0, 0);
}

/**
 * A RabbitMQ stand-in in the process: topic exchanges, durable and reply queues, consumers with
 * acks and redelivery, confirms, mandatory returns, direct reply-to. An `AmqpResource` made by
 * `broker.AmqpResource` connects to it instead of a broker, and runs as it does against RabbitMQ:
 * the same consumers, codecs, retries, dead letters and `MessageMeta`. Several apps on one broker
 * talk to each other.
 */
export class InMemoryBroker {
  private readonly broker = new Broker();
  private resourceClass?: ResourceClass<AmqpResource>;
  private replies?: MemoryChannel;
  private readonly requests = new Map<string, (message: ConsumeMessage) => void>();

  /**
   * An AmqpResource that connects to this broker: `Test.createMicroservice(S)
   * .overrideResource(AmqpResource).useClass(broker.AmqpResource)`. Its settings apply as usual.
   */
  get AmqpResource(): ResourceClass<AmqpResource> {
    if (this.resourceClass === undefined) {
      const transport = this.broker.transport;
      @resource()
      class InMemoryAmqpResource extends AmqpResource {
        protected readonly inMemory = useTransport(this, transport);
      }
      this.resourceClass = InMemoryAmqpResource;
    }
    return this.resourceClass;
  }

  /** Every message published so far, by any app on this broker or by the test, oldest first. */
  get published(): readonly PublishedMessage[] {
    return this.broker.records;
  }

  /** The bodies of the messages published with `routingKey` (a topic, or a queue's name). */
  publishedTo(routingKey: string): unknown[] {
    return this.broker.records
      .filter((record) => record.routingKey === routingKey)
      .map((record) => record.body);
  }

  /** The bodies waiting in `queue`, not delivered to a consumer (a dead-letter queue: `<queue>.dead`). */
  waiting(queue: string): unknown[] {
    return this.broker.waiting(queue).map((delivery) => decodeOf(delivery.content, delivery.properties));
  }

  /** Publishes to the topic exchange as `AmqpResource.publish` would; resolves once every handler it reached settled. */
  async publish(topic: string, message: unknown, options: BrokerSendOptions = {}): Promise<void> {
    this.broker.send(options.exchange ?? 'keel.events', topic, ...encode(message, options));
    await this.settled();
  }

  /** Sends to the work queue `queue` as `AmqpResource.push` would; resolves once its handler settled. */
  async push(queue: string, message: unknown, options: BrokerSendOptions = {}): Promise<void> {
    this.broker.queue(queue);
    this.broker.send('', queue, ...encode(message, options));
    await this.settled();
  }

  /** Asks the `@respond(routingKey)` handler, as `AmqpResource.request` would; rejects with its error. */
  async request<R = unknown>(
    routingKey: string,
    message: unknown,
    options: BrokerSendOptions = {},
  ): Promise<R> {
    if (!this.broker.hasQueue(routingKey)) {
      throw new AmqpRequestError(
        'AMQP_NO_RESPONDER',
        `request '${routingKey}': nothing responds to it on the broker`,
      );
    }
    const correlationId = `broker-${this.broker.nextId()}`;
    const reply = new Promise<ConsumeMessage>((resolve) => this.requests.set(correlationId, resolve));
    const [content, properties] = encode(message, options);
    this.replyChannel().publish('', routingKey, content, { ...properties, correlationId, replyTo: REPLY_TO });
    const answer = await reply;
    const error = answer.properties.headers?.[ERROR_HEADER];
    if (error !== undefined) {
      throw new AmqpRequestError(
        'AMQP_REMOTE_ERROR',
        `request '${routingKey}' failed in its responder: ${String(error)}`,
      );
    }
    return decodeOf(answer.content, answer.properties) as R;
  }

  /**
   * Resolves once nothing is in flight: every delivered message acked (its handler settled, its
   * retries done) and every queue with a consumer empty.
   */
  settled(): Promise<void> {
    return this.broker.settled();
  }

  private replyChannel(): MemoryChannel {
    if (this.replies === undefined) {
      const channel = new MemoryChannel(this.broker, false);
      this.broker.registerReplies(channel);
      channel.replyHandler = (message) => {
        const id = message.properties.correlationId as string | undefined;
        const resolve = id === undefined ? undefined : this.requests.get(id);
        if (resolve === undefined) return;
        this.requests.delete(id!);
        resolve(message);
      };
      this.replies = channel;
    }
    return this.replies;
  }
}

function encode(message: unknown, options: BrokerSendOptions): [Buffer, Options.Publish] {
  const codec = codecNamed(options.codec ?? 'json');
  return [
    encodeWith(codec, message, 'a message of the in-memory broker'),
    { contentType: codec.contentType, headers: options.headers, persistent: true },
  ];
}

/** The broker's state: queues, bindings, deliveries in flight; what the channels act on. */
class Broker {
  private readonly queues = new Map<string, Queue>();
  private readonly bindings = new Map<string, { queue: string; pattern: string }[]>();
  private readonly replyChannels = new Map<string, MemoryChannel>();
  readonly records: PublishedMessage[] = [];
  private readonly waiters: (() => void)[] = [];
  private unacked = 0;
  private pending = 0;
  private sequence = 0;
  readonly transport = {
    connect: (_url: string, options: object) => Promise.resolve(this.connect(options)),
  } as unknown as AmqpTransport;

  settled(): Promise<void> {
    if (this.isSettled()) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  hasQueue(name: string): boolean {
    return this.queues.has(name);
  }

  waiting(name: string): readonly Delivery[] {
    return this.queues.get(name)?.ready ?? [];
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = { name, ready: [], consumers: [], turn: 0 };
      this.queues.set(name, queue);
    }
    return queue;
  }

  bind(queue: string, exchange: string, pattern: string): void {
    const bound = this.bindings.get(exchange) ?? [];
    if (!bound.some((binding) => binding.queue === queue && binding.pattern === pattern)) {
      bound.push({ queue, pattern });
    }
    this.bindings.set(exchange, bound);
  }

  /** Routes one message; false when no queue took it. */
  send(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: Options.Publish,
    from?: MemoryChannel,
  ): boolean {
    this.records.push({
      exchange,
      routingKey,
      body: decodeOf(content, properties),
      contentType: properties.contentType,
      headers: { ...properties.headers },
    });
    if (exchange === '' && routingKey.startsWith(`${REPLY_TO}.`)) {
      const channel = this.replyChannels.get(routingKey);
      channel?.deliverReply(content, routingKey, properties);
      return channel !== undefined;
    }
    const replyTo =
      properties.replyTo === REPLY_TO && from !== undefined ? `${REPLY_TO}.${from.id}` : properties.replyTo;
    const delivery = (): Delivery => ({
      content,
      fields: { exchange, routingKey },
      properties: { ...properties, replyTo },
      redelivered: false,
    });
    const targets =
      exchange === ''
        ? this.queues.has(routingKey)
          ? [routingKey]
          : []
        : [
            ...new Set(
              (this.bindings.get(exchange) ?? [])
                .filter((binding) => topicMatches(binding.pattern, routingKey))
                .map((binding) => binding.queue),
            ),
          ];
    for (const name of targets) {
      const queue = this.queue(name);
      queue.ready.push(delivery());
      this.pump(queue);
    }
    return targets.length > 0;
  }

  consume(queue: string, consumer: Consumer): void {
    const target = this.queue(queue);
    target.consumers.push(consumer);
    this.pump(target);
  }

  cancel(tag: string): void {
    for (const queue of this.queues.values()) {
      queue.consumers = queue.consumers.filter((consumer) => consumer.tag !== tag);
    }
    this.check();
  }

  /** A closed channel's unacked deliveries go back to their queues, marked redelivered. */
  requeue(queue: string, delivery: Delivery): void {
    this.unacked--;
    const target = this.queue(queue);
    target.ready.unshift({ ...delivery, redelivered: true });
    this.pump(target);
  }

  acked(): void {
    this.unacked--;
    this.check();
  }

  registerReplies(channel: MemoryChannel): void {
    this.replyChannels.set(`${REPLY_TO}.${channel.id}`, channel);
  }

  nextId(): number {
    return ++this.sequence;
  }

  private connect(options: object): MemoryConnection {
    const setup = (options as { recovery?: { setup?: (model: MemoryModel) => Promise<void> } }).recovery
      ?.setup;
    return new MemoryConnection(this, setup);
  }

  private pump(queue: Queue): void {
    this.pending++;
    setImmediate(() => {
      this.pending--;
      while (queue.ready.length > 0) {
        const consumer = this.nextConsumer(queue);
        if (consumer === undefined) break;
        const delivery = queue.ready.shift()!;
        if (!consumer.noAck) this.unacked++;
        consumer.channel.deliver(consumer, queue.name, delivery);
      }
      this.check();
    });
  }

  private nextConsumer(queue: Queue): Consumer | undefined {
    const { consumers } = queue;
    for (let tried = 0; tried < consumers.length; tried++) {
      const consumer = consumers[queue.turn++ % consumers.length];
      if (consumer.channel.canTake()) return consumer;
    }
    return undefined;
  }

  private isSettled(): boolean {
    if (this.unacked > 0 || this.pending > 0) return false;
    for (const queue of this.queues.values()) {
      if (queue.ready.length > 0 && queue.consumers.length > 0) return false;
    }
    return true;
  }

  private check(): void {
    if (this.waiters.length === 0 || !this.isSettled()) return;
    // A turn later: a handler's ack comes before the code after it (a resend, a reply) has run.
    setImmediate(() => {
      if (!this.isSettled()) return;
      for (const resolve of this.waiters.splice(0)) resolve();
    });
  }
}

function decodeOf(content: Buffer, properties: Options.Publish): unknown {
  try {
    return decodeMessage(content, properties.contentType as string | undefined, jsonCodec);
  } catch {
    return content;
  }
}

/** What `amqplib.connect` returns with recovery: one connection (a model) at a time. */
class MemoryConnection extends EventEmitter {
  private model?: MemoryModel;
  private readonly ready: Promise<void>;

  constructor(broker: Broker, setup: ((model: MemoryModel) => Promise<void>) | undefined) {
    super();
    const model = new MemoryModel(broker);
    this.model = model;
    this.ready = (async () => {
      await setup?.(model);
      this.emit('connect');
    })();
    this.ready.catch(() => undefined);
  }

  waitForConnect(): Promise<void> {
    return this.ready;
  }

  async close(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    await model?.close();
  }
}

/** amqplib's ChannelModel. */
class MemoryModel extends EventEmitter {
  readonly connection = {};
  private readonly channels = new Set<MemoryChannel>();

  constructor(private readonly broker: Broker) {
    super();
  }

  createChannel(): Promise<MemoryChannel> {
    return Promise.resolve(this.open(false));
  }

  createConfirmChannel(): Promise<MemoryChannel> {
    return Promise.resolve(this.open(true));
  }

  async close(): Promise<void> {
    for (const channel of [...this.channels]) await channel.close();
    this.emit('close');
  }

  private open(confirm: boolean): MemoryChannel {
    const channel = new MemoryChannel(this.broker, confirm);
    this.channels.add(channel);
    channel.once('close', () => this.channels.delete(channel));
    return channel;
  }
}

/** amqplib's Channel and ConfirmChannel, for what Keel calls on them. */
class MemoryChannel extends EventEmitter {
  readonly id: number;
  private prefetchCount = 0;
  private closed = false;
  private readonly consumers = new Map<string, Consumer>();
  private readonly unacked = new Map<number, { queue: string; delivery: Delivery }>();
  private deliveryTag = 0;
  /** Set on a channel consuming direct reply-to. */
  replyHandler?: (message: ConsumeMessage) => void;

  constructor(
    private readonly broker: Broker,
    private readonly confirm: boolean,
  ) {
    super();
    this.id = broker.nextId();
  }

  prefetch(count: number): Promise<void> {
    this.prefetchCount = count;
    return Promise.resolve();
  }

  assertExchange(exchange: string): Promise<{ exchange: string }> {
    return Promise.resolve({ exchange });
  }

  assertQueue(queue: string): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    this.broker.queue(queue);
    return Promise.resolve({ queue, messageCount: 0, consumerCount: 0 });
  }

  bindQueue(queue: string, exchange: string, pattern: string): Promise<object> {
    this.broker.bind(queue, exchange, pattern);
    return Promise.resolve({});
  }

  consume(
    queue: string,
    onMessage: (message: ConsumeMessage | null) => void,
    options: { noAck?: boolean } = {},
  ): Promise<{ consumerTag: string }> {
    const tag = `memory-${this.broker.nextId()}`;
    if (queue === REPLY_TO) {
      this.broker.registerReplies(this);
      this.replyHandler = (message) => onMessage(message);
      return Promise.resolve({ consumerTag: tag });
    }
    const consumer: Consumer = { tag, channel: this, noAck: options.noAck === true, onMessage };
    this.consumers.set(tag, consumer);
    this.broker.consume(queue, consumer);
    return Promise.resolve({ consumerTag: tag });
  }

  cancel(tag: string): Promise<object> {
    this.consumers.delete(tag);
    this.broker.cancel(tag);
    return Promise.resolve({});
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish = {},
    confirmed?: (error: Error | null) => void,
  ): boolean {
    if (this.closed) throw new Error('Channel closed');
    const routed = this.broker.send(exchange, routingKey, content, options, this);
    if (!routed && options.mandatory === true) {
      setImmediate(() =>
        this.emit('return', {
          content,
          fields: { exchange, routingKey, replyCode: 312, replyText: 'NO_ROUTE' },
          properties: options,
        } as unknown as Message),
      );
    }
    if (this.confirm && confirmed !== undefined) setImmediate(() => confirmed(null));
    return true;
  }

  ack(message: Message): void {
    const tag = message.fields.deliveryTag;
    if (!this.unacked.delete(tag)) return;
    this.broker.acked();
  }

  nack(message: Message, _allUpTo = false, requeue = true): void {
    const entry = this.unacked.get(message.fields.deliveryTag);
    if (entry === undefined) return;
    this.unacked.delete(message.fields.deliveryTag);
    if (requeue) this.broker.requeue(entry.queue, entry.delivery);
    else this.broker.acked();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const tag of this.consumers.keys()) this.broker.cancel(tag);
    this.consumers.clear();
    for (const { queue, delivery } of this.unacked.values()) this.broker.requeue(queue, delivery);
    this.unacked.clear();
    await Promise.resolve();
    this.emit('close');
  }

  canTake(): boolean {
    return !this.closed && (this.prefetchCount === 0 || this.unacked.size < this.prefetchCount);
  }

  deliver(consumer: Consumer, queue: string, delivery: Delivery): void {
    const deliveryTag = ++this.deliveryTag;
    if (!consumer.noAck) this.unacked.set(deliveryTag, { queue, delivery });
    consumer.onMessage(toMessage(delivery, deliveryTag, consumer.tag));
  }

  deliverReply(content: Buffer, routingKey: string, properties: Options.Publish): void {
    const delivery: Delivery = {
      content,
      fields: { exchange: '', routingKey },
      properties,
      redelivered: false,
    };
    const handler = this.replyHandler;
    if (handler !== undefined) setImmediate(() => handler(toMessage(delivery, 0, REPLY_TO)));
  }
}

function toMessage(delivery: Delivery, deliveryTag: number, consumerTag: string): ConsumeMessage {
  return {
    content: delivery.content,
    fields: {
      deliveryTag,
      redelivered: delivery.redelivered,
      exchange: delivery.fields.exchange,
      routingKey: delivery.fields.routingKey,
      consumerTag,
    },
    properties: { headers: {}, ...delivery.properties },
  } as unknown as ConsumeMessage;
}
