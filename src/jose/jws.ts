/**
 * Compact JWS (RFC 7515 §7.1), the one implementation for every signature tokengate checks:
 * its own access tokens on the `requireToken` miss path, DPoP proofs (RFC 9449) and client
 * assertions (RFC 7523). The token is split once by its two dots, header and payload are
 * parsed only when asked for, and the signature is checked by one `node:crypto` call under an
 * algorithm the caller pinned (never the header's own choice) and only with a key of the type
 * that algorithm needs, so `none` and algorithm confusion (HS with a public key, RS with an EC
 * key) cannot pass (RFC 8725 §2.1, §3.1). Nothing here throws for a malformed input.
 *
 * Why not `jsonwebtoken.verify` on the miss path: measured in-process on the bench machine, it
 * costs ~40 µs more per ES256 token than the signature itself (~95 µs): it decodes the token a
 * second time, converts the JOSE signature to DER and re-validates the key on every call. That
 * overhead alone put the cache miss at 0.83× its floor (a bare server doing one raw ES256
 * verify); see docs/performance.md. Signing stays with `jsonwebtoken`.
 * @packageDocumentation
 */
import {
  constants,
  createHmac,
  createPublicKey,
  timingSafeEqual,
  verify as cryptoVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

/** Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037 §3.1) accepted for client-held keys. */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const;

/** An asymmetric JWS algorithm: ES256/384/512, RS256/384/512, PS256/384/512 or EdDSA. */
export type AsymmetricJwsAlgorithm = (typeof ASYMMETRIC_JWS_ALGORITHMS)[number];

/** HMAC JWS algorithms (RFC 7518 §3.2): HS256 access tokens, `client_secret_jwt`. */
export const HMAC_JWS_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
/** One of {@link HMAC_JWS_ALGORITHMS}. */
export type HmacJwsAlgorithm = (typeof HMAC_JWS_ALGORITHMS)[number];

/** Every JWS algorithm this module verifies (never `none`). */
export type JwsAlgorithm = AsymmetricJwsAlgorithm | HmacJwsAlgorithm;

/** The three parts of a compact JWS, located by their two dots; nothing is verified yet. */
export interface CompactJws {
  /** The token itself. */
  readonly token: string;
  /** Index of the first dot (end of the protected header). */
  readonly dot1: number;
  /** Index of the second dot (end of the payload; the signing input is `token.slice(0, dot2)`). */
  readonly dot2: number;
}

/** A compact JWS with its header and payload parsed; the signature is not verified yet. */
export interface DecodedJws extends CompactJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

// Each part is unpadded base64url (RFC 7515 §2, §7.1); Node's decoder would silently skip any
// other character, so a token with them is refused here instead of being read leniently.
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Locate the parts of a compact JWS; `undefined` when the token is not one or is longer than `maxLength`. */
export function splitCompact(token: string, maxLength = Infinity): CompactJws | undefined {
  if (token.length > maxLength || !COMPACT.test(token)) return undefined;
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  return { token, dot1, dot2 };
}

/** JSON of a base64url part as an object (not an array, not a primitive); `undefined` otherwise. */
function parseObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The encoded protected header, as sent (a cache key for what the header alone decides). */
export function encodedHeader(jws: CompactJws): string {
  return jws.token.slice(0, jws.dot1);
}

/** The protected header, or `undefined` when it is not a JSON object. */
export function jwsHeader(jws: CompactJws): Record<string, unknown> | undefined {
  return parseObject(encodedHeader(jws));
}

/** The payload as a JSON object (a JWT claims set), or `undefined`. Trust it only after {@link verifyJwsSignature}. */
export function jwsPayload(jws: CompactJws): Record<string, unknown> | undefined {
  return parseObject(jws.token.slice(jws.dot1 + 1, jws.dot2));
}

/**
 * Split a compact JWS and parse its header and payload (JSON objects both), or `undefined`
 * when it is not one, has an empty signature (an unsecured JWS, RFC 7515 §A.5) or is longer
 * than `maxLength`. For proofs and assertions, whose claims are all read anyway.
 */
export function decodeJws(token: string, maxLength: number): DecodedJws | undefined {
  const jws = splitCompact(token, maxLength);
  if (jws === undefined || jws.dot2 === token.length - 1) return undefined;
  const header = jwsHeader(jws);
  const payload = header && jwsPayload(jws);
  return header === undefined || payload === undefined ? undefined : { ...jws, header, payload };
}

const HASH: Record<JwsAlgorithm, string | null> = {
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  EdDSA: null,
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
};
const CURVE: Partial<Record<JwsAlgorithm, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};
// ECDSA signatures in JWS are r || s, each the curve's size (RFC 7518 §3.4).
const EC_SIGNATURE_BYTES: Partial<Record<JwsAlgorithm, number>> = { ES256: 64, ES384: 96, ES512: 132 };

/** Whether `alg` is one of {@link ASYMMETRIC_JWS_ALGORITHMS}. */
export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricJwsAlgorithm {
  return typeof alg === 'string' && (ASYMMETRIC_JWS_ALGORITHMS as readonly string[]).includes(alg);
}

/** Whether `alg` is one of {@link HMAC_JWS_ALGORITHMS}. */
export function isHmacAlgorithm(alg: unknown): alg is HmacJwsAlgorithm {
  return typeof alg === 'string' && (HMAC_JWS_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * Whether a key is of the type `alg` needs (RFC 7518 §3): a secret key for HS, a public key on
 * the right EC curve for ES, a public RSA key of at least 2048 bits for RS and PS, a public
 * Ed25519/Ed448 key for EdDSA.
 */
export function keyFitsAlgorithm(alg: JwsAlgorithm, key: KeyObject): boolean {
  if (alg.startsWith('HS')) return key.type === 'secret';
  if (key.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg];
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  if (type !== 'rsa' && !(alg.startsWith('PS') && type === 'rsa-pss')) return false;
  return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
}

/**
 * Whether the signature of `jws` is valid for `alg` under `key`; false (never a throw) for
 * any mismatch. `alg` is the caller's choice (the algorithm a key is configured or registered
 * for, or one from an accepted list that the header names): the header never chooses it.
 */
export function verifyJwsSignature(jws: CompactJws, alg: JwsAlgorithm, key: KeyObject): boolean {
  const hash = HASH[alg];
  if (hash === undefined || !keyFitsAlgorithm(alg, key)) return false;
  const signature = Buffer.from(jws.token.slice(jws.dot2 + 1), 'base64url');
  // The signing input is base64url text, so latin1 gives the same bytes as utf8, faster.
  const input = Buffer.from(jws.token.slice(0, jws.dot2), 'latin1');
  try {
    if (hash !== null && alg.startsWith('HS')) {
      const expected = createHmac(hash, key).update(input).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    if (alg.startsWith('ES')) {
      if (signature.length !== EC_SIGNATURE_BYTES[alg]) return false;
      return cryptoVerify(hash, input, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (alg.startsWith('PS')) {
      // RFC 7518 §3.5: the salt is as long as the hash.
      const options = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
      return cryptoVerify(hash, input, options, signature);
    }
    return cryptoVerify(hash, input, key, signature);
  } catch {
    return false;
  }
}

// Members that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Import a public JWK (EC, RSA or OKP), or `undefined` when it is not one: a JWK with private
 * or symmetric key material is refused (RFC 9449 §4.3 point 7), as is anything Node cannot
 * import.
 */
export function importPublicJwk(jwk: unknown): KeyObject | undefined {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) return undefined;
  const members = jwk as Record<string, unknown>;
  if (members.kty !== 'EC' && members.kty !== 'RSA' && members.kty !== 'OKP') return undefined;
  for (const name of PRIVATE_MEMBERS) if (name in members) return undefined;
  try {
    const key = createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}
