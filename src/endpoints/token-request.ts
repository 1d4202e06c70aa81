/**
 * What the revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints share:
 * a POST with a form body, client authentication as at the token endpoint, a `token` and an
 * optional `token_type_hint`.
 * @packageDocumentation
 */
import type { AuthenticatedClient } from '../clients/authenticate';
import { authenticateClient } from '../clients/authenticate';
import type { ServerContext } from '../context';
import { InvalidRequest } from '../errors';
import { readParams, type Request } from '../http/body';

/** A parsed, client-authenticated revocation or introspection request. */
export interface TokenRequest {
  auth: AuthenticatedClient;
  token: string;
  hint: string | undefined;
}

/** Parse and authenticate the request, or throw the OAuth error for what is wrong. */
export async function readTokenRequest(ctx: ServerContext, req: Request, endpoint: string): Promise<TokenRequest> {
  if (req.method !== 'POST') throw new InvalidRequest(`The ${endpoint} endpoint accepts only POST.`, 405, { Allow: 'POST' });
  const params = await readParams(req, ctx.options.maxBodyBytes);
  // Authenticate before looking at the token, so an unauthenticated caller learns nothing about it.
  const auth = await authenticateClient(req, params, ctx.clients, ctx.basicChallenge);
  const token = params.token;
  if (token === undefined || token === '') throw new InvalidRequest('The "token" parameter is required.');
  return { auth, token, hint: params.token_type_hint };
}
