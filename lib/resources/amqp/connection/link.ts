import { Socket } from 'node:net';
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  Message,
  Options,
  RecoveringChannelModel,
} from 'amqplib';
import type { Log } from '../../../lifecycle/log';
import { backoffDelay } from '../../../resilience/backoff';
import { AmqpError } from '../errors';
import { fallbackTaken } from '../../../internals/reach';
import { redactUrl } from '../../../settings/redact';
import type { AmqpTransport } from './amqplib';

export interface LinkOptions {
  resource: string;
  url: string;
  heartbeatS: number;
  confirm: boolean;
  exchange: string;
  reconnect: { min_ms: number; max_ms: number; start_attempts: number };
  log: Log;
  /** amqplib, or what stands in for it. */
  transport: AmqpTransport;
  /** Runs on every new connection before it is used: consumers and the reply queue attach here. */
  onConnect(session: Session): Promise<void>;
}

/** How long one send may wait for the broker (a reconnect, the confirm), and the error it then rejects with. */
export interface SendBound {
  readonly timeoutMs: number;
  timedOut(): Error;
}

/** A send's bound while it runs: `expired` once the time ran out, so the send stops where it is. */
export interface Deadline {
  expired?: Error;
  onExpiry?: (error: Error) => void;
}

interface SessionWaiter {
  resolve(session: Session): void;
  reject(error: Error): void;
}

/** Attempts of one publish that fail on a live connection (a channel closed by an error) before it gives up. */
const MAX_CHANNEL_FAILURES = 3;

/** A channel opened on first use, and again after an error closed it. */
class LazyChannel {
  /** Set while open: the hot path takes it without awaiting. */
  open?: Channel;
  private opening?: Promise<Channel>;

  constructor(private readonly create: () => Promise<Channel>) {}

  get(): Promise<Channel> {
    if (this.opening === undefined) {
      const opening = this.create();
      this.opening = opening;
      void opening.then(
        (channel) => {
          if (this.opening === opening) this.open = channel;
          channel.on('error', () => undefined);
          channel.once('close', () => {
            if (this.open === channel) this.open = undefined;
            if (this.opening === opening) this.opening = undefined;
          });
        },
        () => {
          if (this.opening === opening) this.opening = undefined;
        },
      );
    }
    return this.opening;
  }
}

/** One connection's worth of state: what a reconnect throws away and builds again. */
export class Session {
  closed = false;
  /**
   * Publishes, and replies (sent without waiting for their confirm): one channel for every
   * outgoing message, so a reply needs no channel of its own.
   */
  private readonly publisher: LazyChannel;
  private readonly queues = new Set<string>();

  constructor(
    readonly model: ChannelModel,
    confirm: boolean,
    onUnrouted: (message: Message) => void,
  ) {
    model.once('close', () => (this.closed = true));
    this.publisher = new LazyChannel(async () => {
      const channel = await (confirm ? model.createConfirmChannel() : model.createChannel());
      // A publish is mandatory: one that no queue is bound for comes back here instead of vanishing.
      channel.on('return', onUnrouted);
      return channel;
    });
  }

  publishChannel(): LazyChannel {
    return this.publisher;
  }

  /** Declares a durable work queue (and its dead-letter queue) once per connection. */
  async workQueue(queue: string): Promise<void> {
    if (this.queues.has(queue)) return;
    const channel = await this.publisher.get();
    await channel.assertQueue(queue, { durable: true });
    await channel.assertQueue(deadLetterQueue(queue), { durable: true });
    this.queues.add(queue);
  }
}

export function deadLetterQueue(queue: string): string {
  return `${queue}.dead`;
}

/**
 * The resource's connection: opened with amqplib's recovery, which reconnects with backoff after
 * the broker goes away; each new connection becomes a Session, set up before anything uses it.
 */
export class Link {
  private recovering?: RecoveringChannelModel;
  private current?: Session;
  private waiters: SessionWaiter[] = [];
  private closing = false;
  private readonly unroutedTopics = new Set<string>();

  constructor(private readonly options: LinkOptions) {}

  get isOpen(): boolean {
    return this.current !== undefined && !this.current.closed;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  async open(): Promise<void> {
    const { url, heartbeatS, reconnect, resource, log, transport } = this.options;
    const shown = redactUrl(url);
    const target = new URL(url);
    target.searchParams.set('heartbeat', String(heartbeatS));
    this.closing = false;
    const recovering = await transport.connect(target.toString(), {
      // Nagle would hold a frame written while an earlier small one is unacknowledged. A consumer's
      // basic.ack gets no answer from the broker, so the broker ACKs it only on its delayed-ACK timer
      // (40 ms on Linux), and a request written in that window waited for it.
      noDelay: true,
      recovery: {
        // The policy module's jittered schedule rather than amqplib's ±20 % around the exponential one.
        calculateDelay: (attempt: number) =>
          backoffDelay({ initialMs: reconnect.min_ms, maxMs: reconnect.max_ms }, attempt),
        initialMaxRetries: Math.max(0, reconnect.start_attempts - 1),
        maxRetries: Infinity,
        waitForConnect: false,
        setup: (model: ChannelModel) => this.setUp(model),
      },
    } as Options.Connect & { recovery: object });
    this.recovering = recovering;
    recovering.on('error', (error: Error) =>
      log.warn({ err: error }, `amqp '${resource}': ${error.message}`),
    );
    recovering.on('disconnect', (error: Error) => {
      log.warn(
        { err: error, url: shown },
        `amqp '${resource}' lost its connection to ${shown}: ${error.message}`,
      );
    });
    recovering.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) =>
      log.info({ attempt, delay_ms: delay }, `amqp '${resource}' reconnects to ${shown} in ${delay} ms`),
    );
    recovering.on('connect', () => log.info({ url: shown }, `amqp '${resource}' connected to ${shown}`));
    try {
      await recovering.waitForConnect();
    } catch (error) {
      this.closing = true;
      await recovering.close().catch(() => undefined);
      this.recovering = undefined;
      throw new AmqpError(
        'AMQP_CONNECT_FAILED',
        `amqp '${resource}' cannot connect to ${shown} after ${reconnect.start_attempts} attempt(s): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** The session while connected: what a hot path takes without waiting a turn. */
  get openSession(): Session | undefined {
    const current = this.current;
    return current !== undefined && !current.closed ? current : undefined;
  }

  /**
   * The current session, or the next one while reconnecting; rejects once the link is closed, or
   * when `deadline` expires first (the wait withdrawn, so a long outage keeps no waiter per send).
   */
  session(deadline?: Deadline): Promise<Session> {
    if (this.current !== undefined && !this.current.closed) return Promise.resolve(this.current);
    if (this.closing) return Promise.reject(this.stoppedError());
    if (deadline?.expired !== undefined) return Promise.reject(deadline.expired);
    return new Promise((resolve, reject) => {
      const waiter: SessionWaiter = { resolve, reject };
      this.waiters.push(waiter);
      if (deadline !== undefined) {
        deadline.onExpiry = (error) => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(error);
        };
      }
    });
  }

  /**
   * Runs `work` with a deadline of `bound.timeoutMs`: it rejects with `bound.timedOut()` once that
   * passes, and a wait for the next session inside it is withdrawn.
   */
  async within<T>(bound: SendBound, work: (deadline: Deadline) => Promise<T>): Promise<T> {
    const deadline: Deadline = {};
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = bound.timedOut();
        deadline.expired = error;
        deadline.onExpiry?.(error);
        reject(error);
      }, bound.timeoutMs);
    });
    try {
      return await Promise.race([work(deadline), expiry]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one message; with confirms on (and `confirm` not false), resolves once the broker has
   * it, sending it again on the next connection if this one is lost first. Under a `deadline`
   * (`within`), it is not sent again once that expired.
   */
  async send(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    confirm = this.options.confirm,
    deadline?: Deadline,
  ): Promise<void> {
    let failures = 0;
    for (;;) {
      // No await while connected: a burst of publishes reaches the socket in the same turn.
      const session = this.openSession ?? (await this.session(deadline));
      if (deadline?.expired !== undefined) throw deadline.expired;
      try {
        const lazy = session.publishChannel();
        const channel = lazy.open ?? (await lazy.get());
        await publishOn(channel, confirm, exchange, routingKey, content, options);
        return;
      } catch (error) {
        if ((error as Error).message === 'message nacked') {
          throw new AmqpError('AMQP_PUBLISH_FAILED', `the broker refused a message for '${routingKey}'`, {
            cause: error,
          });
        }
        // Lost with its connection: sent again on the next one (at least once, never lost).
        if (session.closed) continue;
        if (++failures >= MAX_CHANNEL_FAILURES) {
          throw new AmqpError(
            'AMQP_PUBLISH_FAILED',
            `amqp '${this.options.resource}' cannot publish to '${routingKey}': ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.stoppedError());
    const recovering = this.recovering;
    this.recovering = undefined;
    this.current = undefined;
    await recovering?.close();
  }

  private async setUp(model: ChannelModel): Promise<void> {
    // amqplib's module exports `credentials`; a transport of the testing kit has no socket to cork.
    coalesceWrites(model, 'credentials' in this.options.transport);
    const session = new Session(model, this.options.confirm, (message) => this.unrouted(message));
    model.on('error', () => undefined);
    const channel = await session.publishChannel().get();
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    await this.options.onConnect(session);
    this.current = session;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(session);
  }

  /** Said once per topic: a service publishing before its consumers bind would say it on every message. */
  private unrouted(message: Message): void {
    const { exchange, routingKey } = message.fields;
    if (this.unroutedTopics.has(routingKey)) return;
    this.unroutedTopics.add(routingKey);
    this.options.log.warn(
      { exchange, routing_key: routingKey },
      `amqp '${this.options.resource}': a message published to '${routingKey}' reached no queue (none is bound to it on '${exchange}'); it was dropped`,
    );
  }

  private stoppedError(): AmqpError {
    return new AmqpError('AMQP_STOPPED', `amqp '${this.options.resource}' is stopped`);
  }
}

/**
 * With TCP_NODELAY each of amqplib's writes (one per frame and channel) is a syscall and a segment
 * of its own, and a burst of publishes costs the broker a read per message. Corked for the rest of
 * the turn, the frames written in one turn leave in one writev, and still in that turn.
 */
export function coalesceWrites(model: ChannelModel, fromAmqplib: boolean): void {
  // amqplib keeps its socket there; not part of its typed API, so checked rather than trusted:
  // without it amqplib writes each frame itself, as it does uncorked (slower, same bytes).
  const socket = (model.connection as { stream?: unknown }).stream;
  if (!(socket instanceof Socket)) {
    if (fromAmqplib)
      fallbackTaken(
        "amqplib's connection socket (amqp/connection/link.ts)",
        'connection.stream is not a socket',
      );
    return;
  }
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

function publishOn(
  channel: Channel | ConfirmChannel,
  confirm: boolean,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  if (!confirm) {
    return channel.publish(exchange, routingKey, content, options)
      ? Promise.resolve()
      : new Promise((resolve) => channel.once('drain', resolve));
  }
  return new Promise((resolve, reject) => {
    (channel as ConfirmChannel).publish(exchange, routingKey, content, options, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}
