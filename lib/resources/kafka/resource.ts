import type { Admin, Kafka, KafkaConfig, KafkaMessage, Producer, SASLOptions } from 'kafkajs';
import { resource } from '../../container/decorators';
import { inject, optional } from '../../container/injection';
import { LOGGER, METRICS, RESOURCE_NAME, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ResourceHealthReport } from '../../lifecycle/manager';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import { ResourceStatus } from '../../lifecycle/status';
import type { Counter, Gauge, Histogram, MeterFactory } from '../../metrics';
import type { SettingsView } from '../../settings/types';
import { contextRequestId, REQUEST_ID_HEADER } from '../../context';
import { CODECS, Codecs, encodeWith, type Codec } from '../amqp/codecs/codec';
import { loadKafkajs } from './client';
import { CONTENT_TYPE_HEADER, GroupConsumer, type ConsumerContext, type GroupMeters } from './consumer';
import {
  consumersOfPrototype,
  type ConsumeOptions,
  type DeclaredConsumer,
  type KafkaHandler,
} from './decorators';
import { claimDecorated, connectingHealth, quotedList } from '../decorated';
import { KafkaError } from './errors';
import { compileMessageCheck, requireValidMessage, type MessageCheck } from '../../contracts/message';
import type { MessageOf, Schema } from '../../contracts/schema';
import { SchemaCompiler } from '../../contracts/validator';
import { tracedProduce } from '../../tracing/messaging';
import { Publisher } from './publisher';
import { checkKafkaSettings, kafkaSchema, type KafkaSettings } from './settings';

export interface PublishOptions<S extends Schema = Schema> {
  /**
   * The record's schema: it types the value, and outside production (`validate_outgoing`) a value
   * that does not match is refused with a ContractError before anything is sent.
   */
  schema?: S;
  /** Records of one key go to one partition, in the order published. */
  key?: string | Buffer;
  headers?: Record<string, string | Buffer>;
  /** A partition of the topic, instead of the key's. */
  partition?: number;
  /** A registered codec's name; the resource's `codec` setting by default. */
  codec?: string;
  /** Sent as `x-request-id`; by default the id of the HTTP request being served, if the request context is on. */
  requestId?: string;
}

interface Meters {
  consumed: Counter;
  failed: Counter;
  deadLettered: Counter;
  invalid: Counter;
  duration: Histogram;
  rebalances: Counter;
  lag: Gauge;
  produced: Counter;
  produceDuration: Histogram;
}

/**
 * A Kafka client (kafkajs): `publish()` through one idempotent producer, acknowledged by every
 * in-sync replica; `@consume` handlers as consumer groups, at least once. The start does not wait
 * for the cluster: the resource shows CONNECTING until it answers, and consumers join once it does,
 * after every resource has started. Consumers drain as soon as the service begins stopping.
 */
@resource({ settings: kafkaSchema, name: 'kafka' })
export class KafkaResource {
  private kafka?: Kafka;
  private producer?: Producer;
  private admin?: Admin;
  private publisher?: Publisher;
  private codec: Codec;
  private readonly consumers: GroupConsumer[] = [];
  private readonly meters: Meters;
  private readonly groupMeters = new Map<string, GroupMeters>();
  private readonly producedBy = new Map<string, { count: Counter; seconds: Histogram }>();
  private readonly consumerContext: ConsumerContext;
  /** Compiles record schemas; ajv is loaded only once a consumer or a publish has one. */
  private readonly schemas = new SchemaCompiler();
  private readonly outgoingChecks = new WeakMap<object, MessageCheck>();
  private consumersBound = false;
  private consuming = false;
  private reachable = false;
  private unreachableWhy = 'not connected yet';
  private healthTimer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private draining?: Promise<void>;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<KafkaSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meterFactory: MeterFactory,
    @inject(RESOURCE_NAME) readonly name: string,
    @optional() @inject(CODECS) private readonly codecs: Codecs = new Codecs(),
  ) {
    this.codec = codecs.named(settings.value().codec);
    const byGroup = ['topic', 'group'];
    this.meters = {
      consumed: meterFactory.counter('kafka_records_consumed_total', {
        help: 'Handler runs on records, by topic and group',
        labelNames: byGroup,
      }),
      failed: meterFactory.counter('kafka_records_failed_total', {
        help: 'Handler runs that threw, rejected or timed out, by topic and group',
        labelNames: byGroup,
      }),
      deadLettered: meterFactory.counter('kafka_records_dead_lettered_total', {
        help: 'Records written to <topic>.dead (undecodable, oversized, or out of retries), by topic and group',
        labelNames: byGroup,
      }),
      invalid: meterFactory.counter('kafka_records_invalid_total', {
        help: "Records refused by their handler's schema (and dead-lettered), by topic and group",
        labelNames: byGroup,
      }),
      duration: meterFactory.histogram('kafka_handler_duration_seconds', {
        help: 'Time of one handler run, by topic and group',
        labelNames: byGroup,
      }),
      rebalances: meterFactory.counter('kafka_rebalances_total', {
        help: 'Times a consumer (re)joined its group and got its partitions, by topic and group',
        labelNames: byGroup,
      }),
      lag: meterFactory.gauge('kafka_consumer_lag', {
        help: 'Records behind the end of the partition after the last one handled, by topic, partition and group',
        labelNames: ['topic', 'partition', 'group'],
      }),
      produced: meterFactory.counter('kafka_records_produced_total', {
        help: 'Records publish() got acknowledged, by topic',
        labelNames: ['topic'],
      }),
      produceDuration: meterFactory.histogram('kafka_produce_duration_seconds', {
        help: 'Time from publish() to the acknowledgement, by topic',
        labelNames: ['topic'],
      }),
    };
    this.consumerContext = {
      settings: settings.value(),
      codec: this.codec,
      codecs: this.codecs,
      log,
      tracing: service.tracing,
      meters: (topic, group) => this.metersOf(topic, group),
      deadLetter: (topic, message, headers) => this.deadLetter(topic, message, headers),
    };
    service.onStopping(() => this.drain());
  }

  /** Checks the settings and makes the clients; it does not wait for the cluster to answer. */
  async start(): Promise<void> {
    const settings = this.settings.value();
    checkKafkaSettings(this.name, settings);
    this.codec = this.codecs.named(settings.codec);
    Object.assign(this.consumerContext, { settings, codec: this.codec });
    this.draining = undefined;
    const kafkajs = loadKafkajs(this.name);
    const config = this.clientConfig(settings);
    const kafka = new kafkajs.Kafka(config);
    this.kafka = kafka;
    this.producer = kafka.producer({
      idempotent: settings.producer.idempotent,
      maxInFlightRequests: settings.producer.idempotent ? 1 : undefined,
    });
    // Its own client with no retries: a probe that fails says so at once.
    this.admin = new kafkajs.Kafka({ ...config, retry: { retries: 0 } }).admin({ retry: { retries: 0 } });
    this.publisher = new Publisher(
      this.name,
      settings.producer,
      settings.producer.compression === 'gzip'
        ? kafkajs.CompressionTypes.GZIP
        : kafkajs.CompressionTypes.None,
      {
        acknowledged: (topic, seconds) => this.acknowledged(topic, seconds),
        lost: (error) => this.lost(error),
      },
    );
    await this.probe();
    this.healthTimer = setInterval(() => void this.probe(), settings.health_interval_ms);
    this.healthTimer.unref();
  }

  /** Consumers join their groups only now, when every resource a handler may use has started. */
  async postStart(): Promise<void> {
    if (!this.consumersBound) {
      this.bindDecoratedConsumers();
      this.consumersBound = true;
    }
    this.consuming = true;
    if (this.reachable) await this.startConsumers();
  }

  /** Already drained when the service stops as a whole; this is also the path of a restart. */
  async stop(): Promise<void> {
    await this.drain();
    clearInterval(this.healthTimer);
    await this.probing;
    const { producer, admin, publisher } = this;
    this.producer = this.admin = this.publisher = this.kafka = undefined;
    this.reachable = false;
    if (publisher !== undefined) {
      await publisher.idle(this.settings.value().producer.publish_timeout_ms);
      publisher.abandon(`kafka '${this.name}' stopped`);
    }
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }

  /** CONNECTING while the cluster does not answer; the consumers' partitions and lag in `details`. */
  status(): ResourceHealthReport {
    const details = { consumers: this.consumers.map((consumer) => consumer.state()) };
    if (this.kafka === undefined || this.reachable) return { status: ResourceStatus.STARTED, details };
    const { brokers, affects_readiness } = this.settings.value();
    return connectingHealth(
      `the cluster at ${brokers.join(', ')} does not answer: ${this.unreachableWhy}`,
      affects_readiness,
      details,
    );
  }

  /**
   * The produce path: resolves once the cluster acknowledged the record (`producer.acks`, all
   * in-sync replicas by default). Records published together go in one request.
   */
  publish<const S extends Schema = never>(
    topic: string,
    value: MessageOf<S>,
    options: PublishOptions<S> = {},
  ): Promise<void> {
    const publisher = this.publisher;
    if (publisher === undefined) {
      return Promise.reject(new KafkaError('KAFKA_NOT_STARTED', `kafka '${this.name}' is not started`));
    }
    const what = `publish('${topic}') on kafka '${this.name}'`;
    let checked: unknown = value;
    if (options.schema !== undefined && this.validatesOutgoing()) {
      try {
        checked = requireValidMessage(this.outgoingCheck(options.schema, what), value, what);
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const codec = options.codec === undefined ? this.codec : this.codecs.named(options.codec);
    const bytes = encodeWith(codec, checked, what);
    const requestId = options.requestId ?? contextRequestId();
    const headers: Record<string, string | Buffer> = {
      ...options.headers,
      [CONTENT_TYPE_HEADER]: codec.contentType,
    };
    if (requestId !== undefined) headers[REQUEST_ID_HEADER] = requestId;
    const tracing = this.service.tracing;
    return tracedProduce(
      tracing,
      `publish ${topic}`,
      tracing.enabled
        ? {
            'messaging.system': 'kafka',
            'messaging.destination.name': topic,
            'messaging.operation.type': 'send',
            'messaging.operation.name': 'publish',
            ...(options.partition !== undefined && {
              'messaging.destination.partition.id': String(options.partition),
            }),
          }
        : {},
      headers,
      (traced) =>
        publisher.enqueue(topic, {
          key: options.key ?? null,
          value: bytes,
          partition: options.partition,
          headers: traced,
        }),
    );
  }

  /** Like `@consume`; before start, or at any time after. */
  async consume<T>(topic: string, handler: KafkaHandler<T>, options: ConsumeOptions = {}): Promise<void> {
    const consumer = this.consumerFor(topic, options, `${this.name}.consume`, (value, meta) =>
      handler(value as T, meta),
    );
    if (this.consuming && this.reachable && this.kafka !== undefined) await consumer.start(this.kafka);
  }

  private consumerFor(
    topic: string,
    options: ConsumeOptions,
    owner: string,
    handler: (value: unknown, meta: Parameters<KafkaHandler>[1]) => unknown,
  ): GroupConsumer {
    const consumer = new GroupConsumer(
      {
        topic,
        group: options.group ?? `${this.service.name}.${topic}`,
        concurrency: Math.max(1, options.concurrency ?? 1),
        fromBeginning: options.fromBeginning ?? false,
        owner,
        handler,
        ...(options.schema !== undefined && {
          check: compileMessageCheck(this.schemas, options.schema, `@consume('${topic}') on ${owner}`),
        }),
      },
      this.consumerContext,
    );
    this.consumers.push(consumer);
    return consumer;
  }

  private outgoingCheck(schema: Schema, what: string): MessageCheck {
    let check = this.outgoingChecks.get(schema);
    if (check === undefined) {
      check = compileMessageCheck(this.schemas, schema, what);
      this.outgoingChecks.set(schema, check);
    }
    return check;
  }

  private validatesOutgoing(): boolean {
    const setting = this.settings.value().validate_outgoing;
    return setting === 'on' || (setting === 'auto' && this.service.env.NODE_ENV !== 'production');
  }

  private async startConsumers(): Promise<void> {
    const kafka = this.kafka;
    if (kafka === undefined || this.draining !== undefined) return;
    await Promise.all(
      this.consumers.filter((consumer) => !consumer.started).map((consumer) => consumer.start(kafka)),
    );
  }

  /** Asks the cluster whether it answers; connects the producer once it does. */
  private probe(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    const { admin, producer, publisher } = this;
    if (admin === undefined || producer === undefined || publisher === undefined) return;
    try {
      await admin.connect();
      await admin.describeCluster();
      if (!this.reachable) {
        await producer.connect();
        publisher.attach(producer);
      }
    } catch (error) {
      const why = (error as Error).message;
      if (this.reachable || this.unreachableWhy === 'not connected yet') {
        this.log.warn(
          { err: error, brokers: this.settings.value().brokers },
          `kafka '${this.name}': the cluster at ${this.settings.value().brokers.join(', ')} does not answer (${why}); publishes wait, consumers join once it does`,
        );
      }
      this.reachable = false;
      this.unreachableWhy = why;
      return;
    }
    if (this.reachable) return;
    const wasDown = this.unreachableWhy !== 'not connected yet';
    this.reachable = true;
    this.unreachableWhy = '';
    this.log.info({}, `kafka '${this.name}': the cluster answers${wasDown ? ' again' : ''}`);
    if (this.consuming) await this.startConsumers();
  }

  /** A send found the cluster gone before the probe did. */
  private lost(error: Error): void {
    if (!this.reachable) return;
    this.reachable = false;
    this.unreachableWhy = error.message;
    this.log.warn(
      { err: error, brokers: this.settings.value().brokers },
      `kafka '${this.name}': the cluster at ${this.settings.value().brokers.join(', ')} does not answer (${error.message}); publishes wait`,
    );
  }

  private drain(): Promise<void> {
    this.draining ??= this.runDrain();
    return this.draining;
  }

  private async runDrain(): Promise<void> {
    this.consuming = false;
    const graceMs = this.settings.value().consumer.drain_timeout_ms;
    await Promise.all(this.consumers.map((consumer) => consumer.stop(graceMs)));
  }

  private deadLetter(topic: string, message: KafkaMessage, headers: Record<string, string>): Promise<void> {
    const publisher = this.publisher;
    if (publisher === undefined) {
      return Promise.reject(new KafkaError('KAFKA_NOT_STARTED', `kafka '${this.name}' is not started`));
    }
    return publisher.enqueue(`${topic}.dead`, { key: message.key, value: message.value, headers });
  }

  private acknowledged(topic: string, seconds: number): void {
    let meters = this.producedBy.get(topic);
    if (meters === undefined) {
      meters = {
        count: this.meters.produced.labels({ topic }),
        seconds: this.meters.produceDuration.labels({ topic }),
      };
      this.producedBy.set(topic, meters);
    }
    meters.count.inc();
    meters.seconds.observe(seconds);
  }

  private metersOf(topic: string, group: string): GroupMeters {
    const key = `${topic}\u0000${group}`;
    let meters = this.groupMeters.get(key);
    if (meters === undefined) {
      const labels = { topic, group };
      const lagByPartition = new Map<number, Gauge>();
      meters = {
        consumed: this.meters.consumed.labels(labels),
        failed: this.meters.failed.labels(labels),
        deadLettered: this.meters.deadLettered.labels(labels),
        invalid: this.meters.invalid.labels(labels),
        duration: this.meters.duration.labels(labels),
        rebalances: this.meters.rebalances.labels(labels),
        lag: (partition) => {
          let gauge = lagByPartition.get(partition);
          if (gauge === undefined) {
            gauge = this.meters.lag.labels({ topic, group, partition: String(partition) });
            lagByPartition.set(partition, gauge);
          }
          return gauge;
        },
      };
      this.groupMeters.set(key, meters);
    }
    return meters;
  }

  private clientConfig(settings: KafkaSettings): KafkaConfig {
    const { ssl, sasl } = settings;
    const kafkajs = loadKafkajs(this.name);
    return {
      brokers: settings.brokers,
      clientId: settings.client_id || this.service.name,
      connectionTimeout: settings.connect_timeout_ms,
      requestTimeout: settings.request_timeout_ms,
      ssl: ssl.enabled
        ? {
            rejectUnauthorized: ssl.reject_unauthorized,
            ...(ssl.ca !== '' && { ca: [ssl.ca] }),
            ...(ssl.cert !== '' && { cert: ssl.cert }),
            ...(ssl.key !== '' && { key: ssl.key }),
          }
        : undefined,
      sasl:
        sasl.mechanism === ''
          ? undefined
          : ({ mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions),
      logLevel: kafkajs.logLevel.WARN,
      // kafkajs logs every failed retry; Keel logs the cluster going away and coming back itself.
      logCreator: () => (entry) =>
        this.log.debug({ kafkajs: entry.namespace, ...entry.log }, `kafkajs: ${entry.log.message}`),
    };
  }

  private bindDecoratedConsumers(): void {
    const service = this.service.name;
    const claimed = claimDecorated<DeclaredConsumer>(
      this.service,
      this.name,
      (instance) => instance instanceof KafkaResource,
      (instance) => consumersOfPrototype(Object.getPrototypeOf(instance) as object),
      {
        named: (declared) => declared.resource,
        where: (declared, owner) => `@consume('${declared.topic}') on ${owner}.${String(declared.key)}`,
        unknown: (where, named, choices) =>
          new KafkaError(
            'KAFKA_UNKNOWN_RESOURCE',
            `${where} names KafkaResource '${named}', which ${service} does not have; its Kafka resources: ${quotedList(choices)}`,
          ),
        ambiguous: (where, choices) =>
          new KafkaError(
            'KAFKA_AMBIGUOUS_RESOURCE',
            `${where} does not say which KafkaResource consumes it, and ${service} has ${choices.length}: add { resource: ${quotedList(choices, ' | ')} }`,
          ),
      },
    );
    for (const { declared, owner, call } of claimed) {
      this.consumerFor(declared.topic, declared, owner, (value, meta) => call(value, meta));
    }
  }
}
