/**
 * `redisDeviceStore`: pending device authorizations (RFC 8628) in Redis, shared by every
 * instance. Each change is one Lua script, so decide, poll and consume are atomic.
 * @packageDocumentation
 */
import { checkRenamed, checkSecondsAsMs } from '../core/config';
import { Guard, type RedisConnection } from '../stores/redis/connection';
import type { RedisClient } from '../stores/redis/index';
import { DEVICE_RECORD_GRACE, type DeviceAuthorization, type DeviceStore } from './types';

/** Options for {@link redisDeviceStore}. */
export interface RedisDeviceStoreOptions {
  /** The ioredis client (the app's; never closed by the store). */
  client: RedisClient;
  /** Key prefix, the Cluster hash tag as for `redisTokenStore`. Default `tokengate`. */
  prefix?: string;
  /** Longest wait in seconds (fractions allowed) for Redis before the request is answered 503. Default 1. */
  timeout?: number;
}

// Keys: {prefix}:dv:<id> a hash (d: the record as JSON, s: status, i: interval, p: last poll
// ms, u: user id, c: granted scope JSON, k: user code hash); {prefix}:du:<user code> → id.
// Every key expires DEVICE_RECORD_GRACE seconds after the request.

/** create. KEYS: record, user code. ARGV: JSON, interval, user code hash, id, expiry ms. */
const CREATE = `if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('TOKENGATE_DUPLICATE_ID') end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 's', 'pending', 'i', ARGV[2], 'k', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
return 1`;

const FIELDS = `local function fields(key) return redis.call('HMGET', key, 'd', 's', 'i', 'p', 'u', 'c', 'k') end`;

/** decide. KEYS: user code. ARGV: key base, status, user id, scope JSON, now (s). */
const DECIDE = `${FIELDS}
local id = redis.call('GET', KEYS[1])
if not id then return false end
local key = ARGV[1] .. 'dv:' .. id
local r = fields(key)
if not r[1] or r[2] ~= 'pending' or tonumber(cjson.decode(r[1]).expiresAt) <= tonumber(ARGV[5]) then return false end
redis.call('HSET', key, 's', ARGV[2], 'u', ARGV[3], 'c', ARGV[4])
redis.call('HDEL', key, 'k')
redis.call('DEL', KEYS[1])
return fields(key)`;

/** poll. KEYS: record. ARGV: now (ms). Returns {fields..., slow}. */
const POLL = `${FIELDS}
local r = fields(KEYS[1])
if not r[1] then return false end
local interval = tonumber(r[3])
local slow = 0
if r[4] and tonumber(ARGV[1]) - tonumber(r[4]) < interval * 1000 then
  slow = 1
  interval = interval + 5
  redis.call('HSET', KEYS[1], 'i', interval)
end
redis.call('HSET', KEYS[1], 'p', ARGV[1])
local out = fields(KEYS[1])
table.insert(out, slow)
return out`;

/** consume. KEYS: record. */
const CONSUME = `${FIELDS}
local r = fields(KEYS[1])
if not r[1] or r[2] == 'pending' then return false end
redis.call('DEL', KEYS[1])
return r`;

const SCRIPTS = {
  create: 'tokengateDeviceCreateV1',
  decide: 'tokengateDeviceDecideV1',
  poll: 'tokengateDevicePollV1',
  consume: 'tokengateDeviceConsumeV1',
} as const;
type Calls = Record<(typeof SCRIPTS)[keyof typeof SCRIPTS], (...args: (string | number)[]) => Promise<unknown>>;

function toRecord(r: (string | null)[]): DeviceAuthorization {
  const record = JSON.parse(r[0] as string) as DeviceAuthorization;
  record.status = r[1] as DeviceAuthorization['status'];
  record.interval = Number(r[2]);
  if (r[3] != null) record.lastPolledAt = Number(r[3]);
  if (r[4] != null && r[4] !== '') record.userId = r[4];
  if (r[5] != null && r[5] !== '') record.scope = JSON.parse(r[5]) as string[];
  if (r[6] != null) record.userCode = r[6];
  else delete record.userCode;
  return record;
}

/**
 * A {@link DeviceStore} in Redis. Use the same client (and prefix) as `redisTokenStore`.
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL);
 * oauthServer({ clients, tokens: redisTokenStore({ client: redis }), devices: redisDeviceStore({ client: redis }) }, options);
 * ```
 */
export function redisDeviceStore(options: RedisDeviceStoreOptions): DeviceStore {
  const client = options?.client as unknown as RedisConnection | undefined;
  if (!client || typeof client.defineCommand !== 'function')
    throw new Error('redisDeviceStore: options.client must be an ioredis client.');
  const prefix = options.prefix ?? 'tokengate';
  if (!/^[A-Za-z0-9._:-]+$/.test(prefix))
    throw new Error(`redisDeviceStore: options.prefix must be letters, digits and ._:- only (got ${String(prefix)}).`);
  const base = `{${prefix}}:`;
  client.defineCommand(SCRIPTS.create, { lua: CREATE, numberOfKeys: 2 });
  client.defineCommand(SCRIPTS.decide, { lua: DECIDE, numberOfKeys: 1 });
  client.defineCommand(SCRIPTS.poll, { lua: POLL, numberOfKeys: 1 });
  client.defineCommand(SCRIPTS.consume, { lua: CONSUME, numberOfKeys: 1 });
  const calls = client as unknown as Calls;
  checkRenamed('redisDeviceStore: options', options, [{ from: 'timeoutMs', to: 'timeout', per: 1000 }]);
  const guard = new Guard(client, checkSecondsAsMs('redisDeviceStore: options.timeout', options.timeout, 1));
  client.on('ready', () => guard.ready());
  client.on('close', () => guard.closed());
  const record = (id: string): string => `${base}dv:${id}`;
  const userCode = (code: string): string => `${base}du:${code}`;

  return {
    async create(r) {
      const json = JSON.stringify({
        ...r,
        status: undefined,
        interval: undefined,
        userCode: undefined,
        lastPolledAt: undefined,
      });
      await guard.run(() =>
        calls[SCRIPTS.create](
          record(r.id),
          userCode(r.userCode ?? ''),
          json,
          r.interval,
          r.userCode ?? '',
          r.id,
          (r.expiresAt + DEVICE_RECORD_GRACE) * 1000,
        ),
      );
    },
    async findByUserCode(code, now) {
      const id = await guard.run(() =>
        (client as unknown as { get(k: string): Promise<string | null> }).get(userCode(code)),
      );
      if (id === null) return undefined;
      const r = await guard.run(() => client.hmget(record(id), 'd', 's', 'i', 'p', 'u', 'c', 'k'));
      if (r[0] == null) return undefined;
      const found = toRecord(r);
      return found.status === 'pending' && found.expiresAt > now ? found : undefined;
    },
    async decide(code, decision, now) {
      const denied = decision === 'denied';
      const r = await guard.run(() =>
        calls[SCRIPTS.decide](
          userCode(code),
          base,
          denied ? 'denied' : 'approved',
          denied ? '' : decision.userId,
          denied ? '' : JSON.stringify(decision.scope),
          now,
        ),
      );
      return Array.isArray(r) ? toRecord(r as (string | null)[]) : undefined;
    },
    async poll(id, nowMs) {
      const r = await guard.run(() => calls[SCRIPTS.poll](record(id), nowMs));
      if (!Array.isArray(r)) return undefined;
      return { record: toRecord(r as (string | null)[]), slowDown: Number(r[7]) === 1 };
    },
    async consume(id) {
      const r = await guard.run(() => calls[SCRIPTS.consume](record(id)));
      return Array.isArray(r) ? toRecord(r as (string | null)[]) : undefined;
    },
  };
}
