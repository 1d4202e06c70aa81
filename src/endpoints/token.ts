/**
 * The token endpoint (RFC 6749 §3.2): POST only, form or multipart body, one client
 * authentication method, then the grant named by `grant_type`.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { authenticateClient } from '../clients/authenticate';
import type { ServerContext } from './context';
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../core/errors';
import type { Grant } from '../grants';
import { printable, readParams } from '../http/body';
import type { Handler, Params, Request } from '../core/http';
import { sendError, sendJson } from '../http/respond';
import { guardRequest } from '../limits/guard-request';
import { requestSecrets, withoutSecrets } from '../core/redact';
import type { GrantType } from '../stores/types';

/** The token endpoint handler for these grants. */
export function tokenEndpoint(ctx: ServerContext, grants: ReadonlyMap<string, Grant>): Handler {
  const { options, clients } = ctx;
  return async function token(req, res) {
    let params: Params | undefined;
    try {
      if (req.method !== 'POST') throw new InvalidRequest('The token endpoint accepts only POST.', 405, { Allow: 'POST' });
      params = await readParams(req, options.maxBodyBytes, options.bodyTimeoutMs);
      const grantType = params.grant_type;
      if (grantType === undefined || grantType === '') throw new InvalidRequest('The "grant_type" parameter is required.');
      const grant = grants.get(grantType);
      if (!grant) throw new UnsupportedGrantType(`The grant type "${printable(grantType)}" is not supported.`);
      const guard = await guardRequest(ctx, req, res);
      const auth = await authenticateClient(req, params, clients, ctx.basicChallenge, guard);
      if (!auth.client.grants.includes(grantType as GrantType)) {
        throw new UnauthorizedClient(`This client may not use the ${grantType} grant.`);
      }
      const p = params;
      const response = grantType === 'password' ? await guard.password(p.username, () => grant.handle(ctx, p, auth)) : await grant.handle(ctx, p, auth);
      sendJson(res, 200, response);
    } catch (err) {
      sendError(res, withoutSecrets(err, requestSecrets(req, params)), options.logger, 'token endpoint');
    }
  };
}
