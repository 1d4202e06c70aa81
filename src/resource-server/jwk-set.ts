/**
 * Reading an issuer's JWK Set (RFC 7517 §5) into public keys with `node:crypto`: no JWT
 * library of its own, only the keys a resource server may verify access tokens with.
 * @packageDocumentation
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** One verification key of the set. */
export interface PublishedKey {
  kid: string | undefined;
  /** The `alg` the issuer pinned the key to (RFC 7517 §4.4), if any. */
  alg: string | undefined;
  key: KeyObject;
}

/** Most keys kept from one set: an issuer publishes a handful; the rest is ignored. */
export const MAX_KEYS = 64;

/** A JWK Set parsed into its usable signing keys. */
export interface KeySet {
  /** The keys with a `kid`, by `kid` (several keys may share one, e.g. per `alg`). */
  byKid: ReadonlyMap<string, readonly PublishedKey[]>;
  /** Every usable key, in the set's order (a token without `kid` may use the only one). */
  all: readonly PublishedKey[];
}

// Only asymmetric signature keys: never `oct` (a published symmetric key would let anyone
// sign), never a key marked for encryption (RFC 7517 §4.2).
function usable(jwk: Record<string, unknown>): boolean {
  if (jwk.kty !== 'EC' && jwk.kty !== 'RSA') return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return false;
  return jwk.kid === undefined || typeof jwk.kid === 'string';
}

function publicKeyOf(jwk: Record<string, unknown>): KeyObject | undefined {
  // Only the public members: a JWK with private members (a misconfigured issuer) still yields
  // its public half, and nothing private is ever kept.
  const members =
    jwk.kty === 'EC' ? { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: 'RSA', n: jwk.n, e: jwk.e };
  try {
    return createPublicKey({ key: members as never, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * The usable signing keys of a JWK Set document; throws when the document is not a JWK Set or
 * holds no usable key (so the previous keys are kept rather than replaced by nothing).
 */
export function parseKeySet(document: unknown, source: string): KeySet {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${source} is not a JWK Set (no "keys" array).`);
  const all: PublishedKey[] = [];
  const byKid = new Map<string, PublishedKey[]>();
  for (const jwk of keys as unknown[]) {
    if (all.length === MAX_KEYS) break;
    if (jwk === null || typeof jwk !== 'object' || !usable(jwk as Record<string, unknown>)) continue;
    const members = jwk as Record<string, unknown>;
    const key = publicKeyOf(members);
    if (key === undefined) continue;
    const kid = typeof members.kid === 'string' ? members.kid : undefined;
    const entry: PublishedKey = { kid, alg: typeof members.alg === 'string' ? members.alg : undefined, key };
    all.push(entry);
    if (entry.kid !== undefined) byKid.set(entry.kid, [...(byKid.get(entry.kid) ?? []), entry]);
  }
  if (all.length === 0) throw new Error(`${source} publishes no usable signing key (EC or RSA, use "sig").`);
  return { byKid, all };
}

/**
 * The key of `set` for a token with this `kid` and `alg`: a key with that `kid` pinned to that
 * `alg` or to none; without a `kid`, the set's only key. `undefined` when there is none.
 */
export function findKey(set: KeySet, kid: string | undefined, alg: string): PublishedKey | undefined {
  const candidates = kid === undefined ? (set.all.length === 1 ? set.all : []) : (set.byKid.get(kid) ?? []);
  return candidates.find((k) => k.alg === undefined || k.alg === alg);
}
