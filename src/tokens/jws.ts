/**
 * Compact JWS (RFC 7515 §7.1) verification for the `requireToken` miss path: the token is
 * split once, its header and payload parsed once, and the signature checked by one
 * `node:crypto` call with the algorithm pinned by the caller (never taken from the header).
 *
 * Why not `jsonwebtoken.verify` here: measured in-process on the bench machine, it costs
 * ~40 µs more per ES256 token than the signature itself (~95 µs): it decodes the token a
 * second time, converts the JOSE signature to DER and re-validates the key on every call.
 * That overhead alone put the cache miss at 0.83× its floor (a bare server doing one raw
 * ES256 verify); see docs/performance.md. Signing stays with `jsonwebtoken`.
 * @packageDocumentation
 */
import { constants, createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from './keys';

/** The three parts of a compact JWS, located by their two dots. */
export interface CompactJws {
  /** The token itself. */
  readonly token: string;
  /** Index of the first dot (end of the protected header). */
  readonly dot1: number;
  /** Index of the second dot (end of the payload; the signing input is `token.slice(0, dot2)`). */
  readonly dot2: number;
}

// Each part is unpadded base64url (RFC 7515 §2, §7.1); Node's decoder would silently skip any
// other character, so a token with them is refused here instead of being read leniently.
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Locate the parts of a compact JWS; `undefined` when the token is not one. */
export function splitCompact(token: string): CompactJws | undefined {
  if (!COMPACT.test(token)) return undefined;
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

/** The protected header, or `undefined` when it is not a JSON object. */
export function jwsHeader(jws: CompactJws): Record<string, unknown> | undefined {
  return parseObject(jws.token.slice(0, jws.dot1));
}

/** The payload as a JSON object (a JWT claims set), or `undefined`. Only after {@link verifyJwsSignature}. */
export function jwsPayload(jws: CompactJws): Record<string, unknown> | undefined {
  return parseObject(jws.token.slice(jws.dot1 + 1, jws.dot2));
}

const HASH: Record<SigningAlgorithm, string> = {
  ES256: 'sha256',
  ES384: 'sha384',
  RS256: 'sha256',
  PS256: 'sha256',
  HS256: 'sha256',
};
// ECDSA signatures in JWS are r || s, each the curve's size (RFC 7518 §3.4).
const EC_SIGNATURE_BYTES: Partial<Record<SigningAlgorithm, number>> = { ES256: 64, ES384: 96 };

/**
 * Whether the signature of `jws` is valid for `alg` under `key`. `alg` is the algorithm the
 * key is configured for (the caller has checked the header names the same): the header never
 * chooses it, so `none` and HS/RS confusion cannot get through (RFC 8725 §2.1, §3.1).
 */
export function verifyJwsSignature(jws: CompactJws, alg: SigningAlgorithm, key: KeyObject): boolean {
  const signature = Buffer.from(jws.token.slice(jws.dot2 + 1), 'base64url');
  const input = jws.token.slice(0, jws.dot2);
  switch (alg) {
    case 'HS256': {
      if (key.type !== 'secret' || signature.length !== 32) return false;
      return timingSafeEqual(createHmac('sha256', key).update(input).digest(), signature);
    }
    case 'ES256':
    case 'ES384':
      if (key.type !== 'public' || signature.length !== EC_SIGNATURE_BYTES[alg]) return false;
      return cryptoVerify(HASH[alg], Buffer.from(input, 'latin1'), { key, dsaEncoding: 'ieee-p1363' }, signature);
    case 'RS256':
      if (key.type !== 'public') return false;
      return cryptoVerify('sha256', Buffer.from(input, 'latin1'), key, signature);
    case 'PS256':
      if (key.type !== 'public') return false;
      // RFC 7518 §3.5: the salt is as long as the hash.
      return cryptoVerify(
        'sha256',
        Buffer.from(input, 'latin1'),
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    default:
      return false;
  }
}
