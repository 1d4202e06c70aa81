/**
 * Verifying JWT access tokens (RFC 9068) in a resource server that does not hold the
 * issuer's keys: the key comes from a {@link KeySource} (the issuer's JWKS, or a shared HS256
 * secret), the algorithm is pinned, and `iss`, `aud`, `exp` and `typ` are checked.
 * @packageDocumentation
 */
import { createSecretKey, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { TokenValidator } from '../bearer/auth-info';
import { validated } from '../bearer/local-validator';
import { InvalidToken } from '../core/errors';
import { isAccessTokenClaims, refuseCriticalExtensions } from '../tokens/jwt';

/** The key that verifies a token with this `kid` and `alg`; throws `InvalidToken` when there is none. */
export type KeySource = (kid: string | undefined, alg: string) => Promise<KeyObject | string>;

/** What {@link jwtValidator} checks. */
export interface JwtValidatorConfig {
  issuer: string;
  audience: readonly string[];
  clockTolerance: number;
  /** Algorithms accepted at all; the key source may narrow further per key. */
  algorithms: readonly string[];
  keys: KeySource;
}

/** A validator for JWT access tokens of a remote issuer. */
export function jwtValidator(config: JwtValidatorConfig): TokenValidator {
  const audience = [...config.audience] as [string, ...string[]];
  const { issuer, clockTolerance, algorithms, keys } = config;
  return async function validateJwt(token) {
    const decoded = jwt.decode(token, { complete: true });
    if (decoded === null || typeof decoded.payload === 'string')
      throw new InvalidToken('The access token is malformed.');
    refuseCriticalExtensions(decoded.header as { crit?: unknown });
    const { alg, kid, typ } = decoded.header;
    // The header's alg is only a claim: it must be one we accept (never `none`, never HS for a
    // JWKS) and then verification is pinned to it, so a key cannot be used with another alg.
    if (!algorithms.includes(alg)) throw new InvalidToken('The access token was not signed by the issuer.');
    if (typeof typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(typ)) {
      throw new InvalidToken('The token is not an access token (RFC 9068 typ at+jwt).');
    }
    const key = await keys(kid, alg);
    let claims: unknown;
    try {
      claims = jwt.verify(token, key, {
        algorithms: [alg as jwt.Algorithm],
        issuer,
        audience,
        clockTolerance,
        complete: false,
      });
    } catch (err) {
      throw new InvalidToken(
        err instanceof jwt.TokenExpiredError ? 'The access token has expired.' : 'The access token is invalid.',
      );
    }
    if (!isAccessTokenClaims(claims)) throw new InvalidToken('The access token lacks required claims.');
    return validated(claims.sub, claims.client_id, claims.scope, claims.exp, claims, [claims.jti]);
  };
}

/** A key source for tokens signed with a shared HS256 secret (no network). */
export function secretKeySource(secret: string | Buffer | KeyObject): KeySource {
  const key = secret instanceof KeyObject ? secret : createSecretKey(Buffer.from(secret));
  return async () => key;
}
