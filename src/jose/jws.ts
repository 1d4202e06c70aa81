/**
 * Compact JWS (RFC 7515 §7.1) for proofs and assertions that clients sign with their own keys:
 * DPoP proofs (RFC 9449) and client assertions (RFC 7523). Decoding is bounded and never
 * throws; verification is pinned to an algorithm the caller chose and to a key of the type
 * that algorithm needs, so `none` and algorithm confusion (HS with a public key) cannot pass.
 * @packageDocumentation
 */
import {
  createPublicKey,
  timingSafeEqual,
  createHmac,
  verify as verifySignatureRaw,
  constants,
  type KeyObject,
  type JsonWebKey,
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

/** A compact JWS split into its parts; nothing is verified yet. */
export interface DecodedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** `BASE64URL(header) || '.' || BASE64URL(payload)`, what the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
  /** The encoded header, as sent (a cache key for what the header alone decides). */
  readonly encodedHeader: string;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function jsonObject(segment: string): Record<string, unknown> | undefined {
  if (segment === '' || !B64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Split a compact JWS (three base64url parts, JSON objects for header and payload), or
 * `undefined` when it is not one or is longer than `maxLength`.
 */
export function decodeJws(token: string, maxLength: number): DecodedJws | undefined {
  if (token.length > maxLength) return undefined;
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const encodedHeader = token.slice(0, first);
  const header = jsonObject(encodedHeader);
  const payload = header && jsonObject(token.slice(first + 1, second));
  const encodedSignature = token.slice(second + 1);
  if (!header || !payload || encodedSignature === '' || !B64URL.test(encodedSignature)) return undefined;
  return {
    header,
    payload,
    signingInput: token.slice(0, second),
    signature: Buffer.from(encodedSignature, 'base64url'),
    encodedHeader,
  };
}

const HASH: Record<AsymmetricJwsAlgorithm, string | null> = {
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
};
const CURVE: Partial<Record<AsymmetricJwsAlgorithm, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** Whether `alg` is one of {@link ASYMMETRIC_JWS_ALGORITHMS}. */
export function isAsymmetricAlgorithm(alg: unknown): alg is AsymmetricJwsAlgorithm {
  return typeof alg === 'string' && Object.prototype.hasOwnProperty.call(HASH, alg);
}

/**
 * Whether a public key is of the type `alg` needs (RFC 7518 §3.1): the right EC curve, an RSA
 * key of at least 2048 bits, an Ed25519/Ed448 key for EdDSA.
 */
export function keyFitsAlgorithm(alg: AsymmetricJwsAlgorithm, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg];
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  if (type !== 'rsa' && !(alg.startsWith('PS') && type === 'rsa-pss')) return false;
  return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
}

/** Verify the signature with `key` under `alg`; false (never a throw) for any mismatch. */
export function verifyJws(alg: AsymmetricJwsAlgorithm, key: KeyObject, jws: DecodedJws): boolean {
  if (!keyFitsAlgorithm(alg, key)) return false;
  const data = Buffer.from(jws.signingInput);
  try {
    if (alg.startsWith('ES'))
      return verifySignatureRaw(HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
    if (alg.startsWith('PS')) {
      const saltLength = Number(alg.slice(2)) / 8;
      return verifySignatureRaw(
        HASH[alg],
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
        jws.signature,
      );
    }
    return verifySignatureRaw(HASH[alg], data, key, jws.signature);
  } catch {
    return false;
  }
}

/** HMAC JWS algorithms (RFC 7518 §3.2) accepted for `client_secret_jwt`. */
export const HMAC_JWS_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
/** One of {@link HMAC_JWS_ALGORITHMS}. */
export type HmacJwsAlgorithm = (typeof HMAC_JWS_ALGORITHMS)[number];

/** Verify an HMAC JWS with a shared secret, in constant time. */
export function verifyHmacJws(alg: HmacJwsAlgorithm, secret: string, jws: DecodedJws): boolean {
  const expected = createHmac(`sha${alg.slice(2)}`, secret)
    .update(jws.signingInput)
    .digest();
  return expected.length === jws.signature.length && timingSafeEqual(expected, jws.signature);
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
