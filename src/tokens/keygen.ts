/**
 * Production keys without ceremony: `generateKeys()` makes a signing key as a private JWK Set
 * (the format `npx tokengate keygen` prints), and `loadKeys()` turns such a set back into
 * `options.keys`. A JWK Set keeps `kid` and `alg` with the key material, so one environment
 * variable or file carries the whole key configuration, rotation included.
 * @packageDocumentation
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyInput, SigningAlgorithm } from './keys';
import { resolveKey } from './keys';

/** A JWK as it appears in a key set: the key members plus `kid`, `alg` and `use`. */
export type SigningJwk = JsonWebKey & { kid: string; alg: SigningAlgorithm; use?: string };

/** A JWK Set (RFC 7517 §5). */
export interface SigningJwkSet {
  keys: SigningJwk[];
}

/** What {@link generateKeys} returns. */
export interface GeneratedKeys {
  /** The private key set: keep it secret (a secrets manager, an env var, a 0600 file). */
  privateJwks: SigningJwkSet;
  /** The public key set: what the server's JWKS endpoint will publish (empty for HS256). */
  publicJwks: SigningJwkSet;
  /** The same key as `options.keys` input. */
  keys: KeyInput[];
}

/** Options of {@link generateKeys}. */
export interface GenerateKeysOptions {
  /** Signature algorithm. Default `ES256`. */
  alg?: SigningAlgorithm;
  /** Key id. Default: a date-stamped id such as `2026-12-01-3f9a`, so rotations sort and stay unique. */
  kid?: string;
}

const ALGS: readonly SigningAlgorithm[] = ['ES256', 'ES384', 'RS256', 'PS256', 'HS256'];

function generatePrivate(alg: SigningAlgorithm): KeyObject {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    default:
      // RS256 and PS256 both use a plain RSA key; 2048 bits is the floor resolveKey enforces.
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }
}

function defaultKid(): string {
  return `${new Date().toISOString().slice(0, 10)}-${randomBytes(2).toString('hex')}`;
}

/**
 * Generate a signing key as a JWK Set.
 *
 * @example
 * ```ts
 * const { privateJwks } = generateKeys({ alg: 'ES256' });
 * fs.writeFileSync('keys.json', JSON.stringify(privateJwks), { mode: 0o600 });
 * ```
 */
export function generateKeys(options: GenerateKeysOptions = {}): GeneratedKeys {
  const alg = options.alg ?? 'ES256';
  if (!ALGS.includes(alg))
    throw new TypeError(`generateKeys: alg must be one of ${ALGS.join(', ')} (got ${String(alg)}).`);
  const kid = options.kid ?? defaultKid();
  if (typeof kid !== 'string' || kid.length === 0) throw new TypeError('generateKeys: kid must be a non-empty string.');
  if (alg === 'HS256') {
    const jwk: SigningJwk = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid, alg, use: 'sig' };
    return { privateJwks: { keys: [jwk] }, publicJwks: { keys: [] }, keys: jwkToKeyInputs({ keys: [jwk] }) };
  }
  const privateKey = generatePrivate(alg);
  const privateJwk: SigningJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  const resolved = resolveKey({ kid, alg, privateKey }, 0);
  const publicJwk = resolved.publicJwk as SigningJwk;
  return {
    privateJwks: { keys: [privateJwk] },
    publicJwks: { keys: [{ ...publicJwk }] },
    keys: jwkToKeyInputs({ keys: [privateJwk] }),
  };
}

function jwkToKeyInputs(set: SigningJwkSet): KeyInput[] {
  return set.keys.map((jwk, index): KeyInput => {
    const where = `loadKeys: keys[${index}]`;
    if (!jwk || typeof jwk !== 'object') throw new TypeError(`${where} is not a JWK object.`);
    if (!ALGS.includes(jwk.alg))
      throw new TypeError(`${where} needs "alg", one of ${ALGS.join(', ')} (got ${String(jwk.alg)}).`);
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) throw new TypeError(`${where} needs a "kid".`);
    if (jwk.kty === 'oct') {
      if (jwk.alg !== 'HS256' || typeof jwk.k !== 'string')
        throw new TypeError(`${where}: an "oct" key must be HS256 with "k".`);
      return { kid: jwk.kid, alg: 'HS256', secret: Buffer.from(jwk.k, 'base64url') };
    }
    const alg = jwk.alg;
    if (alg === 'HS256') throw new TypeError(`${where}: an HS256 key must be "oct" with "k".`);
    const { kid, alg: _alg, use: _use, key_ops: _ops, ...material } = jwk as SigningJwk & { key_ops?: unknown };
    // A private JWK has "d": it signs. A public one only verifies (a retired or incoming key).
    if (typeof material.d === 'string')
      return { kid, alg, privateKey: createPrivateKey({ key: material, format: 'jwk' }) };
    return { kid, alg, publicKey: material, verifyOnly: true };
  });
}

/**
 * Load signing keys from a JWK Set: an object, its JSON text (e.g. an environment variable), or
 * the path of a file holding it. The first key that can sign signs; the others verify, which is
 * how a rotation keeps tokens signed by the previous key valid until they expire.
 *
 * @example
 * ```ts
 * oauthServer(stores, { issuer, keys: loadKeys(process.env.TOKENGATE_KEYS ?? './keys.json') });
 * ```
 */
export function loadKeys(source: string | SigningJwkSet): KeyInput[] {
  let set: unknown = source;
  if (typeof source === 'string') {
    const text = source.trimStart().startsWith('{') ? source : readFileSync(source, 'utf8');
    try {
      set = JSON.parse(text);
    } catch {
      // Never echo the text: it is key material.
      throw new TypeError('loadKeys: not a JSON JWK Set ({"keys": [...]}); generate one with `npx tokengate keygen`.');
    }
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new TypeError('loadKeys: expected a JWK Set with at least one key: {"keys": [...]}.');
  return jwkToKeyInputs(set as SigningJwkSet);
}
