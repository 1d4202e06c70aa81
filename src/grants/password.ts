import type { ServerContext } from '../context';
import { InvalidGrant, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../errors';
import type { Logger } from '../options';
import { grantScopes, parseScope } from '../scopes';
import type { Grant } from './types';

/** Options of the `password` grant (RFC 6749 §4.3). */
export interface PasswordGrantOptions {
  /**
   * Let public clients (no client authentication, `none`) use the password grant. Default
   * false: only confidential clients may, because a public client's requests can be sent by
   * anyone, so the grant would only check the user's password and nothing else (RFC 9700
   * §2.4). Which clients may use the grant at all is still each client's `grants` list.
   */
  allowPublicClients?: boolean;
}

/** {@link PasswordGrantOptions} after validation. */
export interface ResolvedPasswordGrantOptions {
  readonly allowPublicClients: boolean;
}

const REASON =
  'RFC 9700 §2.4: the resource owner password credentials grant MUST NOT be used — it hands the user\'s password to the client, trains users to type it outside the authorization server, and cannot do multi-factor or federated sign-in; move the client to the authorization code flow with PKCE.';

/** Validate the `passwordGrant` option at start-up; says so once when public clients are let in. */
export function resolvePasswordGrant(options: PasswordGrantOptions | undefined, logger: Logger): ResolvedPasswordGrantOptions {
  const allow = options?.allowPublicClients ?? false;
  if (typeof allow !== 'boolean') throw new Error(`oauthServer: options.passwordGrant.allowPublicClients must be true or false (got ${String(allow)}).`);
  if (allow) logger.warn(`options.passwordGrant.allowPublicClients is on: public clients listing the password grant may use it with no client authentication. ${REASON}`);
  return Object.freeze({ allowPublicClients: allow });
}

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
  ctx.options.logger.warn(`The ${kind} ${JSON.stringify(clientId)} uses the password grant (warned once per client). ${REASON}`);
}

/**
 * `password` (RFC 6749 §4.3): the resource owner's credentials for a token. An unknown user
 * and a wrong password give the same `invalid_grant`, and the user store is required to take
 * the same time for both. Only confidential clients, unless `passwordGrant.allowPublicClients`.
 */
export const passwordGrant: Grant = {
  type: 'password',
  async handle(ctx, params, { client, method }) {
    if (!ctx.users) throw new UnsupportedGrantType('The password grant needs a user store; this server has none.');
    const isPublic = method === 'none';
    // Before any password is looked at: for a public client nobody proved who is asking.
    if (isPublic && !ctx.options.passwordGrant.allowPublicClients) {
      throw new UnauthorizedClient('The password grant is only for confidential clients (RFC 9700 §2.4); use the authorization code flow with PKCE.');
    }
    warnOnce(ctx, client.id, isPublic);
    const { username, password } = params;
    if (username === undefined || username === '') throw new InvalidRequest('The "username" parameter is required.');
    if (password === undefined) throw new InvalidRequest('The "password" parameter is required.');
    // Scope first: a bad scope should not cost a password hash.
    const scope = grantScopes(client, parseScope(params.scope));
    const user = await ctx.users.authenticate(username, password);
    if (!user) throw new InvalidGrant('The username or password is incorrect.');
    return ctx.issuer.issue({ client, sub: user.id, userId: user.id, scope, refreshToken: client.grants.includes('refresh_token') });
  },
};
