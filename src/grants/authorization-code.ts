import { isRegisteredRedirectUri } from '../clients/redirect-uri';
import { nowSeconds } from '../core/clock';
import { hashToken } from '../core/crypto';
import { InvalidGrant, InvalidRequest } from '../core/errors';
import { isValidVerifier, verifierMatches } from '../core/pkce';
import { checkBoundRecord, dpopBinding } from '../dpop/binding';
import { narrowResources, resourcesOf, scopesWithin } from '../resources/indicators';
import { redeem, refuseReplay } from './redeem';
import type { Grant } from './types';

const INVALID = 'The authorization code is invalid, expired, revoked or was issued to another client.';

/**
 * `authorization_code` (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6) and single use
 * (RFC 6749 §4.1.2): a code presented a second time is refused and every token issued from
 * it is revoked (the code and its tokens share one family).
 *
 * Everything that can fail for someone who is not the code's rightful client (another
 * client, a wrong redirect_uri, a wrong verifier) is checked before `consume`, so such an
 * attempt neither burns the code nor revokes its tokens.
 */
export const authorizationCodeGrant: Grant = {
  type: 'authorization_code',
  async handle(ctx, params, auth) {
    const { client } = auth;
    const code = params.code;
    if (code === undefined || code === '') throw new InvalidRequest('The "code" parameter is required.');
    const verifier = params.code_verifier;
    if (verifier !== undefined && !isValidVerifier(verifier)) {
      throw new InvalidRequest(
        'code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_", "~" (RFC 7636 §4.1).',
      );
    }
    const id = hashToken(code);
    const record = await ctx.tokens.find('authorization_code', id);
    if (!record || record.clientId !== client.id || record.expiresAt <= nowSeconds()) throw new InvalidGrant(INVALID);
    await refuseReplay(ctx, client, record, INVALID);
    // RFC 9449 §10: a code requested with dpop_jkt is redeemed only with a proof from that key.
    checkBoundRecord(
      record,
      auth,
      'The DPoP proof key does not match the dpop_jkt of the authorization request (RFC 9449 §10).',
    );

    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request, if it had one.
    const redirectUri = params.redirect_uri;
    if (record.redirectUri !== undefined) {
      if (redirectUri !== record.redirectUri)
        throw new InvalidGrant('The redirect_uri does not match the one of the authorization request.');
    } else if (redirectUri !== undefined && !isRegisteredRedirectUri(client.redirectUris ?? [], redirectUri)) {
      throw new InvalidGrant('The redirect_uri does not match the one of the authorization request.');
    }

    if (record.codeChallenge !== undefined) {
      if (verifier === undefined)
        throw new InvalidGrant(
          'The code_verifier is required: the authorization request had a code_challenge (RFC 7636 §4.5).',
        );
      // A store that lost the method must not make PKCE fall back to the weaker plain check.
      const method = record.codeChallengeMethod ?? 'S256';
      if (method === 'plain' && !ctx.options.pkce.allowPlain)
        throw new InvalidGrant('The plain code_challenge_method is not enabled.');
      if (!verifierMatches(verifier, record.codeChallenge, method)) {
        throw new InvalidGrant('The code_verifier does not match the code_challenge (RFC 7636 §4.6).');
      }
    } else if (verifier !== undefined) {
      // RFC 9700 §4.8.2: a verifier for a code issued without a challenge is a downgrade attempt.
      throw new InvalidGrant('A code_verifier was sent, but the authorization request had no code_challenge.');
    }

    // RFC 8707 §2.2: the token may be for fewer of the code's resources, never for others.
    const registry = ctx.options.resources;
    const resources = narrowResources(record.resources, resourcesOf(registry, client, params));

    // The user is not looked up again: it came from the app's own sign-in moments ago, and the
    // user store (if any) serves the password grant and need not know the app's session users.
    const request = {
      client,
      grantType: 'authorization_code',
      sub: record.sub,
      userId: record.userId,
      scope: scopesWithin(registry, record.scope, resources),
      refreshScope: record.scope,
      familyId: record.familyId,
      refreshToken: client.grants.includes('refresh_token'),
      openid: record.openid,
      // UserInfo needs the claims the request asked for one by one (OIDC Core §5.5).
      extraClaims: record.openid?.userinfoClaims ? { userinfo_claims: record.openid.userinfoClaims } : undefined,
      resources,
      refreshResources: record.resources,
      ...dpopBinding(auth),
    };
    return redeem(ctx, client, record, request, INVALID);
  },
};
