import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Batch, Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Log } from '../../lifecycle/log';
import type { Counter, Gauge, Histogram } from '../../metrics';
import { REQUEST_ID_HEADER } from '../../context';
import type { Tracing } from '../../tracing';
import { tracedProcess } from '../../tracing/messaging';
import { Backoff, backoffDelay } from '../../resilience/backoff';
import type { MessageCheck } from '../../contracts/message';
import type { Codec, Codecs } from '../amqp/codecs/codec';
import { KafkaError } from './errors';
import type { ConsumerState, KafkaMessageMeta } from './decorators';
import type { KafkaSettings } from './settings';
import { isPromiseLike } from '../../util';

export const CONTENT_TYPE_HEADER = 'content-type';
export const DEAD_REASON_HEADER = 'x-keel-dead-reason';

export interface GroupMeters {
  consumed: Counter;
  failed: Counter;
  deadLettered: Counter;
  invalid: Counter;
  duration: Histogram;
  rebalances: Counter;
  lag(partition: number): Gauge;
}

export interface ConsumerSpec {
  topic: string;
  group: string;
  concurrency: number;
  fromBeginning: boolean;
  /** `resource.method`, for logs. */
  owner: string;
  /** The schema's check: a record it refuses is dead-lettered before any handler run. */
  check?: MessageCheck;
  handler(value: unknown, meta: KafkaMessageMeta): unknown;
}

/** What every consumer of one resource shares. */
export interface ConsumerContext {
  settings: KafkaSettings;
  codec: Codec;
  /** Every codec of the service: a record is decoded by its content type. */
  codecs: Codecs;
  log: Log;
  /** The service's tracing: while enabled, each handler run is a consumer span continuing the record's trace. */
  tracing: Tracing;
  meters(topic: string, group: string): GroupMeters;
  /** Writes a copy of a record to `<topic>.dead`, resolving once acknowledged. */
  deadLetter(topic: string, message: KafkaMessage, headers: Record<string, string>): Promise<void>;
}

/** What a handler's meta says of its record, the same on every attempt. */
type RecordMeta = Omit<KafkaMessageMeta, 'attempt' | 'signal' | 'log'>;

/**
 * What a handler gets beside the value. The signal and the logger are getters: a controller
 * makes its signal only once asked (3 µs), a bunyan child costs 5 µs, and most handlers read
 * neither; on the prototype, so that making one per record stays a plain allocation.
 */
class HandlerMeta implements KafkaMessageMeta {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string;
  readonly group: string;
  readonly requestId: string;
  readonly #abort: AbortController;
  readonly #log: () => Log;

  constructor(
    record: RecordMeta,
    readonly attempt: number,
    abort: AbortController,
    log: () => Log,
  ) {
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = record.offset;
    this.key = record.key;
    this.timestamp = record.timestamp;
    this.headers = record.headers;
    this.contentType = record.contentType;
    this.group = record.group;
    this.requestId = record.requestId;
    this.#abort = abort;
    this.#log = log;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get log(): Log {
    return this.#log();
  }
}

interface Running {
  partition: number;
  offset: string;
  since: number;
}

const ID_PREFIX = randomBytes(6).toString('hex');
let sequence = 0;

/**
 * One `@consume` handler's group member. Records of a partition run one at a time, in order, and
 * an offset is committed only once its handler (with its retries, or the dead-letter write) has
 * finished; `concurrency` partitions run at once. A fetch takes at most `max_bytes_per_partition`
 * of each assigned partition, and the next fetch waits for the records of the last one to be
 * handled: that is the bound on what is held in memory.
 */
export class GroupConsumer {
  private consumer?: Consumer;
  private stopping = false;
  private partitions: number[] = [];
  private readonly lag = new Map<number, number>();
  private readonly running = new Set<Running>();
  private readonly meters: GroupMeters;
  private restartTimer?: NodeJS.Timeout;
  /** The waits between attempts to join the group, reset once it has joined. */
  private rejoin?: Backoff;
  private joined = false;

  constructor(
    readonly spec: ConsumerSpec,
    private readonly context: ConsumerContext,
  ) {
    this.meters = context.meters(spec.topic, spec.group);
  }

  /** Started, whether or not it has joined its group yet. */
  get started(): boolean {
    return this.consumer !== undefined;
  }

  /** Joins the group and consumes; when the cluster does not answer, tries again in the background. */
  async start(kafka: Kafka): Promise<void> {
    this.stopping = false;
    const { spec, context } = this;
    const { consumer: settings } = context.settings;
    const consumer = kafka.consumer({
      groupId: spec.group,
      sessionTimeout: settings.session_timeout_ms,
      heartbeatInterval: settings.heartbeat_interval_ms,
      maxWaitTimeInMs: settings.max_wait_ms,
      maxBytesPerPartition: settings.max_bytes_per_partition,
      retry: { restartOnFailure: () => Promise.resolve(!this.stopping) },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.rejoin?.reset();
      this.meters.rebalances.inc();
      this.partitions = [...(payload.memberAssignment[spec.topic] ?? [])].sort((a, b) => a - b);
      for (const partition of this.lag.keys())
        if (!this.partitions.includes(partition)) this.lag.delete(partition);
      context.log.info(
        { topic: spec.topic, group: spec.group, partitions: this.partitions },
        `${spec.owner}: joined group '${spec.group}' with partitions [${this.partitions.join(', ')}] of '${spec.topic}'`,
      );
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      context.log.warn(
        { err: payload.error, topic: spec.topic, group: spec.group, restart: payload.restart },
        `${spec.owner}: consumer of '${spec.topic}' crashed (${payload.error.message}); ${payload.restart ? 'it restarts' : 'starting it again'}`,
      );
      if (!payload.restart && !this.stopping) this.retryStart(kafka);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: spec.topic, fromBeginning: spec.fromBeginning });
      await consumer.run({
        partitionsConsumedConcurrently: spec.concurrency,
        autoCommit: true,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.consumeBatch(payload),
      });
    } catch (error) {
      context.log.warn(
        { err: error, topic: spec.topic, group: spec.group },
        `${spec.owner}: cannot join group '${spec.group}' yet (${(error as Error).message}); trying again`,
      );
      await consumer.disconnect().catch(() => undefined);
      this.retryStart(kafka);
    }
  }

  /** Stops fetching, lets the records in hand finish, commits them and leaves the group. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer === undefined) return;
    const { spec, context } = this;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      consumer.stop().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const now = performance.now();
      const still = [...this.running]
        .map(
          (run) =>
            `${spec.topic}[${run.partition}]@${run.offset} (running ${Math.round(now - run.since)} ms)`,
        )
        .join(', ');
      context.log.warn(
        { topic: spec.topic, group: spec.group, graceMs, running: this.running.size },
        `${spec.owner} still running after ${graceMs} ms on ${still || 'a fetch'}; not committed, the group gets it again`,
      );
    }
    // kafkajs's disconnect first awaits the same stop: after a timed-out drain it would wait for
    // the hung handler too. The group drops the member after its session timeout instead.
    const disconnected = consumer.disconnect().catch(() => undefined);
    if (timedOut) void disconnected;
    else await disconnected;
    this.joined = false;
    this.partitions = [];
  }

  state(): ConsumerState {
    return {
      topic: this.spec.topic,
      group: this.spec.group,
      partitions: this.partitions,
      lag: Object.fromEntries([...this.lag].map(([partition, lag]) => [String(partition), lag])),
      running: this.joined,
    };
  }

  private retryStart(kafka: Kafka): void {
    if (this.stopping) return;
    clearTimeout(this.restartTimer);
    const { backoff_ms, max_backoff_ms } = this.context.settings.consumer.retry;
    this.rejoin ??= new Backoff({ initialMs: backoff_ms, maxMs: max_backoff_ms });
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) void this.start(kafka);
    }, this.rejoin.next());
  }

  private async consumeBatch(payload: {
    batch: Batch;
    resolveOffset(offset: string): void;
    heartbeat(): Promise<void>;
    isRunning(): boolean;
    isStale(): boolean;
  }): Promise<void> {
    const { batch } = payload;
    const end = Number(batch.highWatermark);
    const gauge = this.meters.lag(batch.partition);
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) break;
      await this.consumeRecord(batch.partition, message, payload.heartbeat, payload.isRunning);
      payload.resolveOffset(message.offset);
      const lag = Math.max(0, end - Number(message.offset) - 1);
      this.lag.set(batch.partition, lag);
      gauge.set(lag);
      await payload.heartbeat();
    }
  }

  /**
   * The consume path of one record: decode by its content type, run the handler (bounded by its
   * timeout, retried with backoff), else write it to the dead-letter topic with the reason. It
   * returns only when the record may be committed; it throws (the record is fetched again) when
   * the dead-letter write failed or the consumer is stopping in the middle of the retries.
   */
  private async consumeRecord(
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ): Promise<void> {
    const { spec, context } = this;
    const { consumer: settings } = context.settings;
    const headers = textHeaders(message.headers);
    const requestId = headers[REQUEST_ID_HEADER] || `${ID_PREFIX}-${(++sequence).toString(36)}`;
    const where = `${spec.topic}[${partition}]@${message.offset}`;
    const value = message.value;
    if (value === null) return this.deadLetter(message, headers, partition, 'the record has no value');
    if (value.length > settings.max_value_bytes) {
      return this.deadLetter(
        message,
        headers,
        partition,
        `its value of ${value.length} bytes is over consumer.max_value_bytes (${settings.max_value_bytes})`,
      );
    }
    let decoded: unknown;
    const contentType = headers[CONTENT_TYPE_HEADER];
    try {
      decoded = context.codecs.decode(value, contentType, context.codec);
    } catch (error) {
      return this.deadLetter(message, headers, partition, `cannot decode it: ${(error as Error).message}`);
    }
    if (spec.check !== undefined) {
      const checked = spec.check(decoded);
      if (!checked.ok) {
        this.meters.invalid.inc();
        return this.deadLetter(message, headers, partition, checked.reason);
      }
      decoded = checked.value;
    }
    // Made on first use (HandlerMeta.log, a failure's line): most records log nothing.
    let log: Log | undefined;
    const logOf = () => (log ??= context.log.child({ request_id: requestId, topic: spec.topic, partition }));
    const record: RecordMeta = {
      topic: spec.topic,
      partition,
      offset: message.offset,
      key: message.key === null || message.key === undefined ? undefined : message.key.toString('utf8'),
      timestamp: Number(message.timestamp),
      headers,
      contentType: contentType ?? context.codec.contentType,
      group: spec.group,
      requestId,
    };
    const { attempts, backoff_ms, max_backoff_ms } = settings.retry;
    let failure: Error | undefined;
    let retryInMs = 0;
    let runs = 0;
    let permanent = false;
    for (let attempt = 0; attempt <= attempts; attempt++) {
      if (attempt > 0) {
        await this.backoff(retryInMs, heartbeat);
        if (!isRunning()) {
          throw new KafkaError(
            'KAFKA_NOT_STARTED',
            `${spec.owner}: stopping during the retries of ${where}; not committed`,
          );
        }
      }
      failure = await this.runHandler(decoded, record, attempt, logOf, where);
      if (failure === undefined) return;
      runs++;
      this.meters.failed.inc();
      // `permanent(error)` (AMQP's mark): no retry can help, the record goes to `<topic>.dead` now.
      permanent = (failure as { permanent?: unknown }).permanent === true;
      const retries = attempt < attempts && !permanent;
      retryInMs = retries ? backoffDelay({ initialMs: backoff_ms, maxMs: max_backoff_ms }, attempt + 1) : 0;
      logOf().error(
        {
          err: failure,
          attempt,
          offset: message.offset,
          ...(retries && { retry_in_ms: retryInMs }),
          ...(permanent && { permanent }),
        },
        `${spec.owner} failed on ${where} (attempt ${attempt + 1} of ${attempts + 1}${permanent ? ', permanent: not retried' : ''}): ${failure.message}`,
      );
      if (permanent) break;
    }
    return this.deadLetter(
      message,
      headers,
      partition,
      `handler failed ${runs} time(s)${permanent ? ' (permanent)' : ''}: ${failure!.message}`,
    );
  }

  /** One run of the handler; resolves with its failure, or undefined when it succeeded. */
  private async runHandler(
    value: unknown,
    record: RecordMeta,
    attempt: number,
    logOf: () => Log,
    where: string,
  ): Promise<Error | undefined> {
    const { spec, context } = this;
    const timeoutMs = context.settings.consumer.handler_timeout_ms;
    const abort = new AbortController();
    const meta = new HandlerMeta(record, attempt, abort, logOf);
    const { partition } = record;
    const run: Running = { partition, offset: record.offset, since: performance.now() };
    this.running.add(run);
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = tracedProcess(
        context.tracing,
        `process ${spec.topic}`,
        record.headers,
        context.tracing.enabled
          ? {
              'messaging.system': 'kafka',
              'messaging.destination.name': spec.topic,
              'messaging.operation.type': 'process',
              'messaging.consumer.group.name': spec.group,
              'messaging.destination.partition.id': String(partition),
              'messaging.kafka.offset': Number(record.offset),
              ...(attempt > 0 && { 'keel.attempt': attempt }),
            }
          : {},
        record.requestId,
        () => spec.handler(value, meta),
      );
      if (!isPromiseLike(result)) return undefined;
      await Promise.race([
        result,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abort.abort();
            reject(
              new KafkaError(
                'KAFKA_HANDLER_TIMEOUT',
                `${spec.owner} did not settle within ${timeoutMs} ms on ${where}`,
              ),
            );
          }, timeoutMs);
        }),
      ]);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(timer);
      this.running.delete(run);
      this.meters.duration.observe((performance.now() - run.since) / 1000);
      this.meters.consumed.inc();
    }
  }

  private async deadLetter(
    message: KafkaMessage,
    headers: Record<string, string>,
    partition: number,
    reason: string,
  ): Promise<void> {
    const { spec, context } = this;
    const where = `${spec.topic}[${partition}]@${message.offset}`;
    context.log.warn(
      { topic: spec.topic, partition, offset: message.offset },
      `${spec.owner}: ${where} dead-lettered: ${reason}`,
    );
    await context.deadLetter(spec.topic, message, {
      ...headers,
      [DEAD_REASON_HEADER]: reason,
      'x-keel-dead-topic': spec.topic,
      'x-keel-dead-partition': String(partition),
      'x-keel-dead-offset': message.offset,
      'x-keel-dead-group': spec.group,
    });
    this.meters.deadLettered.inc();
  }

  /** Waits `ms`, heartbeating so that a long backoff does not cost the group its member. */
  private async backoff(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = performance.now() + ms;
    for (;;) {
      const left = until - performance.now();
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, 1000)));
      // A rebalance throws here: the record stays uncommitted for the partition's next owner.
      await heartbeat();
    }
  }
}

/** Header values as text: Kafka's are bytes, possibly repeated (the last one wins). */
function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  if (headers === undefined) return text;
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined) continue;
    text[name] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return text;
}
