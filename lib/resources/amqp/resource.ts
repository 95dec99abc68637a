import type { ConsumeMessage, Options } from 'amqplib';
import { resource } from '../../container/decorators';
import { inject, optional } from '../../container/injection';
import { LOGGER, METRICS, RESOURCE_NAME, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import { ResourceStatus } from '../../lifecycle/status';
import type { ResourceHealth } from '../../lifecycle/manager';
import type { Counter, Histogram, MeterFactory } from '../../metrics';
import type { SettingsView } from '../../settings/types';
import { compileMessageCheck, requireValidMessage, type MessageCheck } from '../../contracts/message';
import type { MessageOf, Schema } from '../../contracts/schema';
import { SchemaCompiler } from '../../contracts/validator';
import { contextRequestId, REQUEST_ID_HEADER } from '../../context';
import { CODECS, Codecs, encodeWith, type Codec } from './codecs/codec';
import { transportOf } from './connection/amqplib';
import { Link, type SendBound, type Session } from './connection/link';
import { ERROR_CODE_HEADER, ERROR_HEADER, Requester } from './connection/requester';
import { AmqpError, AmqpRequestError } from './errors';
import { Consumer, type ConsumerContext, type QueueMeters } from './handlers/consumer';
import { tracedSend } from './tracing';
import {
  handlersOfPrototype,
  type DeclaredHandler,
  type MessageHandler,
  type MessageMeta,
  type MessagePattern,
} from './handlers/decorators';
import { redactUrl } from '../../settings/redact';
import { Policy } from '../../resilience/policy';
import { breakerOptions } from '../../resilience/settings';
import { isTimerMs, MAX_TIMER_MS } from '../../settings/formats';
import { claimDecorated, connectingHealth, quotedList } from '../decorated';
import { amqpSchema, type AmqpSettings } from './settings';

export interface SendOptions<S extends Schema = Schema> {
  /**
   * The message's schema: it types the message, and outside production (`validate_outgoing`) a
   * message that does not match is refused with a ContractError before anything is sent.
   */
  schema?: S;
  /** A registered codec's name; the resource's `codec` setting by default. */
  codec?: string;
  headers?: Record<string, string | number | boolean>;
  /** Sent as `x-request-id`; by default the id of the HTTP request being served, if the request context is on. */
  requestId?: string;
}

export interface RequestOptions<S extends Schema = Schema> extends SendOptions<S> {
  /** Each attempt's wait for the reply: the resource's `request_timeout_ms` by default. */
  timeout_ms?: number;
  /** The whole call, retries and the waits between them included: `request.total_timeout_ms` by default. */
  total_timeout_ms?: number;
  /**
   * The responder may get the request more than once: it is retried after a timeout, no responder
   * or a lost connection (`request.retries` times, on the jittered schedule). Not retried by default.
   */
  idempotent?: boolean;
  /** Instead of `request.retries`, for an idempotent request. */
  retries?: number;
  /** Aborts the call: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What a request's breaker counts and an idempotent request retries: no reply came, as opposed to an error reply. */
const REQUEST_FAILURES: ReadonlySet<string> = new Set([
  'AMQP_REQUEST_TIMEOUT',
  'AMQP_NO_RESPONDER',
  'AMQP_CONNECTION_LOST',
]);

interface Meters {
  consumed: Counter;
  failed: Counter;
  deadLettered: Counter;
  invalid: Counter;
  duration: Histogram;
  published: Counter;
}

/**
 * A RabbitMQ client with Tamarco's three patterns: publish/subscribe on a topic exchange,
 * request/response over direct reply-to, push/pull on durable work queues. One connection,
 * reconnected with backoff; consumers start in postStart, once every resource has started, and
 * stop taking deliveries as soon as the service begins stopping, before any resource stops.
 */
@resource({ settings: amqpSchema, name: 'amqp' })
export class AmqpResource {
  private link?: Link;
  private requester?: Requester;
  private codec: Codec;
  private readonly consumers: Consumer[] = [];
  private readonly queueMeters = new Map<string, QueueMeters>();
  private readonly publishedBy = new Map<string, Counter>();
  /** Compiles message schemas; ajv is loaded only once a handler or a send has one. */
  private readonly schemas = new SchemaCompiler();
  private readonly outgoingChecks = new WeakMap<object, MessageCheck>();
  private readonly meters: Meters;
  private readonly consumerContext: ConsumerContext;
  private requestPolicy?: { settings: AmqpSettings; policy: Policy<ConsumeMessage> };
  private handlersBound = false;
  private inFlight = 0;
  private onIdle?: () => void;
  private draining?: Promise<void>;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<AmqpSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meterFactory: MeterFactory,
    @inject(RESOURCE_NAME) readonly name: string,
    @optional() @inject(CODECS) private readonly codecs: Codecs = new Codecs(),
  ) {
    this.codec = codecs.named(settings.value().codec);
    const byQueue = ['queue'];
    this.meters = {
      consumed: meterFactory.counter('amqp_messages_consumed_total', {
        help: 'Messages a handler was run for, by queue',
        labelNames: byQueue,
      }),
      failed: meterFactory.counter('amqp_messages_failed_total', {
        help: 'Handler runs that threw or rejected, by queue',
        labelNames: byQueue,
      }),
      deadLettered: meterFactory.counter('amqp_messages_dead_lettered_total', {
        help: 'Messages moved to the dead-letter queue (undecodable, or out of retries), by queue',
        labelNames: byQueue,
      }),
      invalid: meterFactory.counter('amqp_messages_invalid_total', {
        help: "Messages refused by their handler's schema (and dead-lettered), by queue",
        labelNames: byQueue,
      }),
      duration: meterFactory.histogram('amqp_handler_duration_seconds', {
        help: 'Time from delivery to the handler settling, by queue',
        labelNames: byQueue,
      }),
      published: meterFactory.counter('amqp_messages_published_total', {
        help: 'Messages published, pushed or requested, by topic or queue',
        labelNames: ['destination'],
      }),
    };
    this.consumerContext = {
      link: undefined as unknown as Link,
      settings: settings.value(),
      codec: this.codec,
      codecs,
      log,
      tracing: service.tracing,
      meters: (queue) => this.metersOf(queue),
      began: () => this.inFlight++,
      ended: () => {
        if (--this.inFlight === 0) this.onIdle?.();
      },
    };
    service.onStopping(() => this.drain());
  }

  /** Connects, retrying `reconnect.start_attempts` times; handlers do not consume yet. */
  async start(): Promise<void> {
    const settings = this.settings.value();
    this.codec = this.codecs.named(settings.codec);
    this.draining = undefined;
    const link = new Link({
      resource: this.name,
      url: settings.url,
      heartbeatS: settings.heartbeat_s,
      confirm: settings.confirm,
      exchange: settings.exchange,
      reconnect: settings.reconnect,
      log: this.log,
      transport: transportOf(this, this.name),
      onConnect: (session) => this.resume(session),
    });
    Object.assign(this.consumerContext, { link, settings, codec: this.codec });
    this.link = link;
    this.requester = new Requester(link, this.name);
    try {
      await link.open();
    } catch (error) {
      this.link = undefined;
      throw error;
    }
  }

  /** Consumes only now, when every resource a handler may use has started. */
  async postStart(): Promise<void> {
    if (!this.handlersBound) {
      this.bindDecoratedHandlers();
      this.handlersBound = true;
    }
    const session = await this.requireLink().session();
    await Promise.all(this.consumers.map((consumer) => consumer.attach(session)));
  }

  /** Already drained when the service stops as a whole; this is also the path of a restart. */
  async stop(): Promise<void> {
    await this.drain();
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  /** CONNECTING while the connection is being recovered; the breakers of the routing keys requested. */
  status(): ResourceHealth {
    if (this.link === undefined || this.link.isOpen) {
      const breakers = this.requestPolicy?.policy.report() ?? [];
      return breakers.length === 0 ? ResourceStatus.STARTED : { status: ResourceStatus.STARTED, breakers };
    }
    const { url, affects_readiness } = this.settings.value();
    return connectingHealth(`reconnecting to ${redactUrl(url)}`, affects_readiness);
  }

  /** The URL this resource connects to, credentials redacted. */
  get url(): string {
    return redactUrl(this.settings.value().url);
  }

  /** To every queue bound to a matching pattern on the resource's topic exchange. */
  async publish<const S extends Schema = never>(
    topic: string,
    message: MessageOf<S>,
    options: SendOptions<S> = {},
  ): Promise<void> {
    const link = this.requireConnected(`publish('${topic}')`);
    const [content, properties] = this.encode(message, options, `publish('${topic}')`);
    properties.mandatory = true;
    await tracedSend(this.service.tracing, 'publish', topic, properties, (traced) =>
      link.within(this.publishBound(`publish('${topic}')`), (deadline) =>
        link.send(this.settings.value().exchange, topic, content, traced, undefined, deadline),
      ),
    );
    this.published(topic).inc();
  }

  /** To the durable work queue `queue` (declared here if need be), for one of its consumers. */
  async push<const S extends Schema = never>(
    queue: string,
    message: MessageOf<S>,
    options: SendOptions<S> = {},
  ): Promise<void> {
    const link = this.requireConnected(`push('${queue}')`);
    const [content, properties] = this.encode(message, options, `push('${queue}')`);
    const name = this.queueName(queue);
    await link.within(this.publishBound(`push('${queue}')`), async (deadline) => {
      await (await link.session(deadline)).workQueue(name);
      await tracedSend(this.service.tracing, 'push', name, properties, (traced) =>
        link.send('', name, content, traced, undefined, deadline),
      );
    });
    this.published(queue).inc();
  }

  /**
   * The reply of the `@respond(routingKey)` handler; rejects with its error, or on timeout. Each
   * attempt goes through the routing key's circuit breaker (`POLICY_BREAKER_OPEN` while it is open);
   * only an `idempotent` request is tried again.
   */
  async request<R = unknown, const S extends Schema = never>(
    routingKey: string,
    message: MessageOf<S>,
    options: RequestOptions<S> = {},
  ): Promise<R> {
    this.requireConnected(`request('${routingKey}')`);
    const settings = this.settings.value();
    const timeout = options.timeout_ms ?? settings.request_timeout_ms;
    for (const [option, value] of [
      ['timeout_ms', timeout],
      ['total_timeout_ms', options.total_timeout_ms ?? 0],
    ] as const) {
      if (isTimerMs(value)) continue;
      throw new AmqpRequestError(
        'AMQP_INVALID_OPTION',
        `request('${routingKey}') on amqp '${this.name}': ${option} must be an integer from 0 to ${MAX_TIMER_MS}, got ${String(value)}`,
      );
    }
    const [content, properties] = this.encode(message, options, `request('${routingKey}')`);
    const policy = this.requestPolicyOf(settings);
    const reply = await policy.execute(
      () =>
        policy.guard(routingKey, () => {
          this.published(routingKey).inc();
          return tracedSend(this.service.tracing, 'request', routingKey, properties, (traced) =>
            this.requester!.request(this.queueName(routingKey), content, traced, timeout),
          );
        }),
      {
        retry: options.idempotent === true,
        retries: options.retries,
        totalTimeoutMs: options.total_timeout_ms,
        signal: options.signal,
      },
    );
    return this.readReply(routingKey, reply) as R;
  }

  /** Like `@subscribe`; before start or at any time after. */
  subscribe<T>(
    pattern: string,
    handler: MessageHandler<T>,
    options: { queue?: string; schema?: Schema } = {},
  ): Promise<void> {
    return this.addConsumer(
      'subscribe',
      pattern,
      options.queue,
      `${this.name}.subscribe`,
      handler,
      options.schema,
    );
  }

  /** Like `@respond`. */
  respond<T>(
    routingKey: string,
    handler: MessageHandler<T>,
    options: { schema?: Schema } = {},
  ): Promise<void> {
    return this.addConsumer(
      'respond',
      routingKey,
      undefined,
      `${this.name}.respond`,
      handler,
      options.schema,
    );
  }

  /** Like `@pull`. */
  pull<T>(queue: string, handler: MessageHandler<T>, options: { schema?: Schema } = {}): Promise<void> {
    return this.addConsumer('pull', queue, undefined, `${this.name}.pull`, handler, options.schema);
  }

  private async addConsumer<T>(
    pattern: MessagePattern,
    target: string,
    queue: string | undefined,
    owner: string,
    handler: MessageHandler<T>,
    schema: Schema | undefined,
  ): Promise<void> {
    const consumer = this.consumerFor(
      pattern,
      target,
      queue,
      owner,
      (message, meta) => handler(message as T, meta),
      schema,
    );
    if (this.handlersBound && this.link !== undefined) await consumer.attach(await this.link.session());
  }

  private consumerFor(
    pattern: MessagePattern,
    target: string,
    queue: string | undefined,
    owner: string,
    handler: (message: unknown, meta: MessageMeta) => unknown,
    schema: Schema | undefined,
  ): Consumer {
    const consumer = new Consumer(
      {
        pattern,
        queue: this.queueName(queue ?? (pattern === 'subscribe' ? `${this.service.name}.${target}` : target)),
        topic: pattern === 'subscribe' ? target : undefined,
        owner,
        handler,
        ...(schema !== undefined && {
          check: compileMessageCheck(this.schemas, schema, `@${pattern}('${target}') on ${owner}`),
        }),
      },
      this.consumerContext,
    );
    this.consumers.push(consumer);
    return consumer;
  }

  /** A new connection: every consumer declares its queue and consumes again. */
  private async resume(session: Session): Promise<void> {
    if (this.draining !== undefined || !this.handlersBound) return;
    await Promise.all(this.consumers.map((consumer) => consumer.attach(session)));
  }

  private drain(): Promise<void> {
    this.draining ??= this.runDrain();
    return this.draining;
  }

  private async runDrain(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.cancel()));
    const graceMs = this.settings.value().drain_timeout_ms;
    const inFlight = this.inFlight;
    if (inFlight > 0)
      this.log.info({ inFlight, graceMs }, `amqp '${this.name}' draining ${inFlight} handler(s)`);
    const timedOut = await this.idle(graceMs);
    await Promise.all(this.consumers.map((consumer) => consumer.close()));
    if (timedOut) {
      this.log.warn(
        { abandoned: this.inFlight, graceMs },
        `amqp '${this.name}' drained: ${this.inFlight} handler(s) still running after ${graceMs} ms, not acked; the broker redelivers them`,
      );
    } else if (inFlight > 0) {
      this.log.info({}, `amqp '${this.name}' drained: every handler finished`);
    }
  }

  /** Resolves true when the grace ran out first. */
  private idle(graceMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(true), graceMs);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve(false);
      };
    });
  }

  private encode(message: unknown, options: SendOptions, what: string): [Buffer, Options.Publish] {
    if (options.schema !== undefined && this.validatesOutgoing()) {
      let check = this.outgoingChecks.get(options.schema);
      if (check === undefined) {
        check = compileMessageCheck(this.schemas, options.schema, `${what} on amqp '${this.name}'`);
        this.outgoingChecks.set(options.schema, check);
      }
      message = requireValidMessage(check, message, `${what} on amqp '${this.name}'`);
    }
    const codec = options.codec === undefined ? this.codec : this.codecs.named(options.codec);
    const content = encodeWith(codec, message, `${what} on amqp '${this.name}'`);
    const requestId = options.requestId ?? contextRequestId();
    const headers =
      requestId === undefined ? options.headers : { ...options.headers, [REQUEST_ID_HEADER]: requestId };
    return [content, { contentType: codec.contentType, persistent: true, headers }];
  }

  private validatesOutgoing(): boolean {
    const setting = this.settings.value().validate_outgoing;
    return setting === 'on' || (setting === 'auto' && this.service.env.NODE_ENV !== 'production');
  }

  private readReply(routingKey: string, reply: ConsumeMessage): unknown {
    const headers = reply.properties.headers ?? {};
    const error = headers[ERROR_HEADER];
    if (error !== undefined) {
      const code = headers[ERROR_CODE_HEADER] as string | undefined;
      throw new AmqpRequestError(
        'AMQP_REMOTE_ERROR',
        `request '${routingKey}' on amqp '${this.name}' failed in its responder: ${String(error)}`,
        code,
      );
    }
    return this.codecs.decode(reply.content, reply.properties.contentType as string | undefined, this.codec);
  }

  /** The link, refusing at once while it is down if `fail_fast` says so. */
  private requireConnected(what: string): Link {
    const link = this.requireLink();
    if (!link.isOpen && this.settings.value().fail_fast) {
      throw new AmqpError(
        'AMQP_NOT_CONNECTED',
        `${what} on amqp '${this.name}': not connected to ${this.url} (${this.settings.path}.fail_fast is on)`,
      );
    }
    return link;
  }

  private publishBound(what: string): SendBound {
    const timeoutMs = this.settings.value().publish_timeout_ms;
    return {
      timeoutMs,
      timedOut: () =>
        new AmqpError(
          'AMQP_PUBLISH_TIMEOUT',
          `${what} on amqp '${this.name}' was not confirmed within ${timeoutMs} ms (${this.settings.path}.publish_timeout_ms)${this.link?.isOpen === true ? '' : `: not connected to ${this.url}`}; it is not sent again`,
        ),
    };
  }

  /** A queue's name on the broker: `queue_prefix` first. */
  private queueName(queue: string): string {
    return this.settings.value().queue_prefix + queue;
  }

  /** The policy of these settings: made again, with closed breakers, only when they change. */
  private requestPolicyOf(settings: AmqpSettings): Policy<ConsumeMessage> {
    if (this.requestPolicy?.settings === settings) return this.requestPolicy.policy;
    const { request } = settings;
    const policy = new Policy<ConsumeMessage>({
      name: `amqp '${this.name}'`,
      // Each attempt's timeout is the requester's own: it also sets the message's expiration.
      timeoutMs: 0,
      totalTimeoutMs: request.total_timeout_ms,
      retry: {
        retries: request.retries,
        backoffMs: request.backoff_ms,
        maxBackoffMs: request.max_backoff_ms,
      },
      breaker: breakerOptions(request.breaker),
      isFailure: (error) => error instanceof AmqpRequestError && REQUEST_FAILURES.has(error.code),
      observer: {
        transition: ({ target, from, to, cause }) => {
          if (to === 'open' && from === 'closed') {
            this.log.warn(
              { routing_key: target, err: cause instanceof Error ? cause : undefined },
              `amqp '${this.name}': circuit breaker of request('${target}') opened${cause instanceof Error ? ` (${cause.message})` : ''}; a probe in ${request.breaker.half_open_after_ms} ms`,
            );
          } else if (to === 'closed') {
            this.log.info(
              { routing_key: target },
              `amqp '${this.name}': circuit breaker of request('${target}') closed: the probe got a reply`,
            );
          }
        },
        retrying: (attempt, delayMs) =>
          this.log.debug(
            { attempt, delay_ms: delayMs },
            `amqp '${this.name}': request attempt ${attempt} failed, retrying in ${delayMs} ms`,
          ),
      },
    });
    this.requestPolicy = { settings, policy };
    return policy;
  }

  private requireLink(): Link {
    if (this.link === undefined || this.link.isClosed) {
      throw new AmqpError('AMQP_NOT_STARTED', `amqp '${this.name}' is not started`);
    }
    return this.link;
  }

  private metersOf(queue: string): QueueMeters {
    let meters = this.queueMeters.get(queue);
    if (meters === undefined) {
      const labels = { queue };
      meters = {
        consumed: this.meters.consumed.labels(labels),
        failed: this.meters.failed.labels(labels),
        deadLettered: this.meters.deadLettered.labels(labels),
        invalid: this.meters.invalid.labels(labels),
        duration: this.meters.duration.labels(labels),
      };
      this.queueMeters.set(queue, meters);
    }
    return meters;
  }

  private published(destination: string): Counter {
    let counter = this.publishedBy.get(destination);
    if (counter === undefined) {
      counter = this.meters.published.labels({ destination });
      this.publishedBy.set(destination, counter);
    }
    return counter;
  }

  private bindDecoratedHandlers(): void {
    const service = this.service.name;
    const claimed = claimDecorated<DeclaredHandler>(
      this.service,
      this.name,
      (instance) => instance instanceof AmqpResource,
      (instance) => handlersOfPrototype(Object.getPrototypeOf(instance) as object),
      {
        named: (declared) => declared.resource,
        where: (declared, owner) =>
          `@${declared.pattern}('${declared.target}') on ${owner}.${String(declared.key)}`,
        unknown: (where, named, choices) =>
          new AmqpError(
            'AMQP_UNKNOWN_RESOURCE',
            `${where} names AmqpResource '${named}', which ${service} does not have; its AMQP resources: ${quotedList(choices)}`,
          ),
        ambiguous: (where, choices) =>
          new AmqpError(
            'AMQP_AMBIGUOUS_RESOURCE',
            `${where} does not say which AmqpResource consumes it, and ${service} has ${choices.length}: add { resource: ${quotedList(choices, ' | ')} }`,
          ),
      },
    );
    for (const { declared, owner, call } of claimed) {
      this.consumerFor(
        declared.pattern,
        declared.target,
        declared.queue,
        owner,
        (message, meta) => call(message, meta),
        declared.options.schema,
      );
    }
  }
}
