import type { Redis } from 'ioredis';
import { backoffDelay } from '../../resilience/backoff';
import { loadIoRedis } from '../../resources/redis/driver';
import { BatchingSink, type BatchingOptions, type Outcome } from './batching';
import type { SinkContext } from './types';

export interface RedisListOptions extends BatchingOptions {
  url: string;
  password: string;
  key: string;
  timeoutMs: number;
}

/** Replies a retried push could get past: the server is busy, loading, or failing over. */
const PASSING = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)\b/;

/**
 * Tamarco's logstash Redis handler: each batch is one RPUSH of logstash v1 events onto `key`, for a
 * logstash redis input (`data_type => list`) to pop. While Redis is down a push fails at once (no
 * offline queue: the batching sink holds the records, within its bound) and ioredis reconnects.
 */
export class RedisListSink extends BatchingSink {
  private readonly redis: Redis;

  constructor(
    private readonly options: RedisListOptions,
    context: SinkContext,
  ) {
    super('redis', options, context);
    const { Redis } = loadIoRedis('system.logging.redis');
    this.redis = new Redis(options.url, {
      password: options.password || undefined,
      enableOfflineQueue: false,
      commandTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      retryStrategy: (times) =>
        backoffDelay({ initialMs: options.backoffMs, maxMs: options.maxBackoffMs }, times),
    });
    // What fails is reported by the batches that fail (once per outage), not per socket error.
    this.redis.on('error', () => undefined);
  }

  protected async send(batch: readonly string[]): Promise<Outcome> {
    try {
      await this.redis.rpush(this.options.key, ...batch);
      return { ok: true };
    } catch (error) {
      const { name, message } = error as Error;
      return { ok: false, retry: name !== 'ReplyError' || PASSING.test(message), reason: message };
    }
  }

  protected release(): void {
    this.redis.disconnect();
  }
}
