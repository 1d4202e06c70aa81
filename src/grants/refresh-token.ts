import { hashToken } from '../core/crypto';
import { InvalidGrant, InvalidRequest } from '../core/errors';
import { narrowScopes, parseScope } from '../core/scopes';
import { checkBoundRecord, dpopBinding } from '../dpop/binding';
import { narrowResources, resourcesOf, scopesWithin } from '../resources/indicators';
import { rotate } from './redeem';
import type { Grant } from './types';

const INVALID = 'The refresh token is invalid, expired or revoked.';

/**
 * `refresh_token` (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): each refresh consumes the
 * token and returns a new one of the same family. A consumed token presented again means
 * it was stolen or replayed, so the whole family is revoked, unless it is the client's retry
 * within the reuse window, answered with the same successor (see `rotate`).
 *
 * Checks that can fail for a caller who is not the token's client run before `consume`,
 * so another client's failed attempt does not burn the token. A user the user store no
 * longer knows gets no new tokens, and the family is revoked.
 */
export const refreshTokenGrant: Grant = {
  type: 'refresh_token',
  async handle(ctx, params, auth) {
    const { client } = auth;
    const presented = params.refresh_token;
    if (presented === undefined || presented === '')
      throw new InvalidRequest('The "refresh_token" parameter is required.');
    const id = hashToken(presented);
    const record = await ctx.tokens.find('refresh_token', id);
    // Another client's attempt neither burns the token nor counts as its replay: it cannot
    // be answered, and revoking on it would let any client log a user out.
    if (!record || record.clientId !== client.id) throw new InvalidGrant(INVALID);
    // RFC 9449 §5: a bound refresh token needs a proof from its key; no proof or another key is invalid_grant.
    checkBoundRecord(record, auth, INVALID);
    const registry = ctx.options.resources;
    // RFC 8707 §2.2 (and the MCP clients that send `resource` again on every refresh).
    const resources = narrowResources(record.resources, resourcesOf(registry, client, params));
    const requested = parseScope(params.scope);
    const scope = scopesWithin(
      registry,
      narrowScopes(record.scope, requested),
      resources,
      requested !== undefined && requested.length > 0,
    );
    if (record.userId !== undefined && ctx.users?.findUser && !(await ctx.users.findUser(record.userId))) {
      await ctx.issuer.revokeFamily(record.familyId, client);
      ctx.observer.revoked(client.id, record, 'user_unknown');
      throw new InvalidGrant(INVALID);
    }
    const request = {
      client,
      grantType: 'refresh_token',
      sub: record.sub,
      userId: record.userId,
      scope,
      refreshScope: record.scope,
      familyId: record.familyId,
      refreshToken: true,
      openid: record.openid,
      extraClaims: record.openid?.userinfoClaims ? { userinfo_claims: record.openid.userinfoClaims } : undefined,
      resources,
      refreshResources: record.resources,
      ...dpopBinding(auth),
    };
    return rotate(ctx, client, presented, record, request, { jkt: auth.dpopJkt }, INVALID);
  },
};
