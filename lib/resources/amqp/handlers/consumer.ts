import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Channel, ConsumeMessage, MessagePropertyHeaders, Options } from 'amqplib';
import { ContractError } from '../../../contracts/errors';
import type { MessageCheck } from '../../../contracts/message';
import type { Log } from '../../../lifecycle/log';
import { maskText } from '../../../settings/redact';
import type { Counter, Histogram } from '../../../metrics';
import { REQUEST_ID_HEADER } from '../../../context';
import type { Tracing } from '../../../tracing';
import { backoffDelay, sleep } from '../../../resilience/backoff';
import { encodeWith, type Codec, type Codecs } from '../codecs/codec';
import { deadLetterQueue, type Link, type Session } from '../connection/link';
import { ERROR_CODE_HEADER, ERROR_HEADER } from '../connection/requester';
import type { AmqpSettings } from '../settings';
import type { MessageMeta, MessagePattern } from './decorators';
import { tracedConsume } from '../tracing';
import { isPromiseLike } from '../../../util';

export const ATTEMPT_HEADER = 'x-keel-attempt';
/** Where a retried message was first published: a retry goes straight to the queue. */
export const ROUTING_KEY_HEADER = 'x-keel-routing-key';
export const EXCHANGE_HEADER = 'x-keel-exchange';
export const DEAD_REASON_HEADER = 'x-keel-dead-reason';
/** Longest dead-letter reason kept in its header. */
const MAX_REASON_CHARS = 1024;

export interface QueueMeters {
  consumed: Counter;
  failed: Counter;
  deadLettered: Counter;
  /** Decoded but refused by the handler's schema (each is also dead-lettered). */
  invalid: Counter;
  duration: Histogram;
}

export interface ConsumerSpec {
  pattern: MessagePattern;
  queue: string;
  /** For subscribe: the topic pattern bound on the resource's exchange. */
  topic?: string;
  /** `service.method`, for logs. */
  owner: string;
  /** The handler's message schema, compiled: a message it refuses is dead-lettered, never handled. */
  check?: MessageCheck;
  handler(message: unknown, meta: MessageMeta): unknown;
}

/** What every consumer of one resource shares. */
export interface ConsumerContext {
  link: Link;
  settings: AmqpSettings;
  codec: Codec;
  /** Every codec of the service: a message is decoded by its content type. */
  codecs: Codecs;
  log: Log;
  /** The service's tracing: while enabled, each handler run is a consumer span. */
  tracing: Tracing;
  meters(queue: string): QueueMeters;
  /** Counts handlers in flight, for the drain. */
  began(): void;
  ended(): void;
}

const ID_PREFIX = randomBytes(6).toString('hex');
let sequence = 0;

export class Meta implements MessageMeta {
  private child?: Log;
  constructor(
    readonly pattern: MessagePattern,
    readonly queue: string,
    readonly exchange: string,
    readonly routingKey: string,
    readonly contentType: string,
    readonly headers: Readonly<Record<string, unknown>>,
    readonly requestId: string,
    readonly attempt: number,
    readonly redelivered: boolean,
    private readonly parent: Log,
  ) {}

  get log(): Log {
    this.child ??= this.parent.child({ request_id: this.requestId, queue: this.queue });
    return this.child;
  }
}

/**
 * One decorated handler's consumer: a channel of its own per connection (its prefetch, its
 * failures), deliveries decoded by content type, acked only after the handler settled; a failure
 * retried with backoff by sending the message again with its attempt count, then dead-lettered.
 */
export class Consumer {
  private channel?: Channel;
  private consumerTag?: string;
  private taking = false;
  private warnedAttempt = false;
  private readonly meters: QueueMeters;

  constructor(
    readonly spec: ConsumerSpec,
    private readonly context: ConsumerContext,
  ) {
    this.meters = context.meters(spec.queue);
  }

  /** Declares the queue and starts consuming on `session`: at start and after every reconnect. */
  async attach(session: Session): Promise<void> {
    const { spec, context } = this;
    const channel = await session.model.createChannel();
    channel.on('error', (error: Error) =>
      context.log.warn({ err: error, queue: spec.queue }, `consumer of '${spec.queue}': ${error.message}`),
    );
    await channel.prefetch(context.settings.prefetch);
    await channel.assertQueue(spec.queue, { durable: spec.pattern !== 'respond' });
    await channel.assertQueue(deadLetterQueue(spec.queue), { durable: true });
    if (spec.topic !== undefined) await channel.bindQueue(spec.queue, context.settings.exchange, spec.topic);
    this.channel = channel;
    this.taking = true;
    const { consumerTag } = await channel.consume(spec.queue, (message) => {
      if (message !== null) this.deliver(channel, message);
    });
    this.consumerTag = consumerTag;
  }

  /** Stops taking deliveries; those already delivered but not begun stay unacked for redelivery. */
  async cancel(): Promise<void> {
    this.taking = false;
    const { channel, consumerTag } = this;
    if (channel === undefined || consumerTag === undefined) return;
    this.consumerTag = undefined;
    await channel.cancel(consumerTag).catch(() => undefined);
  }

  /** Closing the channel hands every unacked delivery back to the broker. */
  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private deliver(channel: Channel, message: ConsumeMessage): void {
    if (!this.taking || channel !== this.channel) return;
    this.context.began();
    void this.handle(channel, message).finally(() => this.context.ended());
  }

  private async handle(channel: Channel, message: ConsumeMessage): Promise<void> {
    const { spec, context } = this;
    const began = performance.now();
    const { properties, fields, content } = message;
    const headers: MessagePropertyHeaders = properties.headers ?? {};
    const attempt = this.attemptOf(headers[ATTEMPT_HEADER]);
    const routingKey = stringHeader(headers[ROUTING_KEY_HEADER]) ?? fields.routingKey;
    const exchange = stringHeader(headers[EXCHANGE_HEADER]) ?? fields.exchange;
    const header = headers[REQUEST_ID_HEADER];
    const requestId =
      typeof header === 'string' && header !== '' ? header : `${ID_PREFIX}-${(++sequence).toString(36)}`;
    const contentType = properties.contentType as string | undefined;

    let value: unknown;
    try {
      value = context.codecs.decode(content, contentType, context.codec);
    } catch (error) {
      const reason = `cannot decode the message: ${(error as Error).message}`;
      context.log.warn({ queue: spec.queue, request_id: requestId, err: error }, `${spec.owner}: ${reason}`);
      if (spec.pattern === 'respond') await this.reply(message, undefined, error as Error);
      await this.deadLetter(channel, message, reason);
      return;
    }
    if (spec.check !== undefined) {
      const checked = spec.check(value);
      if (!checked.ok) {
        this.meters.invalid.inc();
        context.log.warn(
          { queue: spec.queue, request_id: requestId, problems: checked.problems },
          `${spec.owner}: the message ${checked.reason}`,
        );
        if (spec.pattern === 'respond') {
          const refusal = new ContractError('CONTRACT_INVALID_MESSAGE', `the request ${checked.reason}`, {
            problems: checked.problems,
          });
          await this.reply(message, undefined, refusal);
        }
        await this.deadLetter(channel, message, checked.reason);
        return;
      }
      value = checked.value;
    }
    const meta = new Meta(
      spec.pattern,
      spec.queue,
      exchange,
      routingKey,
      contentType ?? context.codec.contentType,
      headers,
      requestId,
      attempt,
      fields.redelivered,
      context.log,
    );
    let result: unknown;
    let failure: Error | undefined;
    try {
      result = tracedConsume(context.tracing, spec.pattern, spec.queue, message, requestId, () =>
        spec.handler(value, meta),
      );
      // A handler that answers synchronously is not awaited: one turn less per message.
      if (isPromiseLike(result)) result = await result;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const seconds = (performance.now() - began) / 1000;
    this.meters.duration.observe(seconds);
    this.meters.consumed.inc();
    context.log.debug(
      {
        queue: spec.queue,
        routing_key: routingKey,
        request_id: requestId,
        attempt,
        outcome: failure === undefined ? 'ok' : 'failed',
        duration_ms: seconds * 1000,
      },
      `${spec.pattern} ${spec.queue} ${routingKey} ${failure === undefined ? 'ok' : 'failed'}`,
    );
    if (failure === undefined) {
      if (spec.pattern === 'respond') await this.reply(message, result);
      this.ack(channel, message);
      return;
    }
    this.meters.failed.inc();
    const { attempts, backoff_ms, max_backoff_ms } = context.settings.retry;
    const permanent = (failure as { permanent?: unknown }).permanent === true;
    // The same attempt number as the field and `meta.attempt`: 0 is the first delivery.
    meta.log.error(
      { err: failure, attempt, routing_key: routingKey, ...(permanent && { permanent }) },
      `${spec.owner} failed on a message from '${spec.queue}' (attempt ${attempt}, ${attempt === 0 ? 'the first delivery' : `retry ${attempt} of ${attempts}`}${permanent ? ', permanent: not retried' : ''}): ${failure.message}`,
    );
    if (spec.pattern === 'respond') {
      await this.reply(message, undefined, failure);
      this.ack(channel, message);
      return;
    }
    if (attempt >= attempts || permanent) {
      await this.deadLetter(
        channel,
        message,
        `handler failed ${attempt + 1} time(s)${permanent ? ' (permanent)' : ''}: ${failure.message}`,
      );
      return;
    }
    await sleep(backoffDelay({ initialMs: backoff_ms, maxMs: max_backoff_ms }, attempt + 1));
    // Interrupted by a drain that ran out of time: the broker redelivers the original instead.
    if (channel !== this.channel) return;
    const retried = await this.resend(channel, message, spec.queue, {
      ...headers,
      [ATTEMPT_HEADER]: attempt + 1,
      [ROUTING_KEY_HEADER]: routingKey,
      [EXCHANGE_HEADER]: exchange,
    });
    // Left unacked, it would hold a prefetch slot until the channel closes: a few such messages
    // stop the consumer. Its copy cannot be sent (a header amqplib cannot write back), so it goes
    // to the dead-letter queue, where the same failure leaves only a nack.
    if (retried !== true) {
      await this.deadLetter(
        channel,
        message,
        `cannot be retried: ${retried.message}; handler failed: ${failure.message}`,
      );
    }
  }

  /**
   * The attempt a delivery is on, from its header: Keel writes 0 to \`attempts\`, so a value that is
   * not a whole number from 0 (a hand-made or corrupted header) counts as the last attempt, and a
   * higher one is cut to it: no header can buy a message more runs than the setting allows.
   */
  private attemptOf(header: unknown): number {
    if (header === undefined) return 0;
    const { attempts } = this.context.settings.retry;
    const value = typeof header === 'string' && /^\d{1,15}$/.test(header) ? Number(header) : header;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      return Math.min(value, attempts);
    if (!this.warnedAttempt) {
      this.warnedAttempt = true;
      this.context.log.warn(
        { queue: this.spec.queue, header: ATTEMPT_HEADER, value: String(header).slice(0, 64) },
        `${this.spec.owner}: a message on '${this.spec.queue}' has ${ATTEMPT_HEADER} ${JSON.stringify(String(header).slice(0, 64))}, not a whole number from 0: handled as its last attempt (logged once per consumer)`,
      );
    }
    return attempts;
  }

  private async reply(message: ConsumeMessage, result: unknown, error?: Error): Promise<void> {
    const { replyTo, correlationId } = message.properties;
    if (typeof replyTo !== 'string') return;
    const { link, codec } = this.context;
    const options: Options.Publish = { correlationId, contentType: codec.contentType };
    let content: Buffer;
    if (error === undefined) {
      try {
        content = encodeWith(codec, result ?? null, `the reply of ${this.spec.owner}`);
      } catch (encodeError) {
        return this.reply(message, undefined, encodeError as Error);
      }
    } else {
      content = Buffer.alloc(0);
      const code = (error as { code?: unknown }).code;
      options.headers = {
        // It crosses the service boundary: what the responder's logs would mask, the caller must not get.
        [ERROR_HEADER]: maskText(error.message),
        ...(typeof code === 'string' && { [ERROR_CODE_HEADER]: code }),
      };
    }
    await link
      .send('', replyTo, content, options, false)
      .catch((sendError: Error) =>
        this.context.log.warn({ err: sendError }, `${this.spec.owner}: reply not sent: ${sendError.message}`),
      );
  }

  private async deadLetter(channel: Channel, message: ConsumeMessage, reason: string): Promise<void> {
    const original = message.properties.headers ?? {};
    const own = {
      // A header table must fit in a frame: a handler's megabyte message would make the copy unsendable.
      [DEAD_REASON_HEADER]:
        reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason,
      'x-keel-dead-routing-key': stringHeader(original[ROUTING_KEY_HEADER]) ?? message.fields.routingKey,
      'x-keel-dead-exchange': stringHeader(original[EXCHANGE_HEADER]) ?? message.fields.exchange,
    };
    const queue = deadLetterQueue(this.spec.queue);
    let sent = await this.resend(channel, message, queue, { ...original, ...own });
    if (sent !== true) {
      // What came in may not go out again (amqplib reads a double below -2^63 back as a number it
      // writes as int64, and refuses): the copy keeps Keel's headers and the request id only.
      const requestId = stringHeader(original[REQUEST_ID_HEADER]);
      sent = await this.resend(channel, message, queue, {
        ...own,
        ...(requestId !== undefined && { [REQUEST_ID_HEADER]: requestId }),
        'x-keel-dead-headers-dropped': sent.message.slice(0, MAX_REASON_CHARS),
      });
    }
    if (sent === true) {
      this.meters.deadLettered.inc();
      return;
    }
    // Not even that could be sent (the broker refuses it): handed back rather than held unacked.
    this.nack(channel, message);
  }

  /**
   * Sends a copy to `queue` (confirmed), then acks the original: a crash in between duplicates,
   * never loses. Resolves true, or with the send's error (the original then neither acked nor nacked).
   */
  private async resend(
    channel: Channel,
    message: ConsumeMessage,
    queue: string,
    headers: MessagePropertyHeaders,
  ): Promise<true | Error> {
    const { properties } = message;
    try {
      await this.context.link.send('', queue, message.content, {
        headers,
        contentType: properties.contentType as string | undefined,
        messageId: properties.messageId as string | undefined,
        persistent: true,
      });
    } catch (error) {
      this.context.log.error(
        { err: error, queue },
        `${this.spec.owner}: cannot move a message to '${queue}': ${(error as Error).message}`,
      );
      return error instanceof Error ? error : new Error(String(error));
    }
    this.ack(channel, message);
    return true;
  }

  private nack(channel: Channel, message: ConsumeMessage): void {
    if (channel !== this.channel) return;
    try {
      channel.nack(message, false, true);
    } catch {
      // The channel closed under it: the broker redelivers the message.
    }
  }

  private ack(channel: Channel, message: ConsumeMessage): void {
    if (channel !== this.channel) return;
    try {
      channel.ack(message);
    } catch {
      // The channel closed under it: the broker redelivers the message.
    }
  }
}

function stringHeader(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
