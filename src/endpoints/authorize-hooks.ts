/**
 * The app-owned parts of the authorization code flow: who is signed in, and whether they
 * consent. The library never renders a login or consent page and never sees a password here;
 * it asks these hooks and either continues or lets the hook's own response stand.
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from '../core/http';
import type { Client, User } from '../stores/types';

/** What the authorize endpoint has validated before it asks the app about the user. */
export interface AuthorizeRequestInfo {
  /** The registered client that asks. */
  client: Client;
  /** The scopes that will be granted (requested ones, or the client's defaults). */
  scopes: readonly string[];
  /** The resources (RFC 8707) the tokens will be for; empty: the server's default audience. */
  resources: readonly string[];
  /** The redirect URI the response will go to (already checked against the registered ones). */
  redirectUri: string;
  /** The client's `state`, echoed back unchanged. */
  state: string | undefined;
  /**
   * Where to send the browser to resume this same request after sign-in or consent: the
   * authorize path as the app sees it (mount prefix included) with every request parameter in
   * the query. Works for GET and POST authorization requests alike.
   *
   * @example
   * ```ts
   * res.redirect('/login?next=' + encodeURIComponent(info.resumeUrl));
   * ```
   */
  resumeUrl: string;
  /** Every request parameter as received (empty values dropped). */
  params: Params;

  // OpenID Connect (OIDC Core §3.1.2.1): empty or undefined for a plain OAuth request.
  /**
   * The `prompt` values. With `none`, show nothing: return the user or `undefined` (the
   * client then gets `login_required`), and from `consent` `true` or `undefined`
   * (`consent_required`); or throw `InteractionRequired`. With `consent`, ask again even if
   * the user approved before. `select_account` and others are for the app to honour.
   */
  prompt: readonly string[];
  /**
   * The user must sign in again even if a session exists (`prompt=login`, or the session is
   * older than `max_age`): sign them in, then redirect to `resumeUrl`, which no longer asks
   * for it.
   */
  reauthenticate: boolean;
  /** `max_age` (or the client's default) in seconds; return `authTime` so it can be checked. */
  maxAge: number | undefined;
  /** `login_hint`: who the client thinks is signing in (an e-mail, a phone number, ...). */
  loginHint: string | undefined;
  /** `ui_locales`, preferred first (BCP 47 tags). */
  uiLocales: readonly string[];
  /** `acr_values`, preferred first: the authentication context classes the client asks for. */
  acrValues: readonly string[];
}

/**
 * What `authenticate` may return besides the user alone: when and how the user signed in,
 * for OpenID Connect's `auth_time`, `acr`, `amr` and `max_age`.
 *
 * @example
 * ```ts
 * authenticate: (req) => req.session.user && { user: req.session.user, authTime: req.session.signedInAt, amr: ['pwd'] }
 * ```
 */
export interface SignedInUser<U extends User = User> {
  user: U;
  /** When the user actually signed in (seconds since the epoch), not when the session was last used. */
  authTime?: number;
  /** The authentication context class reference the sign-in satisfied. */
  acr?: string;
  /** The authentication methods used (RFC 8176 values such as `pwd`, `otp`, `mfa`). */
  amr?: string[];
}

/** {@link AuthorizeRequestInfo} plus the signed-in user, for the consent hook. */
export interface ConsentInfo extends AuthorizeRequestInfo {
  /** The user `authenticate` returned. */
  user: User;
}

/**
 * The hooks of the authorization endpoint (`options.authorize`). Both receive the framework's
 * own `req` and `res` (Express, Connect or plain Node), so they can read the app's session and
 * redirect with the app's own helpers. A hook that responds itself (a redirect to a login or
 * consent page) returns `undefined`; the library then does nothing more with that request, and
 * the app resumes the flow later with a plain redirect to {@link AuthorizeRequestInfo.resumeUrl}
 * (or, for GET requests, `req.originalUrl`).
 *
 * The type parameters are the framework's request and response types: Node's own
 * (`IncomingMessage`, `ServerResponse`) by default, as Connect and plain Node give them, and
 * Express's through `tokengate/express` (`req.session`, `res.redirect` checked, no casts).
 *
 * @example
 * ```ts
 * import { oauthServer } from 'tokengate/express'; // req and res are Express's
 *
 * oauthServer(stores, {
 *   issuer: 'https://auth.example.com',
 *   authorize: {
 *     authenticate: async (req, res) =>
 *       req.session?.user ?? (res.redirect('/login?next=' + encodeURIComponent(req.originalUrl)), undefined),
 *     consent: async (req, res, { client, user, scopes }) => true,
 *   },
 * });
 * ```
 */
export interface AuthorizeHooks<Req = IncomingMessage, Res = ServerResponse> {
  /**
   * Who is signed in? Return the user (its `id` becomes the token's `sub`) or
   * `{ user, authTime, acr, amr }` ({@link SignedInUser}), or respond
   * yourself (e.g. redirect to the login page) and return `undefined` (or what the response
   * helper returns: `return res.redirect(...)` type-checks). Returning `undefined` without
   * responding denies the request (`access_denied`) and logs a warning.
   */
  authenticate(
    req: Req,
    res: Res,
    info: AuthorizeRequestInfo,
  ): User | SignedInUser | undefined | void | Promise<User | SignedInUser | undefined | void>;
  /**
   * Does the user approve? Return `true` to issue the code, `false` to send `access_denied`
   * to the client, or respond yourself (e.g. render or redirect to a consent page) and return
   * `undefined` (or what the response helper returns). Default: approve.
   */
  consent?(req: Req, res: Res, info: ConsentInfo): boolean | undefined | void | Promise<boolean | undefined | void>;
}

/** The PKCE policy (RFC 7636, RFC 9700 §2.1.1). */
export interface PkceOptions {
  /**
   * Require a `code_challenge` from confidential clients too. Public clients (no secret) must
   * always send one. Default `false`: optional but honoured for confidential clients.
   */
  requireForAll?: boolean;
  /** Accept `code_challenge_method=plain`. Default `false`: only `S256` (RFC 9700 §2.1.1). */
  allowPlain?: boolean;
}
