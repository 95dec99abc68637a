import { DropCounter } from '../../../lib/logging/drops';
import { RedisListSink } from '../../../lib/logging/sinks/redis-list';
import { closedPort } from '../../support/etcd';

const BACKOFF_MS = 1000;

describe('the Redis log sink reconnect schedule', () => {
  it('spreads 20 sinks that lose Redis together: the first waits ioredis is given are jittered under backoff_ms', async () => {
    const port = await closedPort();
    const context = { drops: new DropCounter(), warn: () => undefined, notice: () => undefined };
    const sinks = Array.from(
      { length: 20 },
      () =>
        new RedisListSink(
          {
            url: `redis://127.0.0.1:${port}`,
            password: '',
            key: 'logstash',
            timeoutMs: 1000,
            maxRecords: 10,
            maxTimeMs: 100,
            maxQueueRecords: 100,
            backoffMs: BACKOFF_MS,
            maxBackoffMs: 30_000,
            hostName: 'test',
          },
          context,
        ),
    );
    try {
      // ioredis announces each reconnect with the delay its retryStrategy chose.
      const delays = await Promise.all(
        sinks.map((sink) => new Promise<number>((resolve) => sink['redis'].once('reconnecting', resolve))),
      );
      expect(delays.every((delay) => delay >= 0 && delay < BACKOFF_MS)).toBe(true);
      // No herd: twenty first attempts spread over the window, not all at its edge.
      expect(new Set(delays).size).toBeGreaterThanOrEqual(12);
      expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(BACKOFF_MS * 0.4);
    } finally {
      await Promise.all(sinks.map((sink) => sink.close(Date.now() + 1000)));
    }
  });
});
