import { InvalidGrant, InvalidRequest, UnsupportedGrantType } from '../core/errors';
import { parseScope } from '../core/scopes';
import { grantScopesFor, resourcesOf } from '../resources/indicators';
import type { Grant } from './types';

/**
 * `password` (RFC 6749 §4.3): the resource owner's credentials for a token. An unknown user
 * and a wrong password give the same `invalid_grant`, and the user store is required to take
 * the same time for both.
 */
export const passwordGrant: Grant = {
  type: 'password',
  // Failed passwords count per (username, address), and slow the username down globally.
  limits: { username: (params) => params.username },
  validate(params) {
    const { username, password } = params;
    if (username === undefined || username === '') throw new InvalidRequest('The "username" parameter is required.');
    if (password === undefined) throw new InvalidRequest('The "password" parameter is required.');
    parseScope(params.scope);
  },
  async handle(ctx, params, { client }, guard) {
    const users = ctx.users;
    if (!users) throw new UnsupportedGrantType('The password grant needs a user store; this server has none.');
    const username = params.username as string;
    const password = params.password as string;
    // Scope before the password: a bad scope costs no hash and counts no failure.
    const registry = ctx.options.resources;
    const resources = resourcesOf(registry, client, params);
    const scope = grantScopesFor(registry, client, parseScope(params.scope), resources);
    const user = await guard.check(async () => {
      const found = await users.authenticate(username, password);
      if (!found) throw new InvalidGrant('The username or password is incorrect.');
      return found;
    });
    return ctx.issuer.issue({ client, sub: user.id, userId: user.id, scope, refreshToken: client.grants.includes('refresh_token'), resources });
  },
};
