/**
 * tokengate for Express apps: everything `tokengate` exports, with `oauthServer`'s hooks
 * (`authorize.authenticate`, `authorize.consent`, `openid.logout`) typed with Express's own
 * `Request` and `Response` (`req.session`, `req.originalUrl`, `res.redirect` checked, no casts).
 * The core stays framework-agnostic, on `node:http` types; this entry only narrows the types,
 * with the same functions at run time.
 *
 * It declares nothing on Express's global `Request` type. Read the validated token with
 * {@link getAuth}: a `req.auth` declaration of tokengate's would clash (TS2717) with any other
 * library that declares `req.auth` its own way, such as express-oauth2-jwt-bearer.
 *
 * Needs `@types/express` (4 or 5) in a TypeScript project.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { oauthServer, memoryStores, getAuth } from 'tokengate/express';
 *
 * const oauth = oauthServer(memoryStores({ clients, users }), {
 *   issuer: 'https://auth.example.com',
 *   authorize: {
 *     authenticate: (req, res, { resumeUrl }) =>
 *       currentUser(req) ?? res.redirect(`/login?next=${encodeURIComponent(resumeUrl)}`),
 *   },
 * });
 * app.use(oauth);
 * app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => res.json({ sub: getAuth(req).sub }));
 * ```
 * @module tokengate/express
 * @packageDocumentation
 */
import type { Request, Response } from 'express';
import type { AuthorizeHooks } from './endpoints/authorize-hooks';
import type { OpenIdOptions } from './oidc/options';
import type { ServerOptions } from './options';
import { oauthServer as nodeOauthServer, type OAuthServer } from './server';
import type { Stores, User } from './stores/types';

export * from './index';

/** {@link ServerOptions} with the hooks receiving Express's `Request` and `Response`. */
export type ExpressServerOptions = ServerOptions<Request, Response>;

/** {@link AuthorizeHooks} receiving Express's `Request` and `Response`. */
export type ExpressAuthorizeHooks = AuthorizeHooks<Request, Response>;

/** {@link OpenIdOptions} whose `logout` hook receives Express's `Request` and `Response`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ExpressOpenIdOptions<U extends User = any> = OpenIdOptions<Request, Response, U>;

/**
 * `oauthServer` of `tokengate`, the same function, typed for Express: the hooks' `req` and
 * `res` are Express's `Request` and `Response`.
 *
 * @param stores - where clients, users and tokens live (see {@link memoryStores})
 * @param options - at least the `issuer`; everything else has a default
 */
export const oauthServer: (stores: Stores, options: ExpressServerOptions) => OAuthServer = nodeOauthServer;
