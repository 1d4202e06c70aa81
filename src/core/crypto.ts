/**
 * Hashing and comparison primitives. Everything secret that reaches a store goes through
 * here first, and every secret comparison is constant-time.
 * @packageDocumentation
 */
import * as nodeCrypto from 'node:crypto';
import {
  createHash,
  createHmac,
  randomBytes,
  randomFillSync,
  scrypt,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';

// One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object `createHash` builds, which is
// most of the cost of hashing a short token; `requireToken` hashes one on every request.
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/**
 * SHA-256 of a token, base64url: the id under which a store keeps it. Tokens carry 256
 * random bits, so a fast unsalted hash is enough to make a leaked table useless.
 *
 * @example
 * ```ts
 * await store.find('refresh_token', hashToken(presented));
 * ```
 */
export function hashToken(token: string): string {
  return oneShotHash
    ? oneShotHash('sha256', token, 'base64url')
    : createHash('sha256').update(token).digest('base64url');
}

// Random bytes for tokens come from a pool refilled 4 KiB at a time: one call into the CSPRNG
// per ~100 tokens instead of one per token (a call has a fixed cost of a few microseconds,
// more than a token's share of a big fill). Every byte is handed out once and wiped from the
// pool as it is.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** A new random token: `bytes` random bytes (default 32 = 256 bits), base64url. */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1)
    throw new RangeError('randomToken: bytes must be a positive whole number.');
  if (bytes > POOL_BYTES / 4) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + bytes);
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return token;
}

/**
 * The one refresh token that may follow `token` in its rotation: HMAC-SHA256 keyed with the
 * raw token over the record's `successorSalt`. Only a holder of the raw token can derive it,
 * and only with the salt, which never leaves the store, so an old token does not let anyone
 * skip ahead; the store itself, holding hashes and salts, cannot derive it either. A retry of
 * a refresh is answered with this same token instead of a second live one.
 */
export function successorToken(token: string, salt: string): string {
  return createHmac('sha256', token).update(`tokengate refresh successor\0${salt}`).digest('base64url');
}

const CLIENT_SECRET_PREFIX = 'sha256:';

/**
 * Hash a client secret for storage in a {@link ClientStore}. Client secrets are generated
 * by the server and high-entropy, so one SHA-256 is enough (unlike passwords).
 *
 * @example
 * ```ts
 * const client = { id: 'web-app', secretHash: hashClientSecret('web-secret'), grants: [...], scopes: [...] };
 * ```
 */
export function hashClientSecret(secret: string): string {
  return (
    CLIENT_SECRET_PREFIX +
    (oneShotHash
      ? oneShotHash('sha256', secret, 'base64url')
      : createHash('sha256').update(secret, 'utf8').digest('base64url'))
  );
}

// Compared against when the client is unknown or public, so an unknown client costs the
// same work as a known one with a wrong secret.
const DUMMY_SECRET_HASH = hashClientSecret(randomToken());

/**
 * Whether `secret` matches `secretHash` (from {@link hashClientSecret}), in constant time.
 * With no hash (unknown client) it still does the same work and answers `false`.
 */
export function verifyClientSecret(secret: string, secretHash: string | undefined): boolean {
  const expected =
    secretHash !== undefined && secretHash.startsWith(CLIENT_SECRET_PREFIX) ? secretHash : DUMMY_SECRET_HASH;
  const actual = hashClientSecret(secret);
  const equal = actual.length === expected.length && timingSafeEqual(Buffer.from(actual), Buffer.from(expected));
  return equal && expected !== DUMMY_SECRET_HASH;
}

/** Constant-time equality of two strings (lengths may leak, contents do not). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Hash a user password with scrypt (on libuv's thread pool, so the event loop stays free).
 * The result carries its parameters: `scrypt$N$r$p$salt$hash`.
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLength);
  const key = await scryptAsync(password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

// scrypt$N$r$p$salt$key with N a power of two up to 2^20 and bounded r, p: a hash that does not
// parse is a wrong password, never an exception and never an empty key that matches anything.
const PASSWORD_HASH = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{43,})$/;

/**
 * Whether `password` matches `passwordHash` (from {@link hashPassword}), compared in constant
 * time. A malformed hash answers `false`.
 */
export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  const match = PASSWORD_HASH.exec(passwordHash);
  if (!match) return false;
  const [, n, r, p, salt, hash] = match as unknown as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || R < 1 || R > 32 || P < 1 || P > 16) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length < 32) return false;
  try {
    const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
      N,
      r: R,
      p: P,
      maxmem: 256 * N * R + 1024 * 1024,
    });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}
