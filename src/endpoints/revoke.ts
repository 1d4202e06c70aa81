/**
 * The revocation endpoint (RFC 7009): a client revokes one of its own tokens. Revoking a
 * refresh token revokes its whole family, including the access tokens issued from it
 * (RFC 7009 §2.1 "SHOULD"); revoking an access token revokes just that token.
 * @packageDocumentation
 */
import type { Handler } from '../core/http';
import { findToken } from '../tokens/lookup';
import type { ServerContext } from './context';
import { tokenRequestEndpoint } from './token-request';

/** The revocation endpoint handler. */
export function revocationEndpoint(ctx: ServerContext): Handler {
  return tokenRequestEndpoint(ctx, 'revocation', true, async ({ auth, token, hint }) => {
    const found = await findToken(ctx, token, hint);
    // RFC 7009 §2.1: the server verifies the token was issued to the requesting client. Another
    // client's token, an unknown, expired or already revoked one: nothing to do, and the answer
    // is the same 200 (§2.2), so the endpoint cannot be used to probe for tokens.
    if (found !== undefined && found.clientId === auth.client.id) {
      if (found.kind === 'refresh_token') await ctx.issuer.revokeFamily(found.familyId as string, auth.client);
      else await ctx.issuer.revokeToken(found.id, found.expiresAt);
      ctx.observer.revoked(auth.client.id, found, 'revocation_request');
    }
    return {};
  });
}
