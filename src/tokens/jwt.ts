/**
 * JWT access tokens (RFC 9068): signing with the first signing key, verifying with the key
 * the header names, the algorithm pinned to that key.
 * @packageDocumentation
 */
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidToken } from '../core/errors';
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
  if (header.crit !== undefined) throw new InvalidToken('The token has a critical header parameter this server does not understand (RFC 7515 §4.1.11).');
}

function decodeHeader(token: string): { alg?: unknown; kid?: unknown; typ?: unknown; crit?: unknown } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return header && typeof header === 'object' ? header : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies access tokens against a key set. The algorithm is the one configured for the key
 * the header's `kid` names, never the header's own choice, so `alg: none` and HS/RS
 * confusion cannot get through.
 */
export class JwtVerifier {
  private readonly keys: Map<string, { key: ResolvedKey; options: jwt.VerifyOptions & { complete: false } }>;
  private readonly issuer: string;
  private readonly audience: string | undefined;

  constructor(keys: readonly ResolvedKey[], options: JwtVerifyOptions) {
    const audience = typeof options.audience === 'string' ? options.audience : ([...options.audience] as [string, ...string[]]);
    this.issuer = options.issuer;
    this.audience = typeof audience === 'string' ? audience : undefined;
    this.keys = new Map(
      keys.map((key) => [
        key.kid,
        {
          key,
          options: { algorithms: [key.alg], issuer: options.issuer, audience, clockTolerance: options.clockTolerance, complete: false },
        },
      ]),
    );
  }

  /** The verified claims, or throws {@link InvalidToken}. */
  verify(token: string): AccessTokenClaims {
    const header = decodeHeader(token);
    if (!header) throw new InvalidToken('The access token is malformed.');
    refuseCriticalExtensions(header);
    const entry = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (!entry || header.alg !== entry.key.alg) throw new InvalidToken('The access token was not signed by this server.');
    if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) {
      throw new InvalidToken('The token is not an access token (RFC 9068 typ at+jwt).');
    }
    let claims: unknown;
    try {
      claims = jwt.verify(token, entry.key.verifyKey, entry.options);
    } catch (err) {
      throw new InvalidToken(err instanceof jwt.TokenExpiredError ? 'The access token has expired.' : 'The access token is invalid.');
    }
    if (!isAccessTokenClaims(claims)) throw new InvalidToken('The access token lacks required claims.');
    // `iss` and `aud` were just checked equal to ours: share our strings instead of keeping a
    // copy of each in every cached token (~60 bytes per entry of the requireToken cache).
    if (claims.iss === this.issuer) claims.iss = this.issuer;
    if (this.audience !== undefined && claims.aud === this.audience) claims.aud = this.audience;
    return claims;
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
