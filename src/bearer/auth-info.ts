/**
 * What `requireToken` puts on `req.auth`.
 * @packageDocumentation
 */

/**
 * The validated access token of a request, as `req.auth`; read it typed with
 * {@link getAuth}.
 *
 * @example
 * ```ts
 * app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
 *   const { sub, scope } = getAuth(req);
 *   res.json({ sub, scope });
 * });
 * ```
 */
export interface AuthInfo {
  /** The raw access token (never log it). */
  token: string;
  /** The subject: a user id, or the client id for client_credentials tokens. */
  sub: string;
  /** The client the token was issued to. */
  clientId: string;
  /** The granted scopes. */
  scope: readonly string[];
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
  /** All claims of a JWT access token, or the equivalent fields of an opaque one. */
  claims: Readonly<Record<string, unknown>>;
}

/**
 * A validated token as the cache keeps it: everything of {@link AuthInfo} but the raw token,
 * plus the ids a revocation may name.
 */
export interface ValidatedToken {
  readonly sub: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly expiresAt: number;
  readonly claims: Readonly<Record<string, unknown>>;
  /** Ids whose revocation kills this token: its jti or record id, and its family id. */
  readonly revocationIds: readonly string[];
}

/** Turns a raw token into a {@link ValidatedToken}, or throws `InvalidToken`. */
export type TokenValidator = (token: string) => Promise<ValidatedToken>;
