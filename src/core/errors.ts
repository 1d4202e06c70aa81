/**
 * OAuth errors as values. Each rule throws the error where the RFC states it; one renderer
 * (`src/http/respond.ts`) turns any of them into the RFC's JSON body, status and headers.
 * @packageDocumentation
 */

/**
 * An error with an OAuth `error` code (RFC 6749 §5.2, RFC 6750 §3.1) and an HTTP status.
 *
 * @example
 * ```ts
 * throw new InvalidGrant('The refresh token is invalid, expired or revoked.');
 * ```
 */
export class OAuthError extends Error {
  /** The OAuth `error` code sent to the client. */
  readonly error: string;
  /** The HTTP status code sent to the client. */
  readonly status: number;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Allow`, `Retry-After`). */
  readonly headers: Record<string, string>;

  /**
   * @param error - the OAuth error code
   * @param description - human-readable text for the developer of the client; never secret
   * @param status - HTTP status
   * @param headers - extra response headers
   */
  constructor(error: string, description: string, status = 400, headers: Record<string, string> = {}) {
    super(description);
    this.name = new.target.name;
    this.error = error;
    this.status = status;
    this.headers = headers;
  }

  /**
   * The JSON body of the error response: `{ error, error_description }`, without `error` when
   * there is no code (a request that carried no token at all, RFC 6750 §3.1).
   */
  toJSON(): OAuthErrorBody {
    return this.error === ''
      ? { error_description: this.message }
      : { error: this.error, error_description: this.message };
  }
}

/** The JSON body of an OAuth error response (RFC 6749 §5.2, RFC 6750 §3). */
export interface OAuthErrorBody {
  /** The error code; absent only when a request carried no token at all (RFC 6750 §3.1). */
  error?: string;
  /** Human-readable text for the client's developer; never secret. */
  error_description: string;
}

/** `invalid_request` (400): a missing, repeated or malformed parameter (RFC 6749 §5.2). */
export class InvalidRequest extends OAuthError {
  constructor(description: string, status = 400, headers: Record<string, string> = {}) {
    super('invalid_request', description, status, headers);
  }
}

/** `invalid_client` (401): client authentication failed (RFC 6749 §5.2). */
export class InvalidClient extends OAuthError {
  constructor(description = 'Client authentication failed.', headers: Record<string, string> = {}) {
    super('invalid_client', description, 401, headers);
  }
}

/** `invalid_grant` (400): the grant or refresh token is invalid, expired, revoked or not this client's. */
export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description, 400);
  }
}

/** `unauthorized_client` (400): this client may not use this grant type. */
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description, 400);
  }
}

/** `unsupported_grant_type` (400): the server does not support the grant type. */
export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description, 400);
  }
}

/** `invalid_scope` (400): the scope is malformed, unknown or beyond what was granted. */
export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description, 400);
  }
}

/** `server_error` (500): something failed inside the server; the description is always generic. */
export class ServerError extends OAuthError {
  constructor(description = 'The server could not handle the request; try again later.') {
    super('server_error', description, 500);
  }
}

/** `temporarily_unavailable` (503): a dependency (e.g. the token store) is unreachable. */
export class TemporarilyUnavailable extends OAuthError {
  constructor(
    description = 'The server is temporarily unavailable; try again later.',
    headers: Record<string, string> = {},
  ) {
    super('temporarily_unavailable', description, 503, headers);
  }
}

/**
 * Too many failed attempts (429 Too Many Requests, RFC 6585 §4) with `Retry-After`. OAuth
 * defines no error code for throttling, so the body uses `temporarily_unavailable`: the
 * registered code (RFC 6749 §4.1.2.1) that means "cannot handle this now, try later", which
 * neither blames the credentials (`invalid_grant`/`invalid_client` would tell a user whose
 * password is right that it is wrong) nor the request's syntax (`invalid_request`). RFC 8628's
 * `slow_down` is not used: it is a device-flow polling signal that clients answer by polling
 * on. The 429 status and `Retry-After` carry the precise meaning.
 */
export class TooManyRequests extends OAuthError {
  /** @param retryAfterSeconds - whole seconds until the client may try again (at least 1) */
  constructor(retryAfterSeconds: number, description = 'Too many failed attempts; try again later.') {
    super('temporarily_unavailable', description, 429, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}

/** `access_denied`: the user (or the app on their behalf) refused the authorization request (RFC 6749 §4.1.2.1). */
export class AccessDenied extends OAuthError {
  constructor(description = 'The user denied the request.') {
    super('access_denied', description, 400);
  }
}

/** `unsupported_response_type`: the authorization endpoint does not issue this `response_type` (RFC 6749 §4.1.2.1). */
export class UnsupportedResponseType extends OAuthError {
  constructor(description: string) {
    super('unsupported_response_type', description, 400);
  }
}

/**
 * `invalid_target` (400): the requested resource is invalid, unknown, or not one this client
 * may get a token for (RFC 8707 §2).
 */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description, 400);
  }
}

/** `invalid_token` (401): the bearer token is malformed, expired, revoked or not ours (RFC 6750 §3.1). */
export class InvalidToken extends OAuthError {
  constructor(description = 'The access token is invalid, expired or revoked.') {
    super('invalid_token', description, 401);
  }
}

/**
 * 401 without an error code: the request carried no access token at all. RFC 6750 §3.1 says
 * the challenge then names no error, so `error` is empty and the body has none; the
 * `WWW-Authenticate` header (set by the guard) tells the client how to authenticate.
 */
export class TokenRequired extends OAuthError {
  constructor(description = 'An access token is required.', headers: Record<string, string> = {}) {
    super('', description, 401, headers);
  }
}

/**
 * `insufficient_scope` (403): the token is valid but does not grant this request: it lacks a
 * scope the resource requires, or fails the route's own check (RFC 6750 §3.1).
 */
export class InsufficientScope extends OAuthError {
  /** The scopes a token needs here, for the challenge's `scope` attribute; empty: none is named. */
  readonly requiredScope: readonly string[];
  /**
   * @param requiredScope - the scopes a token needs here (named in the challenge)
   * @param description - the text for the client's developer; default: names the scopes
   */
  constructor(requiredScope: readonly string[], description?: string) {
    super(
      'insufficient_scope',
      description ?? `The access token lacks a required scope (${requiredScope.join(' ')}).`,
      403,
    );
    this.requiredScope = requiredScope;
  }
}

/**
 * Whether `value` is an {@link OAuthError}. Anything else thrown while handling a request
 * (a store that fails, a bug) is rendered as a generic `server_error` and its cause logged.
 * With `errors: 'next'`, what reaches the app's error handler is always an `OAuthError`.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => {
 *   if (!isOAuthError(err)) return next(err);
 *   res.status(err.status).set(err.headers).json(err.toJSON());
 * });
 * ```
 */
export function isOAuthError(value: unknown): value is OAuthError {
  return value instanceof OAuthError;
}

/**
 * `invalid_dpop_proof` (RFC 9449 §5, §7.1): the DPoP proof is missing, malformed, replayed or
 * does not match the request; 400 at the token endpoint, 401 at a resource.
 */
export class InvalidDpopProof extends OAuthError {
  constructor(description: string, status = 400, headers: Record<string, string> = {}) {
    super('invalid_dpop_proof', description, status, headers);
  }
}

/**
 * `use_dpop_nonce` (RFC 9449 §8, §9): the server requires a nonce in the DPoP proof; the
 * `DPoP-Nonce` header carries the one to use.
 */
export class UseDpopNonce extends OAuthError {
  constructor(nonce: string, status = 400, headers: Record<string, string> = {}) {
    super(
      'use_dpop_nonce',
      'The DPoP proof must carry the nonce this server provides in the DPoP-Nonce header (RFC 9449 §8).',
      status,
      { ...headers, 'DPoP-Nonce': nonce },
    );
  }
}
