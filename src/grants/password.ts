import { InvalidGrant, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../core/errors';
import { parseScope } from '../core/scopes';
import { dpopBinding } from '../dpop/binding';
import type { ServerContext } from '../endpoints/context';
import { grantScopesFor, resourcesOf } from '../resources/indicators';
import { REASON } from './password-options';
import type { Grant } from './types';

// Clients come from a store, so they are not known at start-up: each is named once, the first
// time it uses the grant in this process. Bounded: after this many the warnings stop.
const MAX_WARNED = 10_000;
const warned = new WeakMap<ServerContext, Set<string>>();

function warnOnce(ctx: ServerContext, clientId: string, isPublic: boolean): void {
  let seen = warned.get(ctx);
  if (seen === undefined) warned.set(ctx, (seen = new Set()));
  if (seen.has(clientId) || seen.size >= MAX_WARNED) return;
  seen.add(clientId);
  const kind = isPublic ? 'public client (allowed by passwordGrant.allowPublicClients)' : 'client';
  ctx.options.logger.warn(
    `The ${kind} ${JSON.stringify(clientId)} uses the password grant (warned once per client). ${REASON}`,
  );
}

/**
 * `password` (RFC 6749 §4.3): the resource owner's credentials for a token. An unknown user
 * and a wrong password give the same `invalid_grant`, and the user store is required to take
 * the same time for both. Only confidential clients, unless `passwordGrant.allowPublicClients`.
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
  async handle(ctx, params, auth, guard) {
    const { client, method } = auth;
    const users = ctx.users;
    if (!users) throw new UnsupportedGrantType('The password grant needs a user store; this server has none.');
    const isPublic = method === 'none';
    // Before any password is looked at: for a public client nobody proved who is asking.
    if (isPublic && !ctx.options.passwordGrant.allowPublicClients) {
      throw new UnauthorizedClient(
        'The password grant is only for confidential clients (RFC 9700 §2.4); use the authorization code flow with PKCE.',
      );
    }
    warnOnce(ctx, client.id, isPublic);
    const username = params.username as string;
    const password = params.password as string;
    // Scope before the password: a bad scope costs no hash and counts no failure.
    const registry = ctx.options.resources;
    const resources = resourcesOf(registry, client, params);
    const scope = grantScopesFor(registry, client, parseScope(params.scope), resources);
    const user = await guard.check(async () => {
      const found = await users.authenticate(username, password);
      if (!found) {
        ctx.observer.passwordFailed(client.id, username);
        throw new InvalidGrant('The username or password is incorrect.');
      }
      return found;
    });
    return ctx.issuer.issue({
      client,
      grantType: 'password',
      sub: user.id,
      userId: user.id,
      scope,
      refreshToken: client.grants.includes('refresh_token'),
      resources,
      ...dpopBinding(auth),
    });
  },
};
