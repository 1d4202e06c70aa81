/**
 * What the revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints share:
 * a POST with a form body, client authentication as at the token endpoint, a `token` and an
 * optional `token_type_hint`.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import type { AuthenticatedClient } from '../clients/authenticate';
import { authenticateClient } from '../clients/authenticate';
import type { ServerContext } from './context';
import { InvalidRequest } from '../core/errors';
import { readParams } from '../http/body';
import type { Request } from '../core/http';
import { guardRequest } from '../limits/guard-request';

/** A parsed, client-authenticated revocation or introspection request. */
export interface TokenRequest {
  auth: AuthenticatedClient;
  token: string;
  hint: string | undefined;
}

/**
 * Parse and authenticate the request, or throw the OAuth error for what is wrong. Client
 * authentication is under the brute-force limits, as at the token endpoint; `res` is given
 * by endpoints with CORS, so a client's own origins can read the answer.
 */
export async function readTokenRequest(ctx: ServerContext, req: Request, endpoint: string, res?: ServerResponse): Promise<TokenRequest> {
  if (req.method !== 'POST') throw new InvalidRequest(`The ${endpoint} endpoint accepts only POST.`, 405, { Allow: 'POST' });
  const params = await readParams(req, ctx.options.maxBodyBytes, ctx.options.bodyTimeoutMs);
  const guard = await guardRequest(ctx, req, res);
  // Authenticate before looking at the token, so an unauthenticated caller learns nothing about it.
  const auth = await authenticateClient(req, params, ctx.clients, ctx.basicChallenge, guard);
  const token = params.token;
  if (token === undefined || token === '') throw new InvalidRequest('The "token" parameter is required.');
  return { auth, token, hint: params.token_type_hint };
}
