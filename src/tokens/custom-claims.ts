/**
 * Claims of the app's own in access tokens (`options.accessTokenClaims`): a tenant, roles,
 * groups (RFC 9068 §2.2.3.1). They go into a JWT access token beside the RFC 9068 claims and
 * into an opaque token's record, so introspection (RFC 7662 §2.2 allows extensions) and
 * `req.auth.claims` show them for either format. They can never replace a claim the server
 * sets: a hook that returns one is a bug in the server's configuration, refused loudly.
 * @packageDocumentation
 */
import { TokengateConfigError } from '../core/config';
import type { Client } from '../stores/types';

/** What {@link AccessTokenClaimsHook} is told about the access token being issued. */
export interface AccessTokenClaimsContext {
  /** The client the token is issued to. */
  client: Client;
  /** The token's `sub`: the user id, or the client id for `client_credentials`. */
  subject: string;
  /** The user who granted the token, if any (absent for `client_credentials`). */
  userId: string | undefined;
  /** The scopes the token carries. */
  scopes: readonly string[];
  /**
   * The `grant_type` of the token request (`authorization_code`, `refresh_token`, an extension
   * grant's URI...). A refresh asks again, so the claims follow changes in the app's data.
   */
  grantType: string;
  /** The resources (RFC 8707) the token is for; empty when the request named none. */
  resources: readonly string[];
  /** The token's `aud`. */
  audience: string | readonly string[];
}

/**
 * Returns the claims to add to an access token, e.g. `{ tenant: 'acme', roles: ['admin'] }`,
 * or `undefined` for none. Values must be JSON (they are copied as JSON); the whole set at most
 * {@link MAX_CUSTOM_CLAIMS_BYTES} bytes. Throw an `OAuthError` (e.g. `InvalidGrant`) to refuse
 * the token; anything else thrown is logged and answered `server_error`.
 *
 * @example
 * ```ts
 * oauthServer(stores, {
 *   issuer,
 *   accessTokenClaims: async ({ subject, client }) => {
 *     const member = await db.membership(subject, client.id);
 *     return { tenant: member.tenant, roles: member.roles };
 *   },
 * });
 * ```
 */
export type AccessTokenClaimsHook = (
  context: AccessTokenClaimsContext,
) => Record<string, unknown> | undefined | null | Promise<Record<string, unknown> | undefined | null>;

/**
 * Claims the hook may not return: those the server sets or that have a registered meaning in
 * an access token or an introspection response, whether or not this server emits them.
 * RFC 7519 §4.1 (`iss` ... `jti`), RFC 9068 §2.2 (`client_id`, `scope`, `auth_time`, `acr`,
 * `amr`), RFC 7800/RFC 9449 (`cnf`), RFC 8693 §4 (`act`, `may_act`), RFC 7662 §2.2 (`active`,
 * `token_type`, `username`), tokengate's own `fid` (family id) and `userinfo_claims` (OpenID
 * Connect claims asked for one by one), and `__proto__`.
 */
export const RESERVED_ACCESS_TOKEN_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'auth_time',
  'acr',
  'amr',
  'cnf',
  'act',
  'may_act',
  'fid',
  'active',
  'token_type',
  'username',
  'userinfo_claims',
  '__proto__',
]);

/**
 * Largest JSON size (bytes, UTF-8) of the claims one hook call may add. A JWT access token
 * travels in an `Authorization` header, and proxies commonly refuse headers beyond 8 KiB.
 */
export const MAX_CUSTOM_CLAIMS_BYTES = 4096;

const AT = 'oauthServer: options.accessTokenClaims';

function refuse(message: string): never {
  throw new TokengateConfigError('ERR_TOKENGATE_ACCESS_TOKEN_CLAIMS', `${AT} ${message}`);
}

/**
 * Run the hook and check what it returned: a plain JSON copy of its claims, or `undefined` for
 * none. A reserved name, a non-JSON value or an oversized set throws a
 * {@link TokengateConfigError} (`ERR_TOKENGATE_ACCESS_TOKEN_CLAIMS`): the request is answered
 * `server_error` without details and the logger gets the message. Refusing rather than
 * dropping the claim: a token issued without what the app meant to put in it (or with a
 * `sub` or `aud` other than the app intended) would be accepted by every resource server,
 * so the mistake must surface on the first request, not hide in a warning.
 */
export async function customClaims(
  hook: AccessTokenClaimsHook,
  context: AccessTokenClaimsContext,
): Promise<Record<string, unknown> | undefined> {
  const returned = await hook(context);
  if (returned === undefined || returned === null) return undefined;
  if (typeof returned !== 'object' || Array.isArray(returned))
    refuse(
      `must return an object of claims, or undefined (got ${Array.isArray(returned) ? 'an array' : typeof returned}).`,
    );
  for (const name of Object.keys(returned)) {
    if (RESERVED_ACCESS_TOKEN_CLAIMS.has(name))
      refuse(
        `returned the claim "${name}", which the server sets itself or which has a registered meaning; return claims of your own (e.g. tenant, roles).`,
      );
    if (!/^[\x21-\x7e]{1,128}$/.test(name))
      refuse(
        `returned a claim name that is not 1-128 printable ASCII characters: ${JSON.stringify(name.slice(0, 40))}.`,
      );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(returned);
  } catch {
    refuse('returned a value that is not JSON (a BigInt or a cycle).');
  }
  const size = Buffer.byteLength(json as string);
  if (size > MAX_CUSTOM_CLAIMS_BYTES)
    refuse(`returned ${size} bytes of claims; at most ${MAX_CUSTOM_CLAIMS_BYTES} fit in a token.`);
  const claims = JSON.parse(json as string) as Record<string, unknown>;
  return Object.keys(claims).length === 0 ? undefined : claims;
}

/** The claims of a JWT access token that are the app's own: every one not reserved. */
export function ownClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  let own: Record<string, unknown> | undefined;
  for (const name of Object.keys(claims))
    if (!RESERVED_ACCESS_TOKEN_CLAIMS.has(name)) (own ??= {})[name] = claims[name];
  return own;
}
