/**
 * Server options: their types, defaults, and the one-time validation whose messages tell the
 * developer what to change. Nothing on the request path checks options again.
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  resolveClientAssertions,
  type ClientAssertionOptions,
  type ResolvedClientAssertions,
} from './clients/assertion-options';
import type { ClientIdMetadataDocumentOptions } from './clients/metadata-document';
import {
  checkFunction,
  checkHttpsUrl,
  checkKnownKeys,
  checkLogger,
  checkNumber,
  configError,
  isPlainObject,
} from './core/config';
import { consoleLogger, publishingLogger, type Logger } from './core/logging';
import { SCOPE_TOKEN } from './core/scopes';
import { resolveDeviceOptions, type DeviceAuthorizationOptions, type ResolvedDeviceOptions } from './device/options';
import { resolveDpop, type DpopOptions, type ResolvedDpop } from './dpop/options';
import type { AuthorizeHooks, PkceOptions } from './endpoints/authorize-hooks';
import {
  resolvePasswordGrant,
  type PasswordGrantOptions,
  type ResolvedPasswordGrantOptions,
} from './grants/password-options';
import { checkTokenExchange, type TokenExchangeOptions } from './grants/token-exchange-options';
import { DEFAULT_BODY_TIMEOUT_MS } from './http/body';
import { resolveCors, type CorsOptions, type CorsPolicy } from './http/cors';
import { resolveBruteForce, type BruteForceGuard, type BruteForceOptions } from './limits/brute-force';
import { resolveOpenId, type OpenIdOptions, type ResolvedOpenId } from './oidc/options';
import type { RegistrationOptions } from './registration/options';
import { resolveResources, type ResourceOptions, type ResourceRegistry } from './resources/indicators';
import { ephemeralKey, resolveKey, type KeyInput, type ResolvedKey } from './tokens/keys';

export type { Logger };
export { consoleLogger };

/** Options for `requireToken()` on a server (see {@link RequireTokenOptions}). */
export interface CacheOptions {
  /** Most token lookups kept in the LRU cache. Default 10 000; 0 turns the cache off. */
  max?: number;
  /** Longest time (seconds) a lookup stays cached, whatever the token's own expiry. Default: until `exp`. */
  maxAge?: number;
  /**
   * Seconds the cache keeps serving what it holds after a shared token store (e.g.
   * `redisTokenStore`) reports that it can no longer hear revocations from other instances
   * (`reset: 'lost'`, e.g. Redis is down). Default 0: the cache is dropped at once, so every
   * request is checked against the store and gets 503 `temporarily_unavailable` while it is
   * unreachable. A positive value trades up to that many seconds of missed revocations for
   * availability. Nothing new is cached until the store is back.
   */
  staleIfUnavailable?: number;
}

/**
 * Options for {@link oauthServer}. `Req` and `Res` are the request and response types the
 * hooks (`authorize`, `openid.logout`) receive: Node's own by default, Express's when
 * `oauthServer` comes from `tokengate/express`.
 *
 * @example
 * ```ts
 * oauthServer(stores, {
 *   issuer: 'https://auth.example.com',
 *   keys: [{ alg: 'ES256', privateKey: readFileSync('es256.pem', 'utf8') }],
 *   accessTokenLifetime: 900,
 * });
 * ```
 */
export interface ServerOptions<Req = IncomingMessage, Res = ServerResponse> {
  /** The issuer identifier (RFC 8414 §2): an `https` URL without query or fragment (`http` only for localhost). */
  issuer: string;
  /** The `aud` claim of access tokens. Default: the issuer. */
  audience?: string | string[];
  /** Signing keys; the first that can sign signs, all verify. Default: an ephemeral ES256 key (with a warning). */
  keys?: KeyInput[];
  /** `'jwt'` (default, RFC 9068) or `'opaque'` (random, stored hashed in the token store). */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenLifetime?: number;
  /** Refresh token lifetime in seconds. Default 1 209 600 (14 days). */
  refreshTokenLifetime?: number;
  /** Path of the token endpoint, relative to where the middleware is mounted. Default `/oauth/token`. */
  tokenPath?: string;
  /**
   * Seconds after a refresh token was rotated during which the same client presenting it
   * again, before it used the successor, is answered like the first time (a fresh access
   * token and the same successor refresh token: derived, not a second one) instead of having
   * its grant revoked. Default 0: strict rotation, except that a retry within
   * `REFRESH_RETRY_SECONDS` (10) seconds whose first attempt never saved the successor (its
   * reply was lost after the store rotated the token) completes that attempt.
   * See docs/refresh-rotation.md.
   */
  refreshTokenReuseInterval?: number;
  /** Most times one refresh token is answered again within its reuse window; the next is a replay. Default 3. */
  refreshTokenReuseLimit?: number;
  /** The `realm` in `WWW-Authenticate` challenges. Default: the issuer. */
  realm?: string;
  /** Largest accepted request body in bytes (form or multipart). Default 16 384. */
  maxBodyBytes?: number;
  /** Seconds of clock skew tolerated when verifying tokens. Default 0. */
  clockTolerance?: number;
  /** Defaults for every `requireToken()` cache of this server. */
  cache?: CacheOptions;
  /** Where warnings and the causes of `server_error` go. Default: `console`. */
  logger?: Logger;
  /**
   * Turns on the authorization code flow (RFC 6749 §4.1): the authorize endpoint and the
   * `authorization_code` grant. The hooks say who is signed in and whether they consent;
   * see {@link AuthorizeHooks}. Without it neither exists.
   */
  authorize?: AuthorizeHooks<Req, Res>;
  /** Path of the authorization endpoint, relative to where the middleware is mounted. Default `/oauth/authorize`. */
  authorizePath?: string;
  /** Authorization code lifetime in seconds; at most 600 (RFC 6749 §4.1.2). Default 60. */
  authorizationCodeLifetime?: number;
  /** PKCE policy: S256 only and required for public clients unless changed here. */
  pkce?: PkceOptions;
  /** Path of the revocation endpoint (RFC 7009), relative to where the middleware is mounted. Default `/oauth/revoke`. */
  revocationPath?: string;
  /** Path of the introspection endpoint (RFC 7662), relative to where the middleware is mounted. Default `/oauth/introspect`. */
  introspectionPath?: string;
  /** Path of the JWK Set with the public signing keys (RFC 7517), relative to where the middleware is mounted. Default `/oauth/jwks`. */
  jwksPath?: string;
  /**
   * Scopes advertised as `scopes_supported` in the metadata document (RFC 8414 §2). Clients
   * keep their own scope lists; this is only what discovery shows. Default: not advertised.
   */
  scopesSupported?: string[];
  /**
   * Limits on failed attempts at the token endpoint, per username, client id and remote
   * address (see {@link BruteForceOptions} for the defaults, and `trust proxy`). `false` turns
   * them all off.
   */
  bruteForce?: BruteForceOptions | false;
  /** Seconds a request body may take to arrive in full before the answer is 408 and the connection closes. Default 10. */
  bodyTimeout?: number;
  /** Lets browser clients on other origins call the token, revocation and metadata endpoints. Default: off. */
  cors?: CorsOptions;
  /** The password grant: only confidential clients unless `allowPublicClients` (RFC 9700 §2.4). */
  passwordGrant?: PasswordGrantOptions;
  /**
   * Turns on OpenID Connect (needs `authorize`): ID tokens, UserInfo, discovery and logout.
   * See {@link OpenIdOptions} and docs/openid-connect.md.
   */
  openid?: OpenIdOptions<Req, Res>;
  /**
   * Turns on token exchange (RFC 8693) for clients that list its grant type; the policy
   * decides who may exchange what for whom. Default: off. See docs/token-exchange.md.
   */
  tokenExchange?: TokenExchangeOptions;
  /**
   * Turns on the device authorization grant (RFC 8628): the device authorization endpoint and
   * the device code grant; the app's verification page uses `oauth.device`. Default: off.
   * See docs/device-flow.md.
   */
  deviceAuthorization?: DeviceAuthorizationOptions;
  /**
   * The protected resources this server issues tokens for, by resource URI (RFC 8707): a
   * client names one with the `resource` parameter and gets a token whose `aud` is that URI.
   * Any other `resource` is `invalid_target`. A request that names none gets the default
   * `audience`, as before.
   */
  resources?: Record<string, ResourceOptions>;
  /**
   * Dynamic client registration (RFC 7591) and management (RFC 7592): who may register, at
   * which path. Default: closed (no registration endpoint). Needs a client store with
   * `registerClient`, `updateClient` and `deleteClient`.
   */
  registration?: RegistrationOptions;
  /**
   * Client ID metadata documents: a `client_id` that is an https URL is resolved by fetching
   * that document (SSRF-safe, bounded, cached per its HTTP caching headers within bounds) and
   * treated as a public client. `true` for the defaults. Default: off.
   */
  clientIdMetadataDocuments?: boolean | ClientIdMetadataDocumentOptions;
  /** DPoP (RFC 9449): proof algorithms, lifetime, nonces, public origins (see docs/dpop.md). Proofs are always accepted. */
  dpop?: DpopOptions;
  /** private_key_jwt / client_secret_jwt (RFC 7523): accepted algorithms, assertion lifetime, jwks_uri fetching (see docs/client-authentication.md). */
  clientAssertions?: ClientAssertionOptions;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly keys: readonly ResolvedKey[];
  readonly signingKey: ResolvedKey;
  readonly accessTokenFormat: 'jwt' | 'opaque';
  readonly accessTokenLifetime: number;
  readonly refreshTokenLifetime: number;
  readonly tokenPath: string;
  /**
   * When a rotated refresh token presented again is a retry (answered) rather than a replay:
   * within `window` seconds, at most `limit` times; with `grace`, also once the successor exists.
   */
  readonly refreshReuse: { readonly window: number; readonly limit: number; readonly grace: boolean };
  readonly realm: string;
  readonly maxBodyBytes: number;
  readonly clockTolerance: number;
  readonly cache: Required<CacheOptions> & { maxAge: number };
  readonly logger: Logger;
  readonly authorize: AuthorizeHooks | undefined;
  readonly authorizePath: string;
  readonly authorizationCodeLifetime: number;
  readonly pkce: Readonly<Required<PkceOptions>>;
  readonly revocationPath: string;
  readonly introspectionPath: string;
  readonly jwksPath: string;
  readonly scopesSupported: readonly string[] | undefined;
  readonly bruteForce: BruteForceGuard | undefined;
  readonly bodyTimeoutMs: number;
  readonly dpop: ResolvedDpop;
  readonly clientAssertions: ResolvedClientAssertions;
  readonly cors: CorsPolicy | undefined;
  readonly passwordGrant: ResolvedPasswordGrantOptions;
  /** OpenID Connect, when on. */
  readonly openid: ResolvedOpenId | undefined;
  readonly tokenExchange: TokenExchangeOptions | undefined;
  readonly deviceAuthorization: ResolvedDeviceOptions | undefined;
  readonly resources: ResourceRegistry;
}

const AT = 'oauthServer: options';

/** Every key of {@link ServerOptions}; anything else is refused at start-up ("did you mean"). */
export const SERVER_OPTION_NAMES = [
  'issuer',
  'audience',
  'keys',
  'accessTokenFormat',
  'accessTokenLifetime',
  'refreshTokenLifetime',
  'tokenPath',
  'realm',
  'maxBodyBytes',
  'clockTolerance',
  'cache',
  'logger',
  'authorize',
  'authorizePath',
  'authorizationCodeLifetime',
  'pkce',
  'revocationPath',
  'introspectionPath',
  'jwksPath',
  'scopesSupported',
  'bruteForce',
  'bodyTimeout',
  'cors',
  'refreshTokenReuseInterval',
  'refreshTokenReuseLimit',
  'tokenExchange',
  'deviceAuthorization',
  'passwordGrant',
  'openid',
  'resources',
  'registration',
  'clientIdMetadataDocuments',
  'dpop',
  'clientAssertions',
] as const;
// A new option must be listed above (or it would be refused as unknown): checked at compile time.
type Unlisted = Exclude<keyof ServerOptions, (typeof SERVER_OPTION_NAMES)[number]>;
const everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOptionListed;

const positive = (name: string, value: unknown, fallback: number, unit = 'seconds or bytes'): number =>
  checkNumber(`${AT}.${name}`, value, fallback, { integer: true, min: 1, unit });
const zeroOrMore = (name: string, value: unknown, fallback: number): number =>
  checkNumber(`${AT}.${name}`, value, fallback, { integer: true, unit: 'seconds' });

/**
 * Seconds within which, at `refreshTokenReuseInterval: 0`, a retry completes a refresh whose
 * first attempt rotated the token but never saved the successor (a 5xx after the consume):
 * a client retries such a failure within seconds.
 */
export const REFRESH_RETRY_SECONDS = 10;

function refreshReuse(options: ServerOptions): { window: number; limit: number; grace: boolean } {
  const interval = zeroOrMore('refreshTokenReuseInterval', options.refreshTokenReuseInterval, 0);
  const limit = positive('refreshTokenReuseLimit', options.refreshTokenReuseLimit, 3, 'answers');
  return Object.freeze({ window: interval === 0 ? REFRESH_RETRY_SECONDS : interval, limit, grace: interval > 0 });
}

// Goes into `WWW-Authenticate` as a quoted-string: printable ASCII without `"` or `\`, so a
// header can never be refused (which would otherwise surface on the first failed request).
function checkRealm(realm: unknown, fallback: string): string {
  if (realm === undefined) return fallback;
  if (typeof realm !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(realm)) {
    configError(
      'ERR_TOKENGATE_REALM',
      `${AT}.realm must be printable ASCII without quotes or backslashes (got ${JSON.stringify(realm)}).`,
    );
  }
  return realm;
}

function checkPath(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    configError(
      'ERR_TOKENGATE_PATH',
      `${AT}.${name} must be a path starting with "/" and without query (got ${String(value)}).`,
    );
  }
  return value;
}

function checkAuthorize(hooks: unknown): AuthorizeHooks | undefined {
  if (hooks === undefined) return undefined;
  const h = hooks as Partial<AuthorizeHooks> | null;
  if (!h || typeof h !== 'object' || typeof h.authenticate !== 'function') {
    configError(
      'ERR_TOKENGATE_TYPE',
      `${AT}.authorize must be { authenticate(req, res), consent?(req, res, info) }; authenticate returns the signed-in user or responds itself.`,
    );
  }
  checkKnownKeys(`${AT}.authorize`, h, ['authenticate', 'consent']);
  checkFunction(
    `${AT}.authorize.consent`,
    h.consent,
    undefined,
    '(req, res, { client, user, scopes }) returning true, false or undefined',
  );
  return h as AuthorizeHooks;
}

function checkPkce(pkce: unknown): Required<PkceOptions> {
  if (pkce === undefined) return { requireForAll: false, allowPlain: false };
  if (!isPlainObject(pkce))
    configError('ERR_TOKENGATE_TYPE', `${AT}.pkce must be { requireForAll?: boolean, allowPlain?: boolean }.`);
  checkKnownKeys(`${AT}.pkce`, pkce, ['requireForAll', 'allowPlain']);
  for (const name of ['requireForAll', 'allowPlain'] as const) {
    if (pkce[name] !== undefined && typeof pkce[name] !== 'boolean')
      configError('ERR_TOKENGATE_TYPE', `${AT}.pkce.${name} must be true or false (got ${String(pkce[name])}).`);
  }
  return { requireForAll: pkce.requireForAll === true, allowPlain: pkce.allowPlain === true };
}

// Two endpoints on one path would leave one unreachable; the metadata path is fixed by RFC 8414.
function checkDistinctPaths(paths: Record<string, string>): void {
  const seen = new Map<string, string>();
  for (const [name, path] of Object.entries(paths)) {
    const other = seen.get(path);
    if (other !== undefined)
      configError('ERR_TOKENGATE_PATH', `${AT}.${other} and options.${name} must differ (both are "${path}").`);
    if (path.startsWith('/.well-known/'))
      configError(
        'ERR_TOKENGATE_PATH',
        `${AT}.${name} must not be under /.well-known/ (got "${path}"); that space belongs to RFC 8414 metadata.`,
      );
    seen.set(path, name);
  }
}

function checkScopesSupported(scopes: unknown): readonly string[] | undefined {
  if (scopes === undefined) return undefined;
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))) {
    configError(
      'ERR_TOKENGATE_SCOPE',
      `${AT}.scopesSupported must be an array of scope tokens such as ["read", "write"] (RFC 6749 §3.3).`,
    );
  }
  return Object.freeze([...new Set(scopes as string[])]);
}

function checkBodyTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_BODY_TIMEOUT_MS;
  return Math.ceil(
    checkNumber(`${AT}.bodyTimeout`, value, 0, { exclusiveMin: true, max: 3600, unit: 'seconds' }) * 1000,
  );
}

function checkCache(cache: unknown): ResolvedOptions['cache'] {
  if (cache !== undefined && !isPlainObject(cache))
    configError('ERR_TOKENGATE_TYPE', `${AT}.cache must be { max?, maxAge?, staleIfUnavailable? }.`);
  const c = (cache ?? {}) as CacheOptions;
  checkKnownKeys(`${AT}.cache`, c, ['max', 'maxAge', 'staleIfUnavailable']);
  return {
    max: checkNumber(`${AT}.cache.max`, c.max, 10_000, { integer: true }),
    maxAge: zeroOrMore('cache.maxAge', c.maxAge, Infinity),
    staleIfUnavailable:
      c.staleIfUnavailable === 0 ? 0 : positive('cache.staleIfUnavailable', c.staleIfUnavailable, 0, 'seconds'),
  };
}

function checkKeys(inputs: unknown, logger: Logger): { keys: ResolvedKey[]; signingKey: ResolvedKey } {
  let keyInputs = inputs;
  if (keyInputs === undefined || (Array.isArray(keyInputs) && keyInputs.length === 0)) {
    logger.warn(
      'No signing keys configured: using an ephemeral ES256 key. Tokens will not survive a restart or be accepted by other instances; set options.keys.',
    );
    keyInputs = [ephemeralKey()];
  }
  if (!Array.isArray(keyInputs))
    configError('ERR_TOKENGATE_TYPE', `${AT}.keys must be an array of { alg, privateKey | publicKey | secret }.`);
  const keys = (keyInputs as KeyInput[]).map(resolveKey);
  const kids = new Set<string>();
  for (const key of keys) {
    if (kids.has(key.kid))
      configError('ERR_TOKENGATE_KEY', `oauthServer: two keys share kid "${key.kid}"; every key needs its own kid.`);
    kids.add(key.kid);
  }
  const signingKey = keys.find((key) => key.signKey !== undefined);
  if (!signingKey)
    configError(
      'ERR_TOKENGATE_NO_SIGNING_KEY',
      `${AT}.keys has no key that can sign; the first key with a privateKey or secret signs.`,
    );
  return { keys, signingKey };
}

function checkAudience(audience: unknown): string | readonly string[] {
  if (
    typeof audience !== 'string' &&
    !(Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string'))
  ) {
    configError('ERR_TOKENGATE_TYPE', `${AT}.audience must be a string or a non-empty array of strings.`);
  }
  return audience;
}

/** Validate options once, at start-up. Throws with a message that says what to change. */
export function resolveOptions(options: ServerOptions): ResolvedOptions {
  if (!isPlainObject(options))
    configError(
      'ERR_TOKENGATE_OPTIONS_REQUIRED',
      'oauthServer(stores, options): options with at least { issuer } are required.',
    );
  checkKnownKeys(AT, options, SERVER_OPTION_NAMES);
  const issuer = checkHttpsUrl(`${AT}.issuer`, options.issuer, { issuer: true, rfc: 'RFC 8414 §2' });
  const logger = publishingLogger(checkLogger(`${AT}.logger`, options.logger ?? consoleLogger));
  const checked = checkKeys(options.keys, logger);
  const { signingKey } = checked;
  let keys = checked.keys;

  const format = options.accessTokenFormat ?? 'jwt';
  if (format !== 'jwt' && format !== 'opaque')
    configError('ERR_TOKENGATE_CHOICE', `${AT}.accessTokenFormat must be "jwt" or "opaque" (got ${String(format)}).`);

  const codeLifetime = positive('authorizationCodeLifetime', options.authorizationCodeLifetime, 60, 'seconds');
  if (codeLifetime > 600) {
    configError(
      'ERR_TOKENGATE_NUMBER',
      `${AT}.authorizationCodeLifetime is at most 600 seconds (RFC 6749 §4.1.2 recommends 10 minutes at most; got ${codeLifetime}).`,
    );
  }
  const tokenPath = checkPath('tokenPath', options.tokenPath, '/oauth/token');
  const authorizePath = checkPath('authorizePath', options.authorizePath, '/oauth/authorize');
  const revocationPath = checkPath('revocationPath', options.revocationPath, '/oauth/revoke');
  const introspectionPath = checkPath('introspectionPath', options.introspectionPath, '/oauth/introspect');
  const jwksPath = checkPath('jwksPath', options.jwksPath, '/oauth/jwks');
  const authorize = checkAuthorize(options.authorize);
  // OpenID Connect may add an RS256 key for ID tokens (OIDC Core §15.1); it verifies and is published like the others.
  const oidc = resolveOpenId(options.openid, keys, logger, authorize !== undefined);
  if (oidc?.addedKey) keys = [...keys, oidc.addedKey];
  const oidcPaths = oidc
    ? {
        'openid.userinfoPath': oidc.openid.userinfoPath,
        ...(oidc.openid.logout && { 'openid.endSessionPath': oidc.openid.endSessionPath }),
      }
    : {};
  checkDistinctPaths({ tokenPath, authorizePath, revocationPath, introspectionPath, jwksPath, ...oidcPaths });

  return Object.freeze({
    issuer,
    audience: checkAudience(options.audience ?? issuer),
    keys,
    signingKey,
    accessTokenFormat: format,
    accessTokenLifetime: positive('accessTokenLifetime', options.accessTokenLifetime, 3600),
    refreshTokenLifetime: positive('refreshTokenLifetime', options.refreshTokenLifetime, 14 * 24 * 3600),
    tokenPath,
    realm: checkRealm(options.realm, issuer),
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes, 16 * 1024),
    clockTolerance: zeroOrMore('clockTolerance', options.clockTolerance, 0),
    cache: checkCache(options.cache),
    logger,
    authorize,
    authorizePath,
    authorizationCodeLifetime: codeLifetime,
    pkce: Object.freeze(checkPkce(options.pkce)),
    revocationPath,
    introspectionPath,
    jwksPath,
    scopesSupported: checkScopesSupported(options.scopesSupported),
    bruteForce: resolveBruteForce(options.bruteForce, logger),
    bodyTimeoutMs: checkBodyTimeout(options.bodyTimeout),
    cors: resolveCors(options.cors),
    refreshReuse: refreshReuse(options),
    tokenExchange: checkTokenExchange(options.tokenExchange),
    deviceAuthorization: resolveDeviceOptions(options.deviceAuthorization, issuer),
    passwordGrant: resolvePasswordGrant(options.passwordGrant, logger),
    openid: oidc?.openid,
    resources: resolveResources(options.resources),
    dpop: resolveDpop('oauthServer', options.dpop, [new URL(issuer).origin]),
    clientAssertions: resolveClientAssertions(options.clientAssertions),
  });
}
