import { InvalidGrant, InvalidRequest, UnsupportedGrantType } from '../errors';
import { parseScope } from '../scopes';
import { grantScopesFor, resourcesOf } from '../resources';
import type { Grant } from './types';

/**
 * `password` (RFC 6749 §4.3): the resource owner's credentials for a token. An unknown user
 * and a wrong password give the same `invalid_grant`, and the user store is required to take
 * the same time for both.
 */
export const passwordGrant: Grant = {
  type: 'password',
  async handle(ctx, params, { client }) {
    if (!ctx.users) throw new UnsupportedGrantType('The password grant needs a user store; this server has none.');
    const { username, password } = params;
    if (username === undefined || username === '') throw new InvalidRequest('The "username" parameter is required.');
    if (password === undefined) throw new InvalidRequest('The "password" parameter is required.');
    // Scope first: a bad scope should not cost a password hash.
    const registry = ctx.options.resources;
    const resources = resourcesOf(registry, client, params);
    const scope = grantScopesFor(registry, client, parseScope(params.scope), resources);
    const user = await ctx.users.authenticate(username, password);
    if (!user) throw new InvalidGrant('The username or password is incorrect.');
    return ctx.issuer.issue({ client, sub: user.id, userId: user.id, scope, refreshToken: client.grants.includes('refresh_token'), resources });
  },
};
