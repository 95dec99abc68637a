import type * as IoRedis from 'ioredis';
import { requirePeer } from '../../errors/peer';
import { RedisError } from './errors';

export type IoRedisModule = typeof IoRedis;

let loaded: IoRedisModule | undefined;

/** `what` names who needs it: `RedisResource 'cache'`, `system.logging.redis`. */
export function loadIoRedis(what: string): IoRedisModule {
  loaded ??= requirePeer<IoRedisModule>(
    'ioredis',
    () =>
      new RedisError(
        'REDIS_MISSING_DEPENDENCY',
        `${what} needs the package ioredis, which is not installed: npm install ioredis`,
      ),
  );
  return loaded;
}
