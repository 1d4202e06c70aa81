/**
 * `options.grants`: extension grants (RFC 6749 §4.5), grant types of the app's own named by
 * absolute URIs. Their public shape, and its one-time validation at start-up.
 * @packageDocumentation
 */
import type { ClientAuthMethodName } from '../clients/methods';
import { checkFunction, checkKnownKeys, configError, isPlainObject } from '../core/config';
import type { Params } from '../core/http';
import type { Client } from '../stores/types';

/** What an extension grant's handler is given: the request, once its client is authenticated. */
export interface ExtensionGrantRequest {
  /** The grant type (the `grant_type` parameter): the URI the handler is registered under. */
  readonly grantType: string;
  /** Every parameter of the token request, each given once (client credentials included). */
  readonly params: Params;
  /** The authenticated client; it lists this grant type. */
  readonly client: Client;
  /**
   * How the client authenticated. `'none'` is a public client, which proved nothing about
   * itself: refuse it (`UnauthorizedClient`) if your grant is for confidential clients only.
   */
  readonly clientAuthMethod: ClientAuthMethodName;
  /**
   * The scopes the client may get for this request: the requested `scope` (every one among the
   * client's scopes, else `invalid_scope` before the handler runs) or the client's defaults.
   */
  readonly scopes: readonly string[];
  /** The resources (RFC 8707 `resource` parameters) the token is for, already checked; empty when none. */
  readonly resources: readonly string[];
}

/** What an extension grant's handler returns: whom the token is for, and what to issue. */
export interface ExtensionGrantResult {
  /** The token's `sub`: a user id, or the client id when the client acts for itself. */
  subject: string;
  /**
   * The user who granted the token, when there is one (usually `subject`). A refresh checks
   * the user store's `findUser` for this id, as for the other grants.
   */
  userId?: string;
  /** The scopes to issue when the grant narrows them (e.g. to what an assertion allows); each one of `request.scopes`. Default: `request.scopes`. */
  scopes?: readonly string[];
  /** Issue a refresh token too, if the client also has the `refresh_token` grant. Default false. */
  refreshToken?: boolean;
}

/**
 * Decides an extension grant's token request: check the grant's own parameters (an assertion,
 * a ticket), and return whom the token is for, or throw an `OAuthError` (`InvalidGrant` for a
 * bad credential, `InvalidRequest` for a missing parameter), rendered as for every grant.
 */
export type ExtensionGrantHandler = (
  request: ExtensionGrantRequest,
) => ExtensionGrantResult | Promise<ExtensionGrantResult>;

/**
 * An extension grant with the hooks a built-in grant has: checks that need no client, and the
 * credential limits its handler runs under.
 *
 * @example
 * ```ts
 * const samlBearer: ExtensionGrant = {
 *   validate(params) {
 *     if (!params.assertion) throw new InvalidRequest('The "assertion" parameter is required.');
 *   },
 *   async handle({ params }) {
 *     const user = await verifySamlAssertion(params.assertion); // throws InvalidGrant
 *     return { subject: user.id, userId: user.id };
 *   },
 * };
 * ```
 */
export interface ExtensionGrant {
  /** The handler (see {@link ExtensionGrantHandler}). */
  handle: ExtensionGrantHandler;
  /**
   * Checks of the request's own parameters that need no client (a missing or malformed
   * parameter): they run before the client is looked up or a limit reserved, so a malformed
   * request costs nothing. Throw an `OAuthError` (`InvalidRequest`).
   */
  validate?(params: Params): void;
  /**
   * The brute-force limits the handler runs under, as for the password grant: with
   * `username(params)`, every `invalid_grant` the handler throws counts against that identifier
   * (per address, and slowed globally; see `options.bruteForce`).
   */
  limits?: { username?(params: Params): string | undefined };
}

/**
 * `options.grants`: extension grants by grant type, each an absolute URI (RFC 6749 §4.5) that
 * is not a built-in grant type. A client uses one by listing it in its `grants`; the metadata
 * advertises each in `grant_types_supported`.
 *
 * @example
 * ```ts
 * oauthServer(stores, {
 *   issuer,
 *   grants: {
 *     'urn:example:grant-type:api-key': async ({ params, client }) => {
 *       const owner = await apiKeys.owner(params.api_key); // undefined if unknown
 *       if (!owner) throw new InvalidGrant('The API key is not valid.');
 *       return { subject: owner.id, userId: owner.id };
 *     },
 *   },
 * });
 * ```
 */
export type ExtensionGrants = Readonly<Record<string, ExtensionGrantHandler | ExtensionGrant>>;

/** The built-in grant types, which an extension may not take over. */
export const BUILT_IN_GRANT_TYPES: readonly string[] = Object.freeze([
  'authorization_code',
  'client_credentials',
  'password',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:device_code',
]);

// RFC 3986 §4.3 absolute-URI: a scheme, ":", and printable ASCII without a fragment; nothing
// that would need quoting in the error messages and metadata it appears in.
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Where the messages about `options.grants` say the mistake is. */
export const GRANTS_AT = 'oauthServer: options.grants';
const AT = GRANTS_AT;

function checkGrantType(type: string): void {
  if (BUILT_IN_GRANT_TYPES.includes(type)) {
    configError(
      'ERR_TOKENGATE_GRANT',
      `${AT} must not redefine the built-in grant type "${type}"; turn it on with its own option instead.`,
    );
  }
  if (!ABSOLUTE_URI.test(type) || type.includes('#')) {
    configError(
      'ERR_TOKENGATE_GRANT',
      `${AT}: "${type.slice(0, 80)}" is not an absolute URI; an extension grant type is one (RFC 6749 §4.5), e.g. "urn:example:grant-type:saml2-bearer".`,
    );
  }
}

function checkDefinition(type: string, value: unknown): ExtensionGrant {
  const at = `${AT}["${type}"]`;
  if (typeof value === 'function') return { handle: value as ExtensionGrantHandler };
  if (!isPlainObject(value) || typeof value.handle !== 'function') {
    configError(
      'ERR_TOKENGATE_GRANT',
      `${at} must be a handler function ({ params, client, scopes }) => ({ subject }), or { handle, validate?, limits? }.`,
    );
  }
  checkKnownKeys(at, value, ['handle', 'validate', 'limits']);
  checkFunction(`${at}.validate`, value.validate, undefined, '(params) that throws an OAuthError');
  if (value.limits !== undefined) {
    if (!isPlainObject(value.limits)) configError('ERR_TOKENGATE_GRANT', `${at}.limits must be { username?(params) }.`);
    checkKnownKeys(`${at}.limits`, value.limits, ['username']);
    checkFunction(
      `${at}.limits.username`,
      value.limits.username,
      undefined,
      '(params) returning the identifier to count',
    );
  }
  return value as unknown as ExtensionGrant;
}

/** Validate `options.grants` once, at start-up: the grants by type (empty without the option). */
export function resolveExtensionGrants(value: unknown): ReadonlyMap<string, ExtensionGrant> {
  if (value === undefined) return new Map();
  if (!isPlainObject(value))
    configError('ERR_TOKENGATE_GRANT', `${AT} must be an object of handlers by grant type URI.`);
  const grants = new Map<string, ExtensionGrant>();
  for (const [type, definition] of Object.entries(value)) {
    checkGrantType(type);
    grants.set(type, Object.freeze({ ...checkDefinition(type, definition) }));
  }
  return grants;
}
