export { RedisResource, type RedisArgument } from './resource';
export { RedisError, type RedisErrorCode } from './errors';
export { redisSchema, type RedisMode, type RedisSettings } from './settings';
