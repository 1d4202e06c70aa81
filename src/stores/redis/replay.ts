/**
 * The Redis {@link ReplayStore}: one `SET key 1 EX ttl NX` per id, atomic on the server, so a
 * proof or assertion used at one instance is refused at every other.
 * @packageDocumentation
 */
import { nowSeconds } from '../../core/clock';
import { checkRenamed, checkSecondsAsMs, TokengateConfigError } from '../../core/config';
import type { ReplayStore } from '../types';
import { Guard, type RedisConnection } from './connection';

/** Options for {@link redisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** The ioredis client (`Redis` or `Cluster`); it stays the app's, the store never closes it. */
  client: unknown;
  /** Key prefix, as for `redisTokenStore` (keys are `{prefix}:j:<id>`). Default `tokengate`. */
  prefix?: string;
  /** Longest wait in seconds (fractions allowed) for Redis before the request is refused with 503. Default 1. */
  timeout?: number;
}

interface SetNx {
  set(key: string, value: string, ex: 'EX', seconds: number, nx: 'NX'): Promise<string | null>;
}

/**
 * Single-use ids (DPoP proof and client assertion `jti`s) in Redis, shared by every instance.
 * When Redis cannot answer, `use` rejects with `temporarily_unavailable`: the request is
 * refused, never let through unchecked (fail closed).
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL);
 * oauthServer({ clients, tokens: redisTokenStore({ client }), replay: redisReplayStore({ client }) }, options);
 * ```
 */
export function redisReplayStore(options: RedisReplayStoreOptions): ReplayStore {
  const client = options?.client as (RedisConnection & SetNx) | undefined;
  if (!client || typeof client.set !== 'function' || typeof client.on !== 'function') {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'redisReplayStore: options.client must be an ioredis client (new Redis(url)).',
    );
  }
  const prefix = options.prefix ?? 'tokengate';
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(prefix))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'redisReplayStore: options.prefix must be 1-64 letters, digits or ._:- characters.',
    );
  checkRenamed('redisReplayStore: options', options, [{ from: 'timeoutMs', to: 'timeout', per: 1000 }]);
  const timeoutMs = checkSecondsAsMs('redisReplayStore: options.timeout', options.timeout, 1);
  const guard = new Guard(client, timeoutMs);
  client.on('ready', () => guard.ready());
  client.on('close', () => guard.closed());
  return {
    async use(id, expiresAt) {
      const ttl = Math.max(1, Math.ceil(expiresAt - nowSeconds()));
      const reply = await guard.run(() => client.set(`{${prefix}}:j:${id}`, '1', 'EX', ttl, 'NX'));
      return reply === 'OK';
    },
  };
}
