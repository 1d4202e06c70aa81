/**
 * What the revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints share:
 * the client-authenticated frame, and a `token` with an optional `token_type_hint`.
 * @packageDocumentation
 */
import type { AuthenticatedClient } from '../clients/authenticate';
import { InvalidRequest } from '../core/errors';
import type { Handler } from '../core/http';
import { clientEndpoint } from './client-endpoint';
import type { ServerContext } from './context';

/** A parsed, client-authenticated revocation or introspection request. */
export interface TokenRequest {
  auth: AuthenticatedClient;
  token: string;
  hint: string | undefined;
}

/**
 * The handler of an endpoint about one token. The `token` parameter is looked at only after
 * the client is authenticated, so an unauthenticated caller learns nothing about it; `cors`
 * for endpoints a browser client calls (revocation).
 */
export function tokenRequestEndpoint(
  ctx: ServerContext,
  name: string,
  cors: boolean,
  handle: (request: TokenRequest) => Promise<unknown>,
): Handler {
  return clientEndpoint(ctx, {
    name,
    cors,
    async handle({ params, auth }) {
      const token = params.token;
      if (token === undefined || token === '') throw new InvalidRequest('The "token" parameter is required.');
      return handle({ auth, token, hint: params.token_type_hint });
    },
  });
}
