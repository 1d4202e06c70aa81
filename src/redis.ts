/**
 * `tokengate/redis`: the Redis token store for apps that run several instances. Needs the
 * `ioredis` package (an optional peer dependency: install it yourself).
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisTokenStore } from 'tokengate/redis';
 *
 * const tokens = redisTokenStore({ client: new Redis(process.env.REDIS_URL) });
 * app.use(oauthServer({ clients, users, tokens }, { issuer, keys }));
 * ```
 * @module tokengate/redis
 * @packageDocumentation
 */
export { redisReplayStore, type RedisReplayStoreOptions } from './stores/redis/replay';
export { redisTokenStore, type RedisTokenStore, type RedisTokenStoreOptions, type RedisClient } from './stores/redis';
export { redisDeviceStore, type RedisDeviceStoreOptions } from './device/redis-store';
export { redisClientStore, type RedisClientStore, type RedisClientStoreOptions } from './stores/redis/clients';
