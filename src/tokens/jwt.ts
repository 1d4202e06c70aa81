/**
 * JWT access tokens (RFC 9068): signing with the first signing key, verifying with the key
 * the header names, the algorithm pinned to that key.
 * @packageDocumentation
 */
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { nowSeconds } from '../core/clock';
import { InvalidToken } from '../core/errors';
import { encodedHeader, jwsHeader, jwsPayload, splitCompact, verifyJwsSignature, type CompactJws } from '../jose/jws';
import type { ResolvedKey } from './keys';

/** The claims of an access token (RFC 9068 §2.2), plus `fid`, the family id used for revocation. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  /** Family id: revoking the grant this token descends from revokes the token. */
  fid?: string;
  [claim: string]: unknown;
}

/**
 * Signs access tokens with one key, through `jsonwebtoken` (the design's JWT library) with the
 * key imported once as a `KeyObject` and the options built once: a PEM or string secret would
 * be re-imported on every call, which costs more than the signature. Signing by hand with
 * `node:crypto` measured about 6 µs faster per ES256 token here (≈3% of a token request);
 * not worth owning a JWS implementation for.
 */
export class JwtSigner {
  private readonly signKey: KeyObject;
  private readonly options: jwt.SignOptions;

  constructor(key: ResolvedKey) {
    if (!key.signKey) throw new Error('JwtSigner: the key cannot sign.');
    this.signKey = key.signKey;
    // `typ` per RFC 9068 §2.1, `kid` so verifiers pick the key without trying all.
    this.options = { algorithm: key.alg, keyid: key.kid, header: { alg: key.alg, typ: 'at+jwt' } };
  }

  /** The signed JWT for these claims. */
  sign(claims: AccessTokenClaims): string {
    return jwt.sign(claims, this.signKey, this.options);
  }
}

/** What {@link JwtVerifier} checks besides the signature. */
export interface JwtVerifyOptions {
  issuer: string;
  audience: string | readonly string[];
  /** Seconds of clock skew tolerated on `exp`/`iat`. */
  clockTolerance: number;
}

/**
 * RFC 7515 §4.1.11: a JWS whose `crit` header lists extensions the recipient does not
 * understand MUST be rejected. tokengate understands no JWS extension, so any `crit` member
 * (well-formed or not) makes the token invalid. Every JWT verifier calls this before trusting
 * the signature.
 */
export function refuseCriticalExtensions(header: { crit?: unknown }): void {
  if (header.crit !== undefined)
    throw new InvalidToken(
      'The token has a critical header parameter this server does not understand (RFC 7515 §4.1.11).',
    );
}

const AT_JWT = /^(application\/)?at\+jwt$/i;
// Distinct accepted headers remembered (a few per key: our own tokens have one per key).
const MAX_CHECKED_HEADERS = 32;

/**
 * Verifies access tokens against a key set. The algorithm is the one configured for the key
 * the header's `kid` names, never the header's own choice, so `alg: none` and HS/RS
 * confusion cannot get through. The token is decoded once and its signature checked by one
 * `node:crypto` call ({@link verifyJwsSignature}); the claims checks are those
 * `jsonwebtoken.verify` made with the same options (`iss`, `aud`, `exp`, `nbf` with the clock
 * tolerance).
 */
export class JwtVerifier {
  private readonly keys: Map<string, ResolvedKey>;
  private readonly issuer: string;
  private readonly audiences: readonly string[];
  private readonly audience: string | undefined;
  private readonly clockTolerance: number;
  // Header segments already checked, with the key they name. Every token signed with one key
  // has the same header, so this skips decoding and parsing it on each miss; only accepted
  // headers are kept, and at most a few, so a flood of odd headers cannot grow it.
  private readonly checkedHeaders = new Map<string, ResolvedKey>();

  constructor(keys: readonly ResolvedKey[], options: JwtVerifyOptions) {
    this.issuer = options.issuer;
    this.audiences = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
    this.audience = typeof options.audience === 'string' ? options.audience : undefined;
    this.clockTolerance = options.clockTolerance;
    this.keys = new Map(keys.map((key) => [key.kid, key]));
  }

  /**
   * The verified claims, or throws {@link InvalidToken}. `anyAudience`: accept a token of this
   * server whatever its `aud` (introspection, revocation and token exchange answer for every
   * token the server issued, e.g. one exchanged for another API, RFC 8693); a guard never sets it.
   */
  verify(token: string, anyAudience = false): AccessTokenClaims {
    const jws = splitCompact(token);
    if (!jws) throw new InvalidToken('The access token is malformed.');
    const key = this.keyFor(jws);
    if (!verifyJwsSignature(jws, key.alg, key.verifyKey)) throw new InvalidToken('The access token is invalid.');
    const claims = jwsPayload(jws);
    if (!claims) throw new InvalidToken('The access token is invalid.');
    this.checkTimes(claims);
    if (claims.iss !== this.issuer || !(anyAudience || this.audienceMatches(claims.aud)))
      throw new InvalidToken('The access token is invalid.');
    if (!isAccessTokenClaims(claims)) throw new InvalidToken('The access token lacks required claims.');
    // `iss` and `aud` were just checked equal to ours: share our strings instead of keeping a
    // copy of each in every cached token (~60 bytes per entry of the requireToken cache).
    claims.iss = this.issuer;
    if (this.audience !== undefined && claims.aud === this.audience) claims.aud = this.audience;
    return claims;
  }

  // The key the protected header names, after checking the header (alg pinned to the key,
  // typ, crit); throws InvalidToken for a header we do not accept.
  private keyFor(jws: CompactJws): ResolvedKey {
    const segment = encodedHeader(jws);
    const known = this.checkedHeaders.get(segment);
    if (known) return known;
    const header = jwsHeader(jws);
    if (!header) throw new InvalidToken('The access token is malformed.');
    const key = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (!key || header.alg !== key.alg) throw new InvalidToken('The access token was not signed by this server.');
    if (typeof header.typ !== 'string' || !AT_JWT.test(header.typ)) {
      throw new InvalidToken('The token is not an access token (RFC 9068 typ at+jwt).');
    }
    refuseCriticalExtensions(header);
    if (this.checkedHeaders.size < MAX_CHECKED_HEADERS) this.checkedHeaders.set(segment, key);
    return key;
  }

  // RFC 7519 §4.1.4/§4.1.5, with the configured leeway (as jsonwebtoken's clockTolerance).
  private checkTimes(claims: Record<string, unknown>): void {
    const now = nowSeconds();
    const { nbf, exp } = claims;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + this.clockTolerance))
      throw new InvalidToken('The access token is invalid.');
    if (exp !== undefined) {
      if (typeof exp !== 'number') throw new InvalidToken('The access token is invalid.');
      if (now >= exp + this.clockTolerance) throw new InvalidToken('The access token has expired.');
    }
  }

  // RFC 7519 §4.1.3: `aud` is a string or an array of strings; one of them must be ours.
  private audienceMatches(aud: unknown): boolean {
    if (typeof aud === 'string') return this.audiences.includes(aud);
    return Array.isArray(aud) && aud.some((a) => typeof a === 'string' && this.audiences.includes(a));
  }
}

/** Whether verified JWT claims have what an access token needs (RFC 9068 §2.2) in the right types. */
export function isAccessTokenClaims(value: unknown): value is AccessTokenClaims {
  if (!value || typeof value !== 'object') return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.sub === 'string' &&
    typeof c.client_id === 'string' &&
    typeof c.scope === 'string' &&
    typeof c.jti === 'string' &&
    typeof c.exp === 'number' &&
    typeof c.iat === 'number' &&
    (c.fid === undefined || typeof c.fid === 'string')
  );
}

/** Whether a presented token has the shape of a JWS compact serialisation (three parts). */
export function isJwt(token: string): boolean {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}
