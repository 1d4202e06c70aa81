/**
 * The token endpoint (RFC 6749 §3.2): POST only, form or multipart body, one client
 * authentication method, then the grant named by `grant_type`.
 * @packageDocumentation
 */
import { InvalidGrant, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../core/errors';
import type { Handler, Params } from '../core/http';
import { tokenRequestProof } from '../dpop/binding';
import type { CredentialGuard, Grant } from '../grants';
import { printable } from '../http/body';
import type { Attempt } from '../limits/brute-force';
import type { GrantType } from '../stores/types';
import { clientEndpoint } from './client-endpoint';
import type { ServerContext } from './context';

function grantOf(grants: ReadonlyMap<string, Grant>, params: Params): Grant {
  const grantType = params.grant_type;
  if (grantType === undefined || grantType === '') throw new InvalidRequest('The "grant_type" parameter is required.');
  const grant = grants.get(grantType);
  if (!grant) throw new UnsupportedGrantType(`The grant type "${printable(grantType)}" is not supported.`);
  return grant;
}

/** The limits a grant's own credential check runs under, as the grant declared them. */
function credentialGuard(grant: Grant, params: Params, attempt: Attempt | undefined): CredentialGuard {
  const id = grant.limits?.username?.(params);
  if (!attempt || id === undefined || id === '') return { check: (run) => run() };
  // A wrong resource-owner credential is invalid_grant (RFC 6749 §5.2); anything else hands the attempt back.
  return { check: (run) => attempt.check({ kind: 'username', id }, run, ({ error }) => error instanceof InvalidGrant) };
}

/** The token endpoint handler for these grants. */
export function tokenEndpoint(ctx: ServerContext, grants: ReadonlyMap<string, Grant>): Handler {
  return clientEndpoint(ctx, {
    name: 'token',
    cors: true,
    validate(params) {
      grantOf(grants, params).validate?.(params);
    },
    async handle({ req, res, params, auth, attempt }) {
      const grant = grantOf(grants, params);
      ctx.observer.identified(req, auth.client.id, grant.type);
      if (!auth.client.grants.includes(grant.type as GrantType))
        throw new UnauthorizedClient(`This client may not use the ${grant.type} grant.`);
      // RFC 9449 §5: a DPoP proof binds what this request issues to the proof's key; §8: the next nonce.
      if (ctx.dpop.nonce) res.setHeader('DPoP-Nonce', ctx.dpop.nonce.current());
      const dpopJkt = await tokenRequestProof(ctx, req, auth.client);
      if (dpopJkt !== undefined) auth.dpopJkt = dpopJkt;
      const response = await grant.handle(ctx, params, auth, credentialGuard(grant, params, attempt));
      ctx.observer.issued(grant.type, auth.client.id, response);
      return response;
    },
  });
}
