/**
 * The Redis key layout and the Lua scripts of {@link redisTokenStore}. Every write that must
 * be atomic (save into a family, single-use consume, revoke a family and announce it) is one
 * script, so no other client ever sees half of it.
 *
 * All keys of one store share the hash tag `{prefix}`: on Redis Cluster they live in one hash
 * slot, which is what lets a script touch a record, its family and the deny list at once.
 * @packageDocumentation
 */

/** Key names for one store prefix. */
export interface KeyLayout {
  /** `{prefix}:` — prepended to every key; scripts build member keys from it. */
  readonly base: string;
  /** A stored record (a hash: `k` kind, `f` family, `e` expiresAt, `d` JSON, `c` consumedAt). */
  record(id: string): string;
  /** A family: the set of its record ids. */
  family(familyId: string): string;
  /** A deny-list entry for a revoked id or family id: holds the revocation's `until`. */
  denied(id: string): string;
  /** The pub/sub channel revocations are announced on. */
  readonly channel: string;
}

/** The key layout for `prefix` (validated by the caller: no braces). */
export function keyLayout(prefix: string): KeyLayout {
  const base = `{${prefix}}:`;
  return Object.freeze({
    base,
    record: (id: string) => `${base}r:${id}`,
    family: (familyId: string) => `${base}f:${familyId}`,
    denied: (id: string) => `${base}d:${id}`,
    channel: `${base}revoked`,
  });
}

// Expiry follows the app's clock (the TokenStore contract's "now"): the scripts compare
// `expiresAt` and `until` with the caller's time. Redis's own TTLs only collect garbage, so they
// run CLOCK_MARGIN_MS late: a Redis clock somewhat ahead of the app's never drops a record or
// a revocation early.
export const CLOCK_MARGIN_MS = 5000;

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * save. KEYS: record, family, family's deny entry. ARGV: id, JSON, kind, familyId,
 * expiresAt (s), consumedAt ('' if none), now (s, the app's), key expiry (ms).
 * Returns 1 when stored, 0 when not kept (already expired, or its family is revoked: a token
 * issued by a refresh that raced with the family's revocation is born revoked), and an error
 * for an id that already exists. The family set lives as long as its longest-lived member.
 */
export const SAVE = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('TOKENGATE_DUPLICATE_ID') end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if tonumber(ARGV[5]) <= tonumber(ARGV[7]) then return 0 end
redis.call('HSET', KEYS[1], 'k', ARGV[3], 'f', ARGV[4], 'e', ARGV[5], 'd', ARGV[2])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'c', ARGV[6]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
redis.call('SADD', KEYS[2], ARGV[1])
${NOW}
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 or now + ttl < tonumber(ARGV[8]) then redis.call('PEXPIREAT', KEYS[2], ARGV[8]) end
return 1`;

/**
 * consume. KEYS: record. ARGV: kind, now (s, the app's; becomes consumedAt), deadline (server
 * ms; '0' for none).
 * Returns nil (absent, expired or another kind), -1 (ran after the caller gave up waiting:
 * nothing changed, so the caller's retry is not mistaken for a replay), or
 * {JSON, consumedAt, reused, reuses}. The read and the mark are one step, so of any number of
 * concurrent calls exactly one sees reused = 0; every later call counts one replay (field `n`).
 */
export const CONSUME = `if ARGV[3] ~= '0' then
  ${NOW}
  if now > tonumber(ARGV[3]) then return -1 end
end
local r = redis.call('HMGET', KEYS[1], 'k', 'd', 'c', 'e')
if not r[1] or r[1] ~= ARGV[1] then return false end
if r[4] and tonumber(r[4]) <= tonumber(ARGV[2]) then return false end
if r[3] then return {r[2], r[3], 1, redis.call('HINCRBY', KEYS[1], 'n', 1)} end
redis.call('HSET', KEYS[1], 'c', ARGV[2])
return {r[2], ARGV[2], 0, 0}`;

/**
 * revoke. KEYS: record of id, deny entry of id, family, deny entry of family.
 * ARGV: key base, id ('' for none), familyId ('' for none), until (s), channel, message,
 * now (s, the app's), deny-entry expiry (ms).
 * Removes the record and/or every member of the family, remembers the ids until `until` (a
 * deny entry holds its `until` and is only ever pushed later), and publishes the message in
 * the same step, so a revocation is never stored unannounced.
 */
export const REVOKE = `local function deny(key)
  if tonumber(ARGV[4]) <= tonumber(ARGV[7]) then return end
  local old = redis.call('GET', key)
  if old and tonumber(old) >= tonumber(ARGV[4]) then return end
  redis.call('SET', key, ARGV[4])
  redis.call('PEXPIREAT', key, ARGV[8])
end
if ARGV[2] ~= '' then
  local fam = redis.call('HGET', KEYS[1], 'f')
  redis.call('DEL', KEYS[1])
  if fam then redis.call('SREM', ARGV[1] .. 'f:' .. fam, ARGV[2]) end
  deny(KEYS[2])
end
if ARGV[3] ~= '' then
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('DEL', ARGV[1] .. 'r:' .. member) end
  redis.call('DEL', KEYS[3])
  deny(KEYS[4])
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1`;
