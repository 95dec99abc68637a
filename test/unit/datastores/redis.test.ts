import { Microservice, microservice, RedisResource, Test } from '../../../lib';
import { quietLog } from '../../support/async';
import { closedPort } from '../../support/etcd';

@microservice({ name: 'cache_user', resources: { cache: RedisResource } })
class CacheUser extends Microservice {}

describe('RedisResource without a server', () => {
  it('names the package to install when ioredis is missing', () => {
    jest.isolateModules(() => {
      jest.doMock('ioredis', () => {
        throw Object.assign(new Error("Cannot find module 'ioredis'"), { code: 'MODULE_NOT_FOUND' });
      });
      type Driver = typeof import('../../../lib/resources/redis/driver');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { loadIoRedis } = require('../../../lib/resources/redis/driver') as Driver;
      expect(() => loadIoRedis("RedisResource 'cache'")).toThrow(
        "RedisResource 'cache' needs the package ioredis, which is not installed: npm install ioredis",
      );
    });
    jest.dontMock('ioredis');
  });

  it('fails the start after reconnect.start_attempts, naming the target and not the password', async () => {
    const port = await closedPort();
    const failure = await Test.createMicroservice(CacheUser, { log: quietLog() })
      .withSettings({
        system: {
          resources: {
            cache: {
              url: `redis://:hunter2-redis@127.0.0.1:${port}`,
              reconnect: { min_ms: 1, max_ms: 2, start_attempts: 2 },
            },
          },
        },
      })
      .start()
      .catch((error: unknown) => error);
    expect(String(failure)).toContain(
      `redis 'cache' cannot connect to redis://[redacted]@127.0.0.1:${port} after 2 attempt(s)`,
    );
    expect(String(failure)).not.toContain('hunter2');
  });

  it('refuses a malformed nodes entry, naming the key', async () => {
    const failure = await Test.createMicroservice(CacheUser, { log: quietLog() })
      .withSettings({ system: { resources: { cache: { mode: 'cluster', nodes: '' } } } })
      .start()
      .catch((error: unknown) => error);
    expect(String(failure)).toContain(
      "redis 'cache': mode cluster needs nodes (system.resources.cache.nodes: host:port,...)",
    );
  });

  it('refuses commands before start', async () => {
    const app = await Test.createMicroservice(CacheUser, { log: quietLog() }).compile();
    await expect(app.get(RedisResource).get('k')).rejects.toMatchObject({ code: 'REDIS_NOT_STARTED' });
  });
});
