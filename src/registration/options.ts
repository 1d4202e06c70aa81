/**
 * The `registration` option (RFC 7591): its type only, so `options.ts` can name it without
 * importing the endpoint.
 * @packageDocumentation
 */
import type { Request } from '../core/http';
import type { RemoteAddressFn } from '../limits/remote-address';

/**
 * What a registration `policy` hook returns: the metadata to register (as given, or adjusted,
 * e.g. a narrower `scope`), or `false` to refuse the registration.
 */
export type RegistrationPolicyResult = Record<string, unknown> | false;

/**
 * `options.registration`: turns on dynamic client registration (RFC 7591). Closed unless one
 * of `open`, `initialAccessToken` or `policy` is given.
 *
 * @example
 * ```ts
 * registration: { open: true }                                    // anyone may register
 * registration: { initialAccessToken: process.env.REG_TOKEN }    // RFC 7591 §3: a bearer token is required
 * registration: { policy: (metadata, req) => metadata.client_name ? metadata : false }
 * ```
 */
export interface RegistrationOptions {
  /** Anyone may register (MCP clients expect this). */
  open?: boolean;
  /** Registration requires `Authorization: Bearer <one of these>` (RFC 7591 §3, the initial access token). */
  initialAccessToken?: string | string[];
  /**
   * Asked with every valid request's metadata and the request: return the metadata to
   * register (possibly adjusted; it is validated again) or `false` to refuse. May throw an
   * `OAuthError` of its own. With neither `open` nor `initialAccessToken`, the hook alone decides.
   */
  policy?: (
    metadata: Readonly<Record<string, unknown>>,
    req: Request,
  ) => RegistrationPolicyResult | Promise<RegistrationPolicyResult>;
  /** Path of the registration endpoint, relative to where the middleware is mounted. Default `/oauth/register`. */
  path?: string;
  /** Scopes a registered client may have. Default: `scopesSupported` and every scope of `resources`. */
  scopes?: string[];
  /** Registrations per remote address: `{ points, duration }` (seconds). Default 20 per hour; `false` turns it off. */
  perAddress?: { points: number; duration: number } | false;
  /** The remote address for `perAddress`. Default: Express's `req.ip`, else the socket's peer. */
  remoteAddress?: RemoteAddressFn;
}
