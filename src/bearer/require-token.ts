/**
 * The resource-server guard (RFC 6750): find the bearer token, validate it (through the LRU
 * cache), check scopes, set `req.auth`; or answer with the RFC's challenge.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { configError } from '../core/config';
import { InsufficientScope, InvalidRequest, InvalidToken, OAuthError, TokenRequired } from '../core/errors';
import type { Middleware, Next, Request } from '../core/http';
import type { Logger } from '../core/logging';
import { withoutSecrets } from '../core/redact';
import { checkBinding, dpopToken, isDpopScheme, resourceProof, type ResourceDpop } from '../dpop/resource';
import { safeDescription } from '../http/description';
import { checkErrorMode, errorOut, restated, sendJson, type ErrorMode } from '../http/respond';
import { hasAudience, isResourceUri } from '../resources/indicators';
import type { AuthInfo, TokenValidator, ValidatedToken } from './auth-info';
import { cacheKey, type TokenCache } from './cache';
import { bearerFromHeader, extractToken, mayCarryOtherToken } from './extract';
import { checkRouteOptions, scopeOption, type RouteChecks } from './route-options';

/** Options for `requireToken()`. */
export interface RequireTokenOptions {
  /** Scopes the token must have, all of them: `'read'`, `['read', 'write']` or `'read write'`. */
  scope?: string | readonly string[];
  /**
   * Scopes of which the token must have at least one (besides all of `scope`), else 403
   * `insufficient_scope`. The challenge's `scope` attribute (RFC 6750 §3.1) names `scope` and
   * the first of these: a set that suffices, which a client may ask for in one go (asking for
   * every alternative could be refused), so list the least privileged first.
   */
  anyScope?: string | readonly string[];
  /**
   * The route's own check of the token (a tenant, a role, a claim): return `true` to let the
   * request through; anything else answers 403 `insufficient_scope` without a `scope`
   * attribute, since the token is valid but does not grant this request (RFC 6750 §3.1; a 401
   * `invalid_token` would send the client after a new token that fails the same way). Throw
   * an `OAuthError` to answer with it instead (e.g. `InvalidToken` for a 401). May be async;
   * runs after the scope checks, and before `req.auth` is set. Annotate `req` with your
   * framework's request type to read `req.params`.
   */
  check?(auth: AuthInfo, req: Request): boolean | Promise<boolean>;
  /**
   * Let a request that carries no token at all through, with `req.auth` left unset, for a
   * route that serves anonymous callers too. A token that is sent is checked as always: a bad
   * one is still 401 `invalid_token`, a malformed header 400. Default false.
   */
  optional?: boolean;
  /** Accept the token as `access_token` in a form body (RFC 6750 §2.2). Default false. */
  allowBody?: boolean;
  /** Accept the token as `access_token` in the query string (RFC 6750 §2.3). Default false. */
  allowQuery?: boolean;
  /** `realm` of the `WWW-Authenticate` challenge. Default: the server's realm. */
  realm?: string;
  /**
   * The resource (RFC 8707) this route belongs to: a token whose `aud` does not include it is
   * refused with `invalid_token`, so a token minted for another resource cannot be replayed
   * here. Default: the server's default audience.
   */
  resource?: string;
  /**
   * Accept only DPoP-bound tokens sent with the `DPoP` scheme and a proof (RFC 9449 §7); bearer
   * tokens get a `DPoP` challenge. Default false: both are accepted, each under its own rules.
   */
  requireDpop?: boolean;
  /**
   * `'next'`: hand errors to `next(err)` (an `OAuthError` with `status`, `headers` and
   * `toJSON()`) instead of writing the response. Default: the server's `errors` option
   * (`oauth.requireToken()`), or the guard's (`requireToken()`'s `with()`); else `'respond'`.
   */
  errors?: ErrorMode;
}

/** The middleware `requireToken()` returns: a Connect-style {@link Middleware} that sets `req.auth`. */
export type { Middleware };

/** What a guard needs from its owner (a server, or a standalone resource server). */
export interface GuardContext {
  validate: TokenValidator;
  cache: TokenCache;
  realm: string;
  maxBodyBytes: number;
  /** Body read deadline in milliseconds when the token may come in the body. Default 10 s. */
  bodyTimeoutMs?: number;
  logger: Logger;
  /** The audiences a token must name one of when the route names no `resource`; absent: not checked here (the validator already pins it). */
  audience?: readonly string[];
  /** How DPoP proofs are checked (RFC 9449 §7). */
  dpop: ResourceDpop;
  /** What the guards do with errors unless a route says otherwise. Default `'respond'`. */
  errors?: ErrorMode;
}

function quote(value: string): string {
  return `"${safeDescription(value)}"`;
}

type Fail = (res: ServerResponse, next: Next, err: unknown) => void;
type Admit = (req: Request & { auth?: AuthInfo }, res: ServerResponse, next: Next, auth: AuthInfo) => void;

function pass(req: Request & { auth?: AuthInfo }, _res: ServerResponse, next: Next, auth: AuthInfo): void {
  req.auth = auth;
  next();
}

/**
 * What lets a token that passed validation and `scope` through. Chosen once per guard: a route
 * without `anyScope` or `check` sets `req.auth` and calls `next()`, with no other work per request.
 */
function admission(checks: RouteChecks, required: readonly string[], fail: Fail): Admit {
  const { anyScope, check } = checks;
  if (anyScope === undefined && check === undefined) return pass;
  // RFC 6750 §3.1: the challenge names a set of scopes that suffices: all of scope, one of anyScope.
  const anyOf = anyScope && {
    scopes: anyScope,
    named: Object.freeze([...required, anyScope[0] as string]),
    description: `The access token lacks a required scope (one of: ${anyScope.join(' ')}).`,
  };
  const refused = (): InsufficientScope =>
    new InsufficientScope([], 'The access token does not grant access to this resource.');

  function hasAny(scope: readonly string[], wanted: readonly string[]): boolean {
    for (let i = 0; i < wanted.length; i++) if (scope.includes(wanted[i] as string)) return true;
    return false;
  }

  return function admitChecked(req, res, next, auth) {
    if (anyOf !== undefined && !hasAny(auth.scope, anyOf.scopes))
      return fail(res, next, new InsufficientScope(anyOf.named, anyOf.description));
    if (check === undefined) return pass(req, res, next, auth);
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = check(auth, req);
    } catch (err) {
      return fail(res, next, withoutSecrets(err, [auth.token]));
    }
    if (verdict === true) return pass(req, res, next, auth);
    if (typeof (verdict as { then?: unknown } | null | undefined)?.then !== 'function')
      return fail(res, next, refused());
    Promise.resolve(verdict)
      .then((ok) => (ok === true ? pass(req, res, next, auth) : fail(res, next, refused())))
      // Also a throw from next(), as in the guard: never an unhandled rejection.
      .catch((err: unknown) => fail(res, next, withoutSecrets(err, [auth.token])));
  };
}

/**
 * Build a `requireToken` middleware. Options are checked here, once. `resourceMetadata` is
 * the URL of the resource's RFC 9728 metadata, named in every challenge (RFC 9728 §5.1).
 */
export function createGuard(
  ctx: GuardContext,
  options: RequireTokenOptions = {},
  resourceMetadata?: string,
): Middleware {
  const checks = checkRouteOptions(options);
  const required = scopeOption('scope', options.scope);
  if (options.resource !== undefined && (typeof options.resource !== 'string' || !isResourceUri(options.resource))) {
    configError(
      'ERR_TOKENGATE_RESOURCE',
      `requireToken: resource must be an absolute URI without a fragment (RFC 8707 §2; got ${JSON.stringify(options.resource)}).`,
    );
  }
  const audience = options.resource !== undefined ? [options.resource] : ctx.audience;
  const realm = quote(options.realm ?? ctx.realm);
  const allowBody = options.allowBody === true;
  const allowQuery = options.allowQuery === true;
  const extractOptions = { allowBody, allowQuery, maxBodyBytes: ctx.maxBodyBytes, bodyTimeoutMs: ctx.bodyTimeoutMs };
  const { cache, validate, logger } = ctx;
  const errors = checkErrorMode('requireToken: options.errors', options.errors, ctx.errors ?? 'respond');
  const out = errorOut(errors, logger);
  const dpopOnly = options.requireDpop === true;
  // RFC 9449 §7.1: the DPoP challenge names the accepted proof algorithms.
  const dpopScheme = `DPoP realm=${realm}, algs="${ctx.dpop.algorithms.join(' ')}"`;

  // RFC 9728 §5.1: every challenge points at the resource's metadata, so a client that has
  // only this URL finds the authorization server.
  const metadataParam = resourceMetadata === undefined ? '' : `, resource_metadata=${quote(resourceMetadata)}`;

  // RFC 6750 §3: the challenge names the realm; an error code only when a token was sent.
  // RFC 9449 §7.1: a request with the DPoP scheme (or to a DPoP-only route) gets a DPoP challenge.
  function fail(res: ServerResponse, next: Next, err: unknown, dpop = dpopOnly): void {
    if (err instanceof OAuthError && err.status < 500) {
      const status = err.error === 'invalid_dpop_proof' || err.error === 'use_dpop_nonce' ? 401 : err.status;
      let challenge = `${dpop ? dpopScheme : `Bearer realm=${realm}`}${metadataParam}, error="${err.error}", error_description=${quote(err.message)}`;
      if (err instanceof InsufficientScope && err.requiredScope.length > 0)
        challenge += `, scope=${quote(err.requiredScope.join(' '))}`;
      out(res, next, restated(err, status, { ...err.headers, 'WWW-Authenticate': challenge }), 'requireToken');
    } else {
      out(res, next, err, 'requireToken');
    }
  }

  // RFC 6750 §3.1: a request with no token gets the challenge without an error code.
  // The scope a token needs here, so a client that starts from nothing asks for it.
  const scopeParam =
    required.length > 0 && resourceMetadata !== undefined ? `, scope=${quote(required.join(' '))}` : '';
  const missingChallenge = {
    'WWW-Authenticate': `${dpopOnly ? dpopScheme : `Bearer realm=${realm}`}${metadataParam}${scopeParam}`,
  };
  // Chosen here, not per request: an optional route lets a request without any token through;
  // otherwise the answer is written at once (no error value to build), or handed to next.
  const missingDescription = 'An access token is required.';
  const missing = checks.optional
    ? (_req: Request, _res: ServerResponse, next: Next): void => next()
    : errors === 'respond'
      ? (_req: Request, res: ServerResponse): void =>
          sendJson(res, 401, { error_description: missingDescription }, missingChallenge)
      : (_req: Request, res: ServerResponse, next: Next): void =>
          out(res, next, new TokenRequired(missingDescription, missingChallenge), 'requireToken');
  const admit = admission(checks, required, fail);

  function authorize(req: Request & { auth?: AuthInfo }, res: ServerResponse, next: Next, token: string): void {
    if (dpopOnly)
      return fail(
        res,
        next,
        new InvalidToken('This resource requires a DPoP-bound access token sent with the DPoP scheme (RFC 9449 §7).'),
      );
    // With the cache off (`cache: { max: 0 }`) not even the key is computed.
    const key = cache.enabled ? cacheKey(token) : undefined;
    if (key !== undefined) {
      const hit = cache.get(key);
      if (hit !== undefined) return finish(req, res, next, token, hit, undefined);
    }
    const generation = cache.generation;
    let pending: Promise<ValidatedToken>;
    try {
      pending = validate(token);
    } catch (err) {
      return fail(res, next, withoutSecrets(err, [token]));
    }
    pending
      .then((validatedToken) => {
        if (key !== undefined) cache.set(key, validatedToken, generation);
        finish(req, res, next, token, validatedToken, undefined);
      })
      // Also catches a throw from a raw (frameworkless) next(), which would otherwise be an
      // unhandled rejection; the token is scrubbed from whatever reaches the logger.
      .catch((err: unknown) => fail(res, next, withoutSecrets(err, [token])));
  }

  // RFC 9449 §7.1: the proof is checked on every request, cache hit or not (signature and jti);
  // only the token's own validation is cached.
  function authorizeDpop(
    req: Request & { auth?: AuthInfo },
    res: ServerResponse,
    next: (err?: unknown) => void,
    token: string,
  ): void {
    resourceProof(ctx.dpop, req, token)
      .then(async (jkt) => {
        const key = cache.enabled ? cacheKey(token) : undefined;
        let v = key === undefined ? undefined : cache.get(key);
        if (v === undefined) {
          const generation = cache.generation;
          v = await validate(token);
          if (key !== undefined) cache.set(key, v, generation);
        }
        finish(req, res, next, token, v, jkt);
      })
      .catch((err: unknown) => fail(res, next, withoutSecrets(err, [token]), true));
  }

  function finish(
    req: Request & { auth?: AuthInfo },
    res: ServerResponse,
    next: Next,
    token: string,
    v: {
      sub: string;
      clientId: string;
      scope: readonly string[];
      expiresAt: number;
      claims: Readonly<Record<string, unknown>>;
    },
    proofJkt: string | undefined,
  ): void {
    // RFC 8707 / RFC 9068 §4: the token must be meant for this resource.
    if (audience !== undefined && !hasAudience(v.claims.aud, audience))
      return fail(res, next, new InvalidToken('The access token is not meant for this resource.'));
    // A bound token needs its key's proof; a token sent with a proof must be bound to that key.
    if (proofJkt !== undefined || v.claims.cnf !== undefined) {
      try {
        checkBinding(v.claims, proofJkt);
      } catch (err) {
        return fail(res, next, err, proofJkt !== undefined || dpopOnly);
      }
    }
    for (let i = 0; i < required.length; i++) {
      if (!v.scope.includes(required[i] as string)) return fail(res, next, new InsufficientScope(required));
    }
    admit(req, res, next, {
      token,
      sub: v.sub,
      clientId: v.clientId,
      scope: v.scope,
      expiresAt: v.expiresAt,
      claims: v.claims,
    });
  }

  return function requireToken(req, res, next) {
    const header = req.headers.authorization;
    if (isDpopScheme(header)) {
      let token: string;
      try {
        token = dpopToken(header);
      } catch (err) {
        return fail(res, next, err, true);
      }
      return authorizeDpop(req, res, next, token);
    }
    if (!allowBody && !allowQuery && !mayCarryOtherToken(req)) {
      // The hot path: header only, no promise until a cache miss.
      let token: string | undefined;
      try {
        token = bearerFromHeader(req.headers.authorization);
      } catch (err) {
        return fail(res, next, err);
      }
      if (token === undefined) return missing(req, res, next);
      return authorize(req, res, next, token);
    }
    extractToken(req, extractOptions).then(
      (token) => (token === undefined ? missing(req, res, next) : authorize(req, res, next, token)),
      (err: unknown) =>
        fail(res, next, err instanceof OAuthError ? err : new InvalidRequest('The request could not be read.')),
    );
  };
}
