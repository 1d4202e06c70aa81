/**
 * `getAuth(req)`: the validated token of a request, typed, without declaring anything on a
 * framework's global request type (where another library may already own `req.auth`).
 * @packageDocumentation
 */
import type { AuthInfo } from './auth-info';

/** The second argument of {@link getAuth}. */
export interface GetAuthOptions {
  /**
   * `true` on a route where a token is optional (a guard that lets requests without one
   * through): a request without a token gives `undefined` instead of an error.
   */
  optional?: boolean;
}

// What a tokengate guard sets, told apart from another library's `req.auth` (express-oauth2-jwt-bearer
// sets `{ payload, header, token }`) so that a wiring mistake fails here, not three calls later.
function isAuthInfo(value: unknown): value is AuthInfo {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Partial<Record<keyof AuthInfo, unknown>>;
  return (
    typeof a.token === 'string' &&
    typeof a.sub === 'string' &&
    typeof a.clientId === 'string' &&
    Array.isArray(a.scope) &&
    typeof a.expiresAt === 'number' &&
    typeof a.claims === 'object' &&
    a.claims !== null
  );
}

/**
 * The access token `requireToken()` (or `oauth.requireToken()`) validated for this request, as
 * it set it on `req.auth`. Works with Express, Connect and plain Node requests.
 *
 * tokengate declares no `req.auth` on Express's global `Request` type: TypeScript requires
 * every declaration of one property to have the same type, so that would clash with any other
 * library that types `req.auth` its own way (express-oauth2-jwt-bearer does). `getAuth` gives
 * the same object, typed, whatever else is installed.
 *
 * @throws `TypeError` when no tokengate guard ran for this request (a route wired without
 * one): a programming error, never a client's, so it is not an OAuth error. With
 * `{ optional: true }`, `undefined` instead.
 *
 * @example
 * ```ts
 * import { getAuth } from 'tokengate/express';
 *
 * app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => {
 *   const { sub, scope } = getAuth(req);
 *   res.json({ sub, scope });
 * });
 * ```
 */
export function getAuth(req: object): AuthInfo;
export function getAuth(req: object, options: GetAuthOptions & { optional: true }): AuthInfo | undefined;
export function getAuth(req: object, options?: GetAuthOptions): AuthInfo | undefined;
export function getAuth(req: object, options: GetAuthOptions = {}): AuthInfo | undefined {
  const auth = (req as { auth?: unknown }).auth;
  if (isAuthInfo(auth)) return auth;
  if (auth === undefined && options.optional === true) return undefined;
  throw new TypeError(
    auth === undefined
      ? 'getAuth(req): no access token was validated for this request; put requireToken() before this handler.'
      : 'getAuth(req): req.auth was set by something other than a tokengate guard (another auth middleware on this route?).',
  );
}
