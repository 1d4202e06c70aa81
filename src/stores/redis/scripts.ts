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
  /** A stored record (a hash: `k` kind, `f` family, `d` JSON, `c` consumedAt). */
  record(id: string): string;
  /** A family: the set of its record ids. */
  family(familyId: string): string;
  /** A deny-list entry for a revoked id or family id; expires at the revocation's `until`. */
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

// Shared helpers. Time comes from the server (TIME), so TTL arithmetic never mixes clocks.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// Push a key's expiry out to `at` (ms), never pull it in: a family lives as long as its
// longest-lived member, a deny entry as long as the latest revocation that named it.
const EXTEND = `local function extend(key, at)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 or now + ttl < at then redis.call('PEXPIREAT', key, at) end
end`;

/**
 * save. KEYS: record, family, family's deny entry. ARGV: id, JSON, kind, familyId,
 * expiresAt (ms), consumedAt ('' if none).
 * Returns 1 when stored, 0 when not kept (already expired, or its family is revoked: a token
 * issued by a refresh that raced with the family's revocation is born revoked), and an error
 * for an id that already exists.
 */
export const SAVE = `${NOW}
${EXTEND}
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('TOKENGATE_DUPLICATE_ID') end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local at = tonumber(ARGV[5])
if at <= now then return 0 end
redis.call('HSET', KEYS[1], 'k', ARGV[3], 'f', ARGV[4], 'd', ARGV[2])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'c', ARGV[6]) end
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('SADD', KEYS[2], ARGV[1])
extend(KEYS[2], at)
return 1`;

/**
 * consume. KEYS: record. ARGV: kind, consumedAt (s), deadline (server ms; '0' for none).
 * Returns nil (absent or another kind), -1 (ran after the caller gave up waiting: nothing
 * changed, so the caller's retry is not mistaken for a replay), or {JSON, consumedAt, reused}.
 * The read and the mark are one step, so of any number of concurrent calls exactly one sees
 * reused = 0.
 */
export const CONSUME = `if ARGV[3] ~= '0' then
  ${NOW}
  if now > tonumber(ARGV[3]) then return -1 end
end
local r = redis.call('HMGET', KEYS[1], 'k', 'd', 'c')
if not r[1] or r[1] ~= ARGV[1] then return false end
if r[3] then return {r[2], r[3], 1} end
redis.call('HSET', KEYS[1], 'c', ARGV[2])
return {r[2], ARGV[2], 0}`;

/**
 * revoke. KEYS: record of id, deny entry of id, family, deny entry of family.
 * ARGV: key base, id ('' for none), familyId ('' for none), until (ms), channel, message.
 * Removes the record and/or every member of the family, remembers the ids until `until`,
 * and publishes the message in the same step, so a revocation is never stored unannounced.
 */
export const REVOKE = `${NOW}
${EXTEND}
local untilMs = tonumber(ARGV[4])
local function deny(key)
  if untilMs > now then
    if redis.call('EXISTS', key) == 0 then redis.call('SET', key, '1', 'PX', untilMs - now) else extend(key, untilMs) end
  end
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
