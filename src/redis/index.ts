export { checkRedis, type CheckRedisOptions } from './check-redis.js';
export {
  checkRedisExposure,
  type CheckRedisExposureOptions,
} from './check-redis-exposure.js';
export {
  connectRedis,
  redisOptionsFor,
  type ConnectRedisOptions,
  type RedisRole,
} from './connect-redis.js';
export {
  ensurePrivateRedis,
  type EnsurePrivateRedisOptions,
  type PrivateRedis,
} from './private-redis.js';
export {
  PrivateRedisError,
  type PrivateRedisErrorCode,
} from './private-redis-error.js';
export {
  RedisConfigError,
  type RedisConfigErrorCode,
} from './redis-config-error.js';
export {
  redisRefusalOf,
  type RedisRefusal,
  type RedisRefusalKind,
} from './redis-refusal.js';
