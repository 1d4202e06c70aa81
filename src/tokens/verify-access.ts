/**
 * One check for a JWT access token this server issued: signature and claims, then the
 * revocation list (its `jti` and family id). Used by `requireToken` and by the revocation and
 * introspection endpoints, so they can never disagree about a token.
 * @packageDocumentation
 */
import { InvalidToken } from '../core/errors';
import { clientRevocationId } from '../registration/client-revocation';
import type { TokenStore } from '../stores/types';
import type { AccessTokenClaims, JwtVerifier } from './jwt';
import type { RevokedIds } from './revoked-ids';

/** A live JWT access token: its claims and the ids a revocation may name. */
export interface LiveAccessToken {
  claims: AccessTokenClaims;
  revocationIds: string[];
}

/**
 * Verify a JWT access token and check it is not revoked — neither among the revocations this
 * instance heard (`heard`), which a store that lost its data cannot forget, nor in the store;
 * rejects with {@link InvalidToken}. The signature and claims are checked synchronously; the
 * only promise is the store's revocation lookup (this runs on every `requireToken` cache miss,
 * so no async wrapper). `anyAudience`: see {@link JwtVerifier.verify}.
 */
export function verifyLiveJwt(
  verifier: JwtVerifier,
  tokens: TokenStore,
  token: string,
  heard?: RevokedIds,
  anyAudience = false,
): Promise<LiveAccessToken> {
  let claims: AccessTokenClaims;
  try {
    claims = verifier.verify(token, anyAudience);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const revocationIds = claims.fid === undefined ? [claims.jti] : [claims.jti, claims.fid];
  // A registered client's deletion (RFC 7592 §2.3) revokes all its tokens at once.
  const client = clientRevocationId(claims.client_id);
  if (client !== undefined) revocationIds.push(client);
  if (heard?.has(revocationIds)) return Promise.reject(new InvalidToken('The access token has been revoked.'));
  return tokens.isRevoked(revocationIds).then((revoked) => {
    if (revoked) throw new InvalidToken('The access token has been revoked.');
    return { claims, revocationIds };
  });
}
