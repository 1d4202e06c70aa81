/**
 * Validating tokens with the server's own keys and token store: JWTs by signature and claims
 * plus a revocation check, opaque tokens by lookup.
 * @packageDocumentation
 */
import { hashToken } from '../core/crypto';
import { InvalidToken } from '../core/errors';
import { clientRevocationId } from '../registration/client-revocation';
import { hasAudience } from '../resources/indicators';
import type { TokenStore } from '../stores/types';
import { isJwt, type JwtVerifier } from '../tokens/jwt';
import type { RevokedIds } from '../tokens/revoked-ids';
import { verifyLiveJwt } from '../tokens/verify-access';
import type { TokenValidator, ValidatedToken } from './auth-info';

/**
 * A validator for tokens this server issued, in either format; `audience`: the default one (of
 * opaque tokens without resources); `heard`: the revocations this instance heard; `accepted`:
 * the audiences a token may be for here, as the JWT verifier pins them (the default and the
 * registered resources), so an opaque token exchanged for another API (RFC 8693) is refused
 * like a JWT one. Absent: opaque tokens are not checked.
 */
export function localValidator(
  verifier: JwtVerifier,
  tokens: TokenStore,
  audience: string | readonly string[],
  heard?: RevokedIds,
  accepted?: readonly string[],
): TokenValidator {
  // No async wrappers: a cache miss makes exactly the store's promise and one `then`.
  return function validate(token) {
    if (isJwt(token)) {
      return verifyLiveJwt(verifier, tokens, token, heard).then(({ claims, revocationIds }) =>
        validated(claims.sub, claims.client_id, claims.scope, claims.exp, claims, revocationIds),
      );
    }
    return tokens.find('access_token', hashToken(token)).then((record) => {
      if (!record) throw new InvalidToken();
      if (accepted !== undefined && record.resources !== undefined && !hasAudience(record.resources, accepted))
        throw new InvalidToken('The access token is not meant for this resource.');
      const claims = {
        // The app's own claims (options.accessTokenClaims), as a JWT access token carries them.
        ...record.claims,
        aud: record.resources ?? audience,
        sub: record.sub,
        client_id: record.clientId,
        scope: record.scope.join(' '),
        iat: record.issuedAt,
        exp: record.expiresAt,
        // RFC 9449 §6: the binding, as a JWT access token would carry it.
        ...(record.jkt !== undefined && { cnf: { jkt: record.jkt } }),
      };
      const revocationIds = [record.id, record.familyId];
      // A registered client's deletion (RFC 7592 §2.3) revokes all its tokens at once.
      const client = clientRevocationId(record.clientId);
      if (client === undefined)
        return validated(record.sub, record.clientId, claims.scope, record.expiresAt, claims, revocationIds);
      revocationIds.push(client);
      return tokens.isRevoked([client]).then((revoked) => {
        if (revoked) throw new InvalidToken();
        return validated(record.sub, record.clientId, claims.scope, record.expiresAt, claims, revocationIds);
      });
    });
  };
}

/** Build the cached form of a validated token; the scope list is frozen since entries are shared. */
export function validated(
  sub: string,
  clientId: string,
  scope: string,
  expiresAt: number,
  claims: Record<string, unknown>,
  revocationIds: string[],
): ValidatedToken {
  return Object.freeze({
    sub,
    clientId,
    scope: Object.freeze(scope === '' ? [] : scope.split(' ')),
    expiresAt,
    claims: Object.freeze(claims),
    revocationIds,
  });
}
