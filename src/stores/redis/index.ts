/**
 * `redisTokenStore`: the {@link TokenStore} for apps that run several instances. Every
 * instance shares one Redis (standalone, Sentinel or Cluster through ioredis); single use and
 * family revocation are Lua scripts; revocations are published so every instance's
 * `requireToken` cache drops them.
 * @packageDocumentation
 */
import type { Cluster, Redis } from 'ioredis';
import { nowSeconds } from '../../core/clock';
import { checkRenamed, checkSecondsAsMs, TokengateConfigError } from '../../core/config';
import { consoleLogger, type Logger } from '../../core/logging';
import type { ConsumeResult, RevocationEvent, TokenKind, TokenRecord, TokenStore } from '../types';
import { RevocationChannel } from './channel';
import { Guard, unavailable, type RedisConnection } from './connection';
import { CLOCK_MARGIN_MS, CONSUME, keyLayout, REVOKE, SAVE } from './scripts';

/** An ioredis client: standalone or Sentinel (`Redis`), or `Cluster`. */
export type RedisClient = Redis<'legacy'> | Redis<'resp3'> | Cluster<'legacy'> | Cluster<'resp3'>;

/**
 * Options for {@link redisTokenStore}.
 *
 * @example
 * ```ts
 * redisTokenStore({ client: new Redis(process.env.REDIS_URL), prefix: 'myapp-tokens', timeout: 0.5 });
 * ```
 */
export interface RedisTokenStoreOptions {
  /**
   * The ioredis client for commands. It stays the app's: the store never closes it. The store
   * adds its scripts to it (`defineCommand`, names starting `tokengate`).
   */
  client: RedisClient;
  /**
   * A second connection for the revocation subscription. Default: `client.duplicate()`, opened
   * when the first revocation listener (each `oauthServer`) registers and closed by
   * {@link RedisTokenStore.close}. Pass one to control its options yourself.
   */
  subscriber?: RedisClient;
  /**
   * Prefix of every key and of the channel; different prefixes keep separate token sets on one
   * Redis. It becomes the Cluster hash tag (`{prefix}:…`), so all keys of one store share a
   * slot. Letters, digits and `._:-` only. Default `tokengate`.
   */
  prefix?: string;
  /**
   * Longest wait in seconds (fractions allowed) for Redis on any operation before the request
   * is answered 503 `temporarily_unavailable`. While the client is reconnecting, operations
   * fail at once. Default 1. (Formerly `timeoutMs`, in milliseconds.)
   */
  timeout?: number;
  /**
   * How often, in seconds, the subscriber connection is pinged. A connection that died
   * silently is noticed within `heartbeatInterval + timeout`, and caches are dropped then.
   * Default 1. (Formerly `heartbeatMs`, in milliseconds.)
   */
  heartbeatInterval?: number;
  /** Where connection-state warnings go. Default: `console` with a `[tokengate]` prefix. */
  logger?: Logger;
}

/** A {@link TokenStore} backed by Redis, plus a way to let go of its subscriber connection. */
export interface RedisTokenStore extends TokenStore {
  /**
   * Resolve once Redis answers commands and the revocation channel is live (opening it if no
   * listener has yet); reject with {@link tokengate!TemporarilyUnavailable} after `waitMs` (default
   * 10 000). Optional: the store works without it, but a readiness probe or a test can use it.
   */
  ready(waitMs?: number): Promise<void>;
  /**
   * Stop listening for revocations and close the subscriber connection the store opened.
   * The command client is left open (it is the app's). Call on shutdown.
   */
  close(): Promise<void>;
}

const SCRIPTS = { save: 'tokengateSaveV1', consume: 'tokengateConsumeV2', revoke: 'tokengateRevokeV1' } as const;
type ScriptCalls = Record<(typeof SCRIPTS)[keyof typeof SCRIPTS], (...args: (string | number)[]) => Promise<unknown>>;

const milliseconds = (name: string, value: unknown, fallbackSeconds: number): number =>
  checkSecondsAsMs(`redisTokenStore: options.${name}`, value, fallbackSeconds);

function isClient(value: unknown): value is RedisConnection {
  const c = value as Partial<RedisConnection> | undefined;
  return (
    !!c && typeof c.defineCommand === 'function' && typeof c.duplicate === 'function' && typeof c.on === 'function'
  );
}

function toRecord(json: string, consumedAt: string | null): TokenRecord {
  const record = JSON.parse(json) as TokenRecord;
  return consumedAt === null ? record : { ...record, consumedAt: Number(consumedAt) };
}

/**
 * A {@link TokenStore} in Redis, shared by every instance of the app.
 *
 * - Keys are `{prefix}:r:<id>` (a record, under the hash of its token), `{prefix}:f:<family>`
 *   (the ids of a family) and `{prefix}:d:<id>` (a revoked id or family); every key has a TTL:
 *   a record its `expiresAt`, a family its longest member's, a deny entry its `until` (each
 *   5 s late, so a Redis clock ahead of the app's drops nothing early: expiry itself is
 *   checked against the app's clock, as the TokenStore contract says).
 * - `consume` and `revoke` are Lua scripts: exactly one concurrent consumer wins, across
 *   processes, and a family is removed and announced in one step.
 * - Revocations are published on `{prefix}:revoked`; every store's `onRevoke` listeners hear
 *   them (this process's at once, others' within a Redis round trip). When the subscription
 *   drops, listeners get `{ reset: 'lost' }`, and `{ reset: 'restored' }` once it is back.
 * - When Redis is unreachable, operations throw {@link tokengate!TemporarilyUnavailable} within
 *   `timeout` (at once while reconnecting); the app answers 503 and recovers by itself as
 *   ioredis reconnects.
 *
 * ioredis (an optional peer dependency) is used because it speaks to standalone Redis,
 * Sentinel and Cluster through one API, caches Lua scripts (`defineCommand`: EVALSHA with a
 * fallback to EVAL), and resubscribes after a reconnect.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisTokenStore } from 'tokengate/redis';
 *
 * const tokens = redisTokenStore({ client: new Redis(process.env.REDIS_URL) });
 * app.use(oauthServer({ clients, users, tokens }, { issuer, keys }));
 * process.on('SIGTERM', () => tokens.close());
 * ```
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  if (!options || typeof options !== 'object' || !isClient(options.client)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'redisTokenStore: options.client must be an ioredis client, e.g. redisTokenStore({ client: new Redis(process.env.REDIS_URL) }).',
    );
  }
  if (
    options.subscriber !== undefined &&
    (!isClient(options.subscriber) || (options.subscriber as unknown) === options.client)
  ) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'redisTokenStore: options.subscriber must be a second ioredis client (a subscribed connection cannot run commands).',
    );
  }
  const prefix = options.prefix ?? 'tokengate';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9._:-]+$/.test(prefix)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      `redisTokenStore: options.prefix must be letters, digits and ._:- only (got ${String(prefix)}).`,
    );
  }
  checkRenamed('redisTokenStore: options', options, [
    { from: 'timeoutMs', to: 'timeout', per: 1000 },
    { from: 'heartbeatMs', to: 'heartbeatInterval', per: 1000 },
  ]);
  const timeoutMs = milliseconds('timeout', options.timeout, 1);
  const heartbeatMs = milliseconds('heartbeatInterval', options.heartbeatInterval, 1);
  const logger = options.logger ?? consoleLogger;

  const client = options.client as unknown as RedisConnection;
  const keys = keyLayout(prefix);
  client.defineCommand(SCRIPTS.save, { lua: SAVE, numberOfKeys: 3 });
  client.defineCommand(SCRIPTS.consume, { lua: CONSUME, numberOfKeys: 1 });
  client.defineCommand(SCRIPTS.revoke, { lua: REVOKE, numberOfKeys: 4 });
  const scripts = client as unknown as ScriptCalls;
  const guard = new Guard(client, timeoutMs);
  const channel = new RevocationChannel(client, {
    channel: keys.channel,
    subscriber: options.subscriber as unknown as RedisConnection | undefined,
    heartbeatMs,
    timeoutMs,
    logger,
  });

  // Offset of Redis's clock from ours, measured on every (re)connect, so consume can tell
  // Redis the moment after which running it would be pointless (see CONSUME).
  let offsetMs: number | undefined;
  function measureClock(): void {
    const sent = Date.now();
    guard
      .run(() => client.time())
      .then(
        ([seconds, micros]) => {
          const received = Date.now();
          offsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sent + received) / 2;
        },
        () => undefined,
      );
  }
  const onReady = (): void => {
    guard.ready();
    measureClock();
  };
  const onClose = (): void => guard.closed();
  client.on('ready', onReady);
  client.on('close', onClose);
  if (client.status === 'ready') measureClock();

  return {
    async save(record) {
      const json = JSON.stringify({ ...record, consumedAt: undefined });
      await guard.run(() =>
        scripts[SCRIPTS.save](
          keys.record(record.id),
          keys.family(record.familyId),
          keys.denied(record.familyId),
          record.id,
          json,
          record.kind,
          record.familyId,
          record.expiresAt,
          record.consumedAt === undefined ? '' : String(record.consumedAt),
          nowSeconds(),
          record.expiresAt * 1000 + CLOCK_MARGIN_MS,
        ),
      );
    },

    async find(kind: TokenKind, id: string) {
      const [k, d, c, e] = await guard.run(() => client.hmget(keys.record(id), 'k', 'd', 'c', 'e'));
      if (k !== kind || d == null || (e != null && Number(e) <= nowSeconds())) return undefined;
      return toRecord(d, c ?? null);
    },

    async consume(kind: TokenKind, id: string): Promise<ConsumeResult | undefined> {
      // Half the timeout: a script that runs later than that could answer after we gave up.
      const deadline = offsetMs === undefined ? 0 : Math.floor(Date.now() + offsetMs + timeoutMs / 2);
      const now = nowSeconds();
      const reply = await guard.run(() => scripts[SCRIPTS.consume](keys.record(id), kind, now, deadline));
      if (reply === -1)
        throw unavailable(new Error('Redis ran consume after the caller stopped waiting; nothing was changed'));
      if (!Array.isArray(reply)) return undefined;
      const [json, consumedAt, reused, reuses] = reply as [string, string, number, number];
      const result: ConsumeResult = { record: toRecord(json, consumedAt), reused: Number(reused) === 1 };
      if (result.reused) result.reuses = Number(reuses);
      return result;
    },

    async revoke({ id, familyId, until }) {
      const ids: string[] = [];
      if (id !== undefined) ids.push(id);
      if (familyId !== undefined) ids.push(familyId);
      if (ids.length === 0) return;
      const message = channel.message(ids, until);
      await guard.run(() =>
        scripts[SCRIPTS.revoke](
          keys.record(id ?? ''),
          keys.denied(id ?? ''),
          keys.family(familyId ?? ''),
          keys.denied(familyId ?? ''),
          keys.base,
          id ?? '',
          familyId ?? '',
          until,
          keys.channel,
          message.text,
          nowSeconds(),
          until * 1000 + CLOCK_MARGIN_MS,
        ),
      );
      channel.deliverLocal(message.id, ids, until);
    },

    async isRevoked(ids) {
      if (ids.length === 0) return false;
      const untils = await guard.run(() => client.mget(...ids.map(keys.denied)));
      const now = nowSeconds();
      return untils.some((until) => until != null && Number(until) > now);
    },

    onRevoke(listener: (event: RevocationEvent) => void) {
      return channel.add(listener);
    },

    async ready(waitMs = 10_000) {
      if (!Number.isFinite(waitMs) || waitMs <= 0)
        throw new Error('redisTokenStore.ready(waitMs): waitMs must be a positive number of milliseconds.');
      const started = Date.now();
      try {
        await channel.whenLive(waitMs);
        if (client.status !== 'ready') {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              client.off('ready', done);
              resolve();
            };
            const timer = setTimeout(done, Math.max(0, waitMs - (Date.now() - started)));
            client.once('ready', done);
          });
          if (client.status !== 'ready') throw new Error(`the Redis client is ${client.status} after ${waitMs} ms`);
        }
      } catch (err) {
        throw unavailable(err);
      }
    },

    async close() {
      client.off('ready', onReady);
      client.off('close', onClose);
      await channel.close();
    },
  };
}
