import { UnauthorizedClient } from '../core/errors';
import { parseScope } from '../core/scopes';
import { dpopBinding } from '../dpop/binding';
import { grantScopesFor, resourcesOf } from '../resources/indicators';
import type { Grant } from './types';

/**
 * `client_credentials` (RFC 6749 §4.4): a confidential client gets a token for itself.
 * No refresh token (§4.4.3), and `sub` is the client id (RFC 9068 §2.2).
 */
export const clientCredentialsGrant: Grant = {
  type: 'client_credentials',
  async handle(ctx, params, auth) {
    const { client, method } = auth;
    if (method === 'none')
      throw new UnauthorizedClient('The client_credentials grant is only for confidential clients (RFC 6749 §4.4).');
    const registry = ctx.options.resources;
    const resources = resourcesOf(registry, client, params);
    const scope = grantScopesFor(registry, client, parseScope(params.scope), resources);
    return ctx.issuer.issue({
      client,
      grantType: 'client_credentials',
      sub: client.id,
      scope,
      refreshToken: false,
      resources,
      ...dpopBinding(auth),
    });
  },
};
