/**
 * One check for a JWT access token this server issued: signature and claims, then the
 * revocation list (its `jti` and family id). Used by `requireToken` and by the revocation and
 * introspection endpoints, so they can never disagree about a token.
 * @packageDocumentation
 */
import { InvalidToken } from '../errors';
import type { TokenStore } from '../stores/types';
import type { AccessTokenClaims, JwtVerifier } from './jwt';
import { clientRevocationId } from '../registration/client-revocation';

/** A live JWT access token: its claims and the ids a revocation may name. */
export interface LiveAccessToken {
  claims: AccessTokenClaims;
  revocationIds: string[];
}

/** Verify a JWT access token and check it is not revoked; throws {@link InvalidToken}. */
export async function verifyLiveJwt(verifier: JwtVerifier, tokens: TokenStore, token: string): Promise<LiveAccessToken> {
  const claims = verifier.verify(token);
  const revocationIds = claims.fid === undefined ? [claims.jti] : [claims.jti, claims.fid];
  // A registered client's deletion (RFC 7592 §2.3) revokes all its tokens at once.
  const client = clientRevocationId(claims.client_id);
  if (client !== undefined) revocationIds.push(client);
  if (await tokens.isRevoked(revocationIds)) throw new InvalidToken('The access token has been revoked.');
  return { claims, revocationIds };
}
