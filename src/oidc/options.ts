/**
 * `options.openid`: turns OpenID Connect on. Validated once at start-up, like every option.
 * @packageDocumentation
 */
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokengateConfigError } from '../core/config';
import type { Logger } from '../core/logging';
import { SCOPE_TOKEN } from '../core/scopes';
import type { Client, User } from '../stores/types';
import { resolveKey, type ResolvedKey, type SigningAlgorithm } from '../tokens/keys';

/** What the claims hook is told besides the user. */
export interface ClaimsInfo {
  /** The scopes of the token or grant the claims are for; claims of other scopes are dropped anyway. */
  scopes: readonly string[];
  /** The names of the individual claims asked for with the `claims` parameter (OIDC Core §5.5) for this response. */
  claims: readonly string[];
  /** The client the claims go to. */
  client: Client;
  /** Where the claims go: the UserInfo response or the ID token. */
  target: 'userinfo' | 'id_token';
}

/** What the logout hook is told (RP-Initiated Logout 1.0 §2). */
export interface LogoutInfo {
  /** The client that sent the user, from a valid `id_token_hint` or `client_id`; absent if neither was sent. */
  client: Client | undefined;
  /**
   * The verified claims of the `id_token_hint` (signed by this server, for this issuer; it
   * may have expired), or `undefined` when none was sent. Without one, the request may come
   * from any site: ask the user to confirm before ending the session (§2).
   */
  idToken: Readonly<Record<string, unknown>> | undefined;
  /** Where the library sends the browser after the hook, if the client asked and registered it; `state` already added. */
  postLogoutRedirectUri: string | undefined;
  /** The client's `state`, echoed to the post-logout redirect URI. */
  state: string | undefined;
  /** `logout_hint` as sent. */
  logoutHint: string | undefined;
  /** `ui_locales` as sent, split on spaces. */
  uiLocales: readonly string[];
}

/**
 * OpenID Connect options (`options.openid`). Giving `openid` (even `{}`) turns it on:
 * ID tokens for the `openid` scope, the UserInfo endpoint, `/.well-known/openid-configuration`
 * and, with a `logout` hook, RP-Initiated Logout. `Req` and `Res` are the framework's request
 * and response types, as for {@link AuthorizeHooks}: Express's through `tokengate/express`.
 *
 * @example
 * ```ts
 * import { oauthServer } from 'tokengate/express';
 *
 * oauthServer(stores, {
 *   issuer,
 *   authorize: { authenticate, consent },
 *   openid: {
 *     claims: async (user) => ({ name: user.name, email: user.email, email_verified: true }),
 *     logout: (req) => { req.session.destroy(); },
 *   },
 * });
 * ```
 */
// `U` stays `any` by default: the user object is whatever the app's user store returns.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface OpenIdOptions<Req = IncomingMessage, Res = ServerResponse, U extends User = any> {
  /**
   * The user's claims. Return every claim you have; the library keeps those of the granted
   * scopes (`profile`, `email`, `address`, `phone`, OIDC Core §5.4) and the ones asked for
   * with the `claims` parameter, and always sets `sub` itself. Default: the fields of the
   * user store's `findUser(id)` (or of nothing but the id, without a user store).
   */
  claims?(user: U, info: ClaimsInfo): Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Ends the app's session for RP-Initiated Logout. Respond yourself (e.g. a confirmation
   * page) and return `undefined`, or return without responding once the session is ended:
   * the library then redirects to the client's `post_logout_redirect_uri` (with `state`) or
   * shows a "signed out" page. Without this hook there is no end-session endpoint.
   */
  logout?(req: Req, res: Res, info: LogoutInfo): void | Promise<void>;
  /**
   * Secret salt for pairwise subject identifiers (OIDC Core §8.1), at least 32 bytes; needed
   * once any client has `subjectType: 'pairwise'`. Keep it stable: changing it changes every
   * pairwise `sub`.
   */
  pairwiseSalt?: string | Buffer;
  /** ID token lifetime in seconds. Default 3600. */
  idTokenLifetime?: number;
  /** Path of the UserInfo endpoint, relative to the mount point. Default `/oauth/userinfo`. */
  userinfoPath?: string;
  /** Path of the end-session endpoint, relative to the mount point. Default `/oauth/logout`. */
  endSessionPath?: string;
  /** `acr` values the app's sign-in can report, advertised as `acr_values_supported`. */
  acrValuesSupported?: string[];
  /** Claims the app can provide besides the standard ones, advertised in `claims_supported`. */
  extraClaimsSupported?: string[];
}

/** `options.openid` after validation. */
export interface ResolvedOpenId {
  readonly claims: OpenIdOptions['claims'];
  readonly logout: OpenIdOptions['logout'];
  readonly pairwiseSalt: Buffer | undefined;
  readonly idTokenLifetime: number;
  readonly userinfoPath: string;
  readonly endSessionPath: string;
  readonly acrValuesSupported: readonly string[] | undefined;
  readonly extraClaimsSupported: readonly string[];
  /** The signing key for each algorithm ID tokens can be signed with (first of each in `keys`). */
  readonly signingKeys: ReadonlyMap<SigningAlgorithm, ResolvedKey>;
}

/** ID tokens are signed with asymmetric keys only: HS256 would need the client's secret as key (§10.1). */
export const ID_TOKEN_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'PS256', 'ES256', 'ES384'];

function fail(message: string): never {
  throw new TokengateConfigError('ERR_TOKENGATE_OPENID', `oauthServer: options.openid${message}`);
}

function path(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    /[?#\s]/.test(value) ||
    value.startsWith('/.well-known/')
  ) {
    fail(`.${name} must be a path starting with "/", without query, not under /.well-known/ (got ${String(value)}).`);
  }
  return value;
}

function names(name: string, value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && SCOPE_TOKEN.test(v)))
    fail(`.${name} must be an array of printable strings without spaces.`);
  return Object.freeze([...new Set(value as string[])]);
}

/**
 * Validate `options.openid` once. Returns `undefined` when OpenID Connect is off, and any key
 * that had to be generated: every OP must sign ID tokens with RS256 (OIDC Core §15.1), so
 * without an RS256 key in `options.keys` an ephemeral one is made (with a warning), as for
 * access tokens.
 */
export function resolveOpenId(
  value: unknown,
  keys: readonly ResolvedKey[],
  logger: Logger,
  hasAuthorize: boolean,
): { openid: ResolvedOpenId; addedKey?: ResolvedKey } | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail(' must be an object, e.g. { claims: (user) => ({ email: user.email }) }.');
  if (!hasAuthorize) fail(' needs options.authorize: ID tokens are issued by the authorization code flow.');
  const o = value as OpenIdOptions;
  if (o.claims !== undefined && typeof o.claims !== 'function')
    fail(".claims must be a function (user, { scopes, claims, client }) returning the user's claims.");
  if (o.logout !== undefined && typeof o.logout !== 'function')
    fail(".logout must be a function (req, res, info) that ends the app's session.");
  let salt: Buffer | undefined;
  if (o.pairwiseSalt !== undefined) {
    salt =
      typeof o.pairwiseSalt === 'string'
        ? Buffer.from(o.pairwiseSalt, 'utf8')
        : Buffer.isBuffer(o.pairwiseSalt)
          ? Buffer.from(o.pairwiseSalt)
          : undefined;
    if (!salt || salt.length < 32) fail('.pairwiseSalt must be a secret string or Buffer of at least 32 bytes.');
  }
  const lifetime = o.idTokenLifetime ?? 3600;
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime <= 0)
    fail(`.idTokenLifetime must be a positive whole number of seconds (got ${String(lifetime)}).`);

  let addedKey: ResolvedKey | undefined;
  const signingKeys = new Map<SigningAlgorithm, ResolvedKey>();
  for (const key of keys)
    if (key.signKey && ID_TOKEN_ALGORITHMS.includes(key.alg) && !signingKeys.has(key.alg))
      signingKeys.set(key.alg, key);
  if (!signingKeys.has('RS256')) {
    logger.warn(
      'OpenID Connect is on but options.keys has no RS256 signing key: using an ephemeral RS256 key for ID tokens. They will not verify after a restart or on other instances; add { alg: "RS256", privateKey } to options.keys.',
    );
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    addedKey = resolveKey({ alg: 'RS256', privateKey }, keys.length);
    signingKeys.set('RS256', addedKey);
  }
  const openid: ResolvedOpenId = Object.freeze({
    claims: o.claims,
    logout: o.logout,
    pairwiseSalt: salt,
    idTokenLifetime: lifetime,
    userinfoPath: path('userinfoPath', o.userinfoPath, '/oauth/userinfo'),
    endSessionPath: path('endSessionPath', o.endSessionPath, '/oauth/logout'),
    acrValuesSupported: names('acrValuesSupported', o.acrValuesSupported),
    extraClaimsSupported: names('extraClaimsSupported', o.extraClaimsSupported) ?? [],
    signingKeys,
  });
  return { openid, addedKey };
}
