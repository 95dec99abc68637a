import { readFileSync } from 'node:fs';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { resource } from '../../container/decorators';
import { inject } from '../../container/injection';
import { LOGGER, METRICS, RESOURCE_NAME, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ResourceHealth } from '../../lifecycle/manager';
import { ResourceStatus } from '../../lifecycle/status';
import type { Counter, Histogram, MeterFactory } from '../../metrics';
import { maskText } from '../../settings/redact';
import { backoffDelay } from '../../resilience/backoff';
import type { SettingsView } from '../../settings/types';
import { loadIoRedis } from './driver';
import { connectingHealth } from '../decorated';
import { RedisError } from './errors';
import { redisSchema, type RedisSettings } from './settings';

/** What a command takes: strings, numbers and bytes. */
export type RedisArgument = string | number | Buffer;

type Outcome = 'ok' | 'error' | 'timeout' | 'unavailable';

interface CommandMeters {
  outcomes: Record<Outcome, Counter>;
  duration: Histogram;
}

/** ioredis' message for a command that outlived `commandTimeout`. */
const TIMED_OUT = 'Command timed out';

/**
 * A Redis client (ioredis): one server, a sentinel group or a cluster, from settings. `CONNECTING`
 * while disconnected, every command bounded by `command_timeout_ms` and counted by name and
 * outcome, and a stop that sends QUIT after the commands already sent.
 */
@resource({ settings: redisSchema, name: 'redis' })
export class RedisResource {
  private redis?: Redis | Cluster;
  private readonly commands = new Map<string, CommandMeters>();
  private readonly outcomes: Counter;
  private readonly durations: Histogram;
  private readonly reconnects: Counter;
  private starting = false;
  private lastError?: string;
  /** Commands sent through `command` and not yet answered: what a stop's QUIT waits behind. */
  private awaiting = 0;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<RedisSettings>,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meterFactory: MeterFactory,
    @inject(RESOURCE_NAME) readonly name: string,
  ) {
    this.outcomes = meterFactory.counter('redis_commands_total', {
      help: 'Commands sent through the resource, by command name and outcome (ok, error, timeout, unavailable)',
      labelNames: ['command', 'outcome'],
    });
    this.durations = meterFactory.histogram('redis_command_duration_seconds', {
      help: 'Time from a command to its reply, by command name',
      labelNames: ['command'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    this.reconnects = meterFactory.counter('redis_reconnects_total', {
      help: 'Reconnect attempts after the connection was lost',
    });
  }

  /** Connects, trying `reconnect.start_attempts` times; commands may be sent once it resolves. */
  async start(): Promise<void> {
    const settings = this.settings.value();
    const ioredis = loadIoRedis(`RedisResource '${this.name}'`);
    this.starting = true;
    this.lastError = undefined;
    const attempts = Math.max(1, settings.reconnect.start_attempts);
    let gaveUp: ((error: Error) => void) | undefined;
    const retry = (times: number): number | null => {
      if (this.starting && times >= attempts) {
        gaveUp?.(new Error(this.lastError ?? 'no connection'));
        return null;
      }
      if (!this.starting) this.reconnects.inc();
      return backoffDelay({ initialMs: settings.reconnect.min_ms, maxMs: settings.reconnect.max_ms }, times);
    };
    const redis = this.create(ioredis, settings, retry);
    this.redis = redis;
    redis.on('error', (error: Error) => {
      const reason = this.describe(error);
      // Refused (a wrong password, an unknown user): no further attempt would be let in.
      if (this.starting && error.name === 'ReplyError') gaveUp?.(new Error(reason));
      if (reason === this.lastError) return;
      this.lastError = reason;
      this.log.warn({ target: this.target, reason }, `redis '${this.name}' (${this.target}): ${reason}`);
    });
    redis.on('ready', () => {
      if (this.starting) return;
      this.lastError = undefined;
      this.log.info({ target: this.target }, `redis '${this.name}' connected again to ${this.target}`);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        gaveUp = reject;
        redis.once('ready', () => resolve());
        redis.connect().catch(() => undefined);
      });
    } catch (error) {
      this.redis = undefined;
      // Given up by the retry strategy, ioredis has ended the connection itself; its disconnect() would
      // then leave a 2 s timer for a stream that already closed (a process or a test waits on it).
      if (redis.status !== 'end') redis.disconnect();
      throw new RedisError(
        'REDIS_CONNECT_FAILED',
        `redis '${this.name}' cannot connect to ${this.target} after ${attempts} attempt(s): ${(error as Error).message}`,
      );
    } finally {
      this.starting = false;
    }
    this.log.info({ target: this.target }, `redis '${this.name}' connected to ${this.target}`);
  }

  /**
   * QUIT, which the server answers after every command sent before it; the connection is closed
   * without it when that takes longer than `stop_timeout_ms`, or at once while disconnected.
   */
  async stop(): Promise<void> {
    const redis = this.redis;
    if (redis === undefined) return;
    this.redis = undefined;
    if (redis.status !== 'ready') {
      redis.disconnect();
      return;
    }
    const { stop_timeout_ms } = this.settings.value();
    this.log.info(
      { awaiting: this.awaiting, grace_ms: stop_timeout_ms },
      `redis '${this.name}': QUIT after ${this.awaiting} command(s) awaiting their reply`,
    );
    let timer: NodeJS.Timeout | undefined;
    const quit = redis.quit().then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>(
      (resolve) => (timer = setTimeout(() => resolve(false), stop_timeout_ms)),
    );
    const quitted = await Promise.race([quit, timedOut]);
    clearTimeout(timer);
    if (!quitted) {
      this.log.warn(
        { grace_ms: stop_timeout_ms },
        `redis '${this.name}': no reply to QUIT within ${stop_timeout_ms} ms; the connection is closed`,
      );
      redis.disconnect();
    }
  }

  /** CONNECTING while the connection is down or being re-established. */
  status(): ResourceHealth {
    const redis = this.redis;
    if (redis === undefined || redis.status === 'ready') return ResourceStatus.STARTED;
    return connectingHealth(
      `${redis.status}: ${this.target}${this.lastError === undefined ? '' : `: ${this.lastError}`}`,
      this.settings.value().affects_readiness,
    );
  }

  /** Where this resource connects, without the password. */
  get target(): string {
    const settings = this.settings.value();
    if (settings.mode === 'cluster') return `cluster ${settings.nodes}`;
    if (settings.mode === 'sentinel')
      return `sentinel group '${settings.sentinel.master_name}' via ${settings.nodes}`;
    if (settings.url === '') return `redis://${settings.host}:${settings.port}/${settings.db}`;
    return maskText(settings.url);
  }

  /**
   * Any command by name, bounded by `command_timeout_ms`, counted in `redis_commands_total`; `T` is
   * the reply type the caller expects (a string, a number, null, an array of them).
   */
  command<T = unknown>(name: string, ...args: RedisArgument[]): Promise<T> {
    const redis = this.redis;
    if (redis === undefined) {
      return Promise.reject(
        new RedisError('REDIS_NOT_STARTED', `redis '${this.name}' is not started`, { command: name }),
      );
    }
    const meters = this.metersOf(name);
    const began = performance.now();
    this.awaiting++;
    // One `then` on ioredis' promise, not an async function's await: ~0.5 µs of client CPU a command (RESULTS.md, issue 26).
    return (redis.call(name, ...args) as Promise<T>).then(
      (reply) => {
        this.awaiting--;
        meters.outcomes.ok.inc();
        meters.duration.observe((performance.now() - began) / 1000);
        return reply;
      },
      (error: unknown) => {
        this.awaiting--;
        throw this.commandError(name, error, meters);
      },
    );
  }

  get(key: string): Promise<string | null> {
    return this.command<string | null>('get', key);
  }

  /** With `ttlMs`, the key expires after it (SET … PX). */
  set(key: string, value: RedisArgument, options: { ttlMs?: number } = {}): Promise<void> {
    const sent =
      options.ttlMs === undefined
        ? this.command('set', key, value)
        : this.command('set', key, value, 'PX', options.ttlMs);
    return sent.then(ignoreReply);
  }

  /** Keys removed. */
  del(...keys: string[]): Promise<number> {
    return this.command<number>('del', ...keys);
  }

  incr(key: string): Promise<number> {
    return this.command<number>('incr', key);
  }

  /** The list's length after the push. */
  rpush(key: string, ...values: RedisArgument[]): Promise<number> {
    return this.command<number>('rpush', key, ...values);
  }

  lrange(key: string, start: number, stop: number): Promise<string[]> {
    return this.command<string[]>('lrange', key, start, stop);
  }

  /** Clients that received it. */
  publish(channel: string, message: RedisArgument): Promise<number> {
    return this.command<number>('publish', channel, message);
  }

  /**
   * The ioredis client itself (`Redis`, or `Cluster` in cluster mode), for what the methods above
   * do not cover: pipelines, MULTI, subscriptions. Its commands have the timeout, but are not
   * counted in Keel's metrics.
   */
  client<T>(): T {
    if (this.redis === undefined)
      throw new RedisError('REDIS_NOT_STARTED', `redis '${this.name}' is not started`);
    return this.redis as T;
  }

  private commandError(name: string, error: unknown, meters: CommandMeters): RedisError {
    const message = this.describe(error);
    if ((error as Error).name === 'ReplyError') {
      meters.outcomes.error.inc();
      return new RedisError('REDIS_COMMAND_FAILED', `redis '${this.name}' ${name} failed: ${message}`, {
        command: name,
        reply: message.split(' ')[0],
      });
    }
    if ((error as Error).message === TIMED_OUT) {
      meters.outcomes.timeout.inc();
      const { command_timeout_ms } = this.settings.value();
      return new RedisError(
        'REDIS_TIMEOUT',
        `redis '${this.name}' ${name}: no reply within ${command_timeout_ms} ms (command_timeout_ms)`,
        { command: name },
      );
    }
    meters.outcomes.unavailable.inc();
    return new RedisError('REDIS_UNAVAILABLE', `redis '${this.name}' ${name}: ${message}`, { command: name });
  }

  /** By the name as given; the label is its lower case, so `GET` and `get` count in one series. */
  private metersOf(name: string): CommandMeters {
    let meters = this.commands.get(name);
    if (meters === undefined) {
      const command = name.toLowerCase();
      const outcome = (value: Outcome) => this.outcomes.labels({ command, outcome: value });
      meters = {
        outcomes: {
          ok: outcome('ok'),
          error: outcome('error'),
          timeout: outcome('timeout'),
          unavailable: outcome('unavailable'),
        },
        duration: this.durations.labels({ command }),
      };
      this.commands.set(name, meters);
    }
    return meters;
  }

  private create(
    ioredis: ReturnType<typeof loadIoRedis>,
    settings: RedisSettings,
    retry: (times: number) => number | null,
  ): Redis | Cluster {
    const common: RedisOptions = {
      lazyConnect: true,
      username: settings.username || undefined,
      password: settings.password || undefined,
      db: settings.db,
      keyPrefix: settings.key_prefix || undefined,
      commandTimeout: settings.command_timeout_ms,
      connectTimeout: settings.connect_timeout_ms,
      enableOfflineQueue: settings.offline_queue,
      tls: this.tls(settings),
      retryStrategy: retry,
    };
    if (settings.mode === 'cluster') {
      const {
        db: _db,
        keyPrefix,
        lazyConnect,
        retryStrategy: _retry,
        enableOfflineQueue,
        ...redisOptions
      } = common;
      const options: ClusterOptions = {
        lazyConnect,
        keyPrefix,
        enableOfflineQueue,
        redisOptions,
        clusterRetryStrategy: retry,
      };
      return new ioredis.Cluster(this.nodes(settings), options);
    }
    if (settings.mode === 'sentinel') {
      return new ioredis.Redis({
        ...common,
        sentinels: this.nodes(settings),
        name: settings.sentinel.master_name,
        sentinelPassword: settings.sentinel.password || undefined,
        sentinelRetryStrategy: retry,
      });
    }
    if (settings.url !== '') return new ioredis.Redis(settings.url, { ...common, db: undefined });
    return new ioredis.Redis({ ...common, host: settings.host, port: settings.port });
  }

  private nodes(settings: RedisSettings): { host: string; port: number }[] {
    const nodes = settings.nodes
      .split(',')
      .map((node) => node.trim())
      .filter((node) => node !== '')
      .map((node) => {
        const match = /^(.+):(\d+)$/.exec(node);
        if (match === null) {
          throw new RedisError(
            'REDIS_CONNECT_FAILED',
            `redis '${this.name}': nodes entry '${node}' is not host:port`,
          );
        }
        return { host: match[1], port: Number(match[2]) };
      });
    if (nodes.length === 0) {
      throw new RedisError(
        'REDIS_CONNECT_FAILED',
        `redis '${this.name}': mode ${settings.mode} needs nodes (system.resources.${this.name}.nodes: host:port,...)`,
      );
    }
    return nodes;
  }

  private tls(settings: RedisSettings): RedisOptions['tls'] {
    const { enabled, ca_file, reject_unauthorized } = settings.tls;
    if (!enabled) return undefined;
    let ca: string | undefined;
    if (ca_file !== '') {
      try {
        ca = readFileSync(ca_file, 'utf8');
      } catch (error) {
        throw new RedisError(
          'REDIS_CONNECT_FAILED',
          `redis '${this.name}': cannot read tls.ca_file ${ca_file}: ${(error as Error).message}`,
        );
      }
    }
    return { ca, rejectUnauthorized: reject_unauthorized };
  }

  /** An error's message, masked: no URL credentials, no sensitive setting's value. */
  private describe(error: unknown): string {
    return maskText(error instanceof Error ? error.message || error.name : String(error));
  }
}

/** SET's `OK`: `set` resolves with nothing. */
function ignoreReply(): void {}
