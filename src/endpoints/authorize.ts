/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1) for `response_type=code` with PKCE
 * (RFC 7636) and the `iss` response parameter (RFC 9207).
 *
 * Order matters: first the client and its redirect URI, which decide whether an error may be
 * sent back to the client at all (if not: an HTML page, never a redirect); then the rest of
 * the request, whose errors go back to the client; only then the app's sign-in and consent
 * hooks, so nobody signs in for a request that would fail anyway.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { isRegisteredRedirectUri } from '../clients/redirect-uri';
import { nowSeconds } from '../core/clock';
import { hashToken, randomToken } from '../core/crypto';
import {
  AccessDenied,
  InvalidRequest,
  OAuthError,
  ServerError,
  TemporarilyUnavailable,
  UnauthorizedClient,
  UnsupportedResponseType,
} from '../core/errors';
import type { Handler, Params, Request } from '../core/http';
import { isValidChallenge, type PkceMethod } from '../core/pkce';
import { parseScope } from '../core/scopes';
import { allValues, readParams } from '../http/body';
import { safeDescription } from '../http/description';
import { pageOut } from '../http/error-page';
import { readOidcRequest, type OidcAuthorizeRequest } from '../oidc/authorize-request';
import { ConsentRequired } from '../oidc/errors';
import { grantScopesFor, requestedResources } from '../resources/indicators';
import type { Client, TokenRecord } from '../stores/types';
import type { AuthorizeHooks, AuthorizeRequestInfo } from './authorize-hooks';
import type { ServerContext } from './context';
import { signIn } from './sign-in';

/** The request's parameters, and the names that appeared more than once. */
interface ParsedRequest {
  params: Params;
  repeated: ReadonlySet<string>;
  /** Every `resource` value, in order (RFC 8707 §2: the one parameter that may repeat). */
  resources: string[];
}

/** An error that must be shown to the user, because the redirect URI is not (yet) trusted. */
class PageError extends OAuthError {}

/**
 * One answer for an unknown client and for a known client whose redirect URI does not fit
 * (none registered, several and none named, or not one of them): the page must not tell
 * registered client ids from others, nor echo what the caller sent (RFC 9700 §4.11 — the page
 * is not a client id oracle nor a reflection point).
 */
function unknownClientOrRedirect(): PageError {
  return new PageError(
    'invalid_request',
    'The client_id is not registered here, or the redirect_uri is missing or not one registered for this client.',
  );
}

/** RFC 6749 §3.1: parameters sent without a value are treated as omitted. */
function fromPairs(pairs: Iterable<[string, string]>): ParsedRequest {
  const params = Object.create(null) as Record<string, string>;
  const repeated = new Set<string>();
  const resources: string[] = [];
  for (const [name, value] of pairs) {
    if (name === 'resource') {
      if (value !== '') resources.push(value);
    } else if (Object.prototype.hasOwnProperty.call(params, name)) repeated.add(name);
    else if (value !== '') params[name] = value;
  }
  return { params, repeated, resources };
}

async function parseRequest(req: Request, maxBodyBytes: number, bodyTimeoutMs: number): Promise<ParsedRequest> {
  if (req.method === 'GET') {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return fromPairs(new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
  }
  if (req.method !== 'POST')
    throw new PageError('invalid_request', 'The authorization endpoint accepts only GET and POST.', 405, {
      Allow: 'GET, POST',
    });
  try {
    // The form parser refuses a repeated field itself, before the client is known.
    const params = await readParams(req, maxBodyBytes, bodyTimeoutMs);
    return fromPairs(
      Object.keys(params).flatMap((name) => allValues(params, name).map((value): [string, string] => [name, value])),
    );
  } catch (err) {
    if (err instanceof OAuthError) throw new PageError(err.error, err.message, err.status, err.headers);
    throw err;
  }
}

// Credentials have no business at the authorization endpoint; a client that sends one anyway
// must not see it copied into a URL (login redirect, browser history, Referer, access logs).
const NOT_RESUMED = new Set([
  'password',
  'client_secret',
  'code',
  'code_verifier',
  'refresh_token',
  'access_token',
  'token',
  'assertion',
  'client_assertion',
]);

/**
 * The URL the app redirects to after sign-in or consent to resume this request. For a
 * re-authentication, without what asked for it (`prompt=login`, `max_age`): the resumed
 * request comes after the new sign-in and must not ask for another one.
 */
function resumeUrl(req: Request, params: Params, resources: readonly string[], reauthenticated = false): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  const entries = Object.entries(params).filter(
    ([name]) => !NOT_RESUMED.has(name) && !(reauthenticated && name === 'max_age'),
  );
  const query = new URLSearchParams(
    reauthenticated
      ? entries
          .map(([name, value]): [string, string] => [
            name,
            name === 'prompt'
              ? value
                  .split(' ')
                  .filter((p) => p !== 'login')
                  .join(' ')
              : value,
          ])
          .filter(([, value]) => value !== '')
      : entries,
  );
  for (const resource of resources) query.append('resource', resource);
  return `${q === -1 ? url : url.slice(0, q)}?${query.toString()}`;
}

/**
 * The redirect URI to answer to: one of the client's, matched as an exact string (RFC 9700
 * §4.1.3) except for the port of a loopback IP redirect URI (RFC 8252 §7.3). The requested
 * string is the target, so a native app gets its ephemeral port back.
 */
function redirectTarget(client: Client, requested: string | undefined): string {
  const registered = client.redirectUris ?? [];
  let target: string | undefined;
  if (requested === undefined) {
    // RFC 6749 §3.1.2.3: redirect_uri may be omitted only when exactly one is registered.
    if (registered.length === 1) target = registered[0];
  } else if (isRegisteredRedirectUri(registered, requested)) {
    target = requested;
  }
  // RFC 6749 §3.1.2: a redirection endpoint MUST NOT include a fragment.
  if (target === undefined || target.includes('#')) throw unknownClientOrRedirect();
  return target;
}

/** `uri` with `params` added to its query, keeping its own query as it is (RFC 6749 §3.1.2). */
export function addQuery(uri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const name in params) if (params[name] !== undefined) query.append(name, params[name] as string);
  const separator = !uri.includes('?') ? '?' : uri.endsWith('?') || uri.endsWith('&') ? '' : '&';
  return uri + separator + query.toString();
}

function pkceChallenge(
  ctx: ServerContext,
  client: Client,
  params: Params,
): { challenge?: string; method?: PkceMethod } {
  const challenge = params.code_challenge;
  const method = params.code_challenge_method;
  const { requireForAll, allowPlain } = ctx.options.pkce;
  if (challenge === undefined) {
    if (method !== undefined) throw new InvalidRequest('code_challenge_method was sent without a code_challenge.');
    if (client.secretHash === undefined)
      throw new InvalidRequest(
        'A public client must use PKCE: send code_challenge with code_challenge_method=S256 (RFC 7636).',
      );
    if (requireForAll)
      throw new InvalidRequest(
        'This server requires PKCE: send code_challenge with code_challenge_method=S256 (RFC 7636).',
      );
    return {};
  }
  // RFC 7636 §4.3: a missing method means plain.
  const effective = method ?? 'plain';
  if (effective !== 'S256' && !(effective === 'plain' && allowPlain)) {
    const why =
      method === undefined
        ? 'code_challenge_method is missing, which means plain'
        : `code_challenge_method "${effective}" is not supported`;
    throw new InvalidRequest(`${why}; use S256 (RFC 7636 §4.2).`);
  }
  if (!isValidChallenge(challenge, effective as PkceMethod)) {
    throw new InvalidRequest(
      effective === 'S256'
        ? 'code_challenge must be 43 base64url characters: BASE64URL(SHA256(code_verifier)) (RFC 7636 §4.2).'
        : 'code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_", "~" (RFC 7636 §4.1).',
    );
  }
  return { challenge, method: effective as PkceMethod };
}

/** The authorization endpoint handler, calling the app's hooks. */
export function authorizeEndpoint(ctx: ServerContext, hooks: AuthorizeHooks): Handler {
  const { options, clients, tokens } = ctx;
  const { logger, issuer } = options;

  // A hook may answer the request itself (e.g. a redirect to the login page).
  const responded = (res: ServerResponse): boolean => res.headersSent || res.writableEnded;

  function redirect(req: Request, res: ServerResponse, location: string): void {
    // 303 after a POST so the browser follows with GET; 302 otherwise. Never 307 (RFC 9700 §4.12).
    res.statusCode = req.method === 'POST' ? 303 : 302;
    res.setHeader('Location', location);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Length', 0);
    res.end();
  }

  // The page for errors that must not go back to the client: the app's, its error handler's, or ours.
  const { errorPage } = hooks;
  const page = pageOut(
    errorPage && ((err, req, res) => errorPage.call(hooks, err, req, res)),
    options.errors,
    logger,
    'authorization endpoint',
  );

  /** Everything after the redirect URI is trusted: the rest of the request, the hooks, the code. */
  async function grantCode(
    req: Request,
    res: ServerResponse,
    client: Client,
    parsed: ParsedRequest,
    redirectUri: string,
  ): Promise<void> {
    const { params, repeated } = parsed;
    if (repeated.size > 0) throw new InvalidRequest(`The "${[...repeated][0]}" parameter is included more than once.`);
    const responseType = params.response_type;
    if (responseType === undefined)
      throw new InvalidRequest('The "response_type" parameter is required; use response_type=code.');
    if (responseType !== 'code') throw new UnsupportedResponseType('Only response_type=code is supported.');
    if (!client.grants.includes('authorization_code'))
      throw new UnauthorizedClient('This client may not use the authorization code flow.');
    // RFC 8707 §2: every resource known and allowed for this client, else invalid_target.
    const resources = Object.freeze(requestedResources(options.resources, client, parsed.resources));
    // Frozen: the hooks see what will be granted but cannot change it.
    const scopes = Object.freeze(grantScopesFor(options.resources, client, parseScope(params.scope), resources));
    const pkce = pkceChallenge(ctx, client, params);
    // OpenID Connect: a request with the openid scope (OIDC Core §3.1.2.1).
    let oidc: OidcAuthorizeRequest | undefined;
    if (ctx.openid && scopes.includes('openid')) {
      ctx.openid.checkClient(client);
      const provider = ctx.openid;
      oidc = readOidcRequest(client, params, (token) => provider.verifyHint(token));
    }
    // RFC 9449 §10: dpop_jkt binds the code to the key the client will prove at the token endpoint.
    const dpopJkt = params.dpop_jkt;
    if (dpopJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) {
      throw new InvalidRequest(
        'dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (RFC 9449 §10, RFC 7638).',
      );
    }

    const prompt = oidc?.prompt ?? [];
    const login = prompt.includes('login');
    const info: AuthorizeRequestInfo = {
      client,
      scopes,
      resources,
      redirectUri,
      state: params.state,
      resumeUrl: resumeUrl(req, params, parsed.resources, login),
      params: Object.freeze(params),
      prompt,
      reauthenticate: login,
      maxAge: oidc?.maxAge,
      loginHint: oidc?.loginHint,
      uiLocales: oidc?.uiLocales ?? [],
      acrValues: oidc?.acrValues ?? [],
    };
    const signedIn = await signIn(
      hooks,
      req,
      res,
      info,
      () => ({ ...info, reauthenticate: true, resumeUrl: resumeUrl(req, params, parsed.resources, true) }),
      logger,
    );
    if (signedIn === 'responded') return;
    const { user } = signedIn;
    if (oidc && ctx.openid) await ctx.openid.checkRequestedSubject(client, oidc, user.id, signedIn);
    if (hooks.consent) {
      const approved = await hooks.consent(req, res, { ...info, user });
      if (responded(res)) {
        if (prompt.includes('none'))
          logger.warn(
            'authorize.consent responded to a prompt=none request; it should return undefined instead, and the client gets consent_required.',
          );
        return;
      }
      if (approved !== true) {
        if (approved === undefined && prompt.includes('none')) throw new ConsentRequired();
        if (approved !== false)
          logger.warn('authorize.consent returned neither true nor false and did not respond; the request was denied.');
        throw new AccessDenied('The user denied the request.');
      }
    }

    const code = randomToken(32); // 256 bits (RFC 6749 §10.10, RFC 9700 §4.5)
    const now = nowSeconds();
    const record: TokenRecord = {
      kind: 'authorization_code',
      id: hashToken(code),
      familyId: randomToken(16),
      clientId: client.id,
      sub: user.id,
      userId: user.id,
      scope: [...scopes],
      issuedAt: now,
      expiresAt: now + options.authorizationCodeLifetime,
    };
    // Only a redirect_uri that was sent must be sent again at the token endpoint (RFC 6749 §4.1.3).
    if (params.redirect_uri !== undefined) record.redirectUri = params.redirect_uri;
    if (resources.length > 0) record.resources = [...resources];
    if (pkce.challenge !== undefined) {
      record.codeChallenge = pkce.challenge;
      record.codeChallengeMethod = pkce.method;
    }
    if (oidc && ctx.openid) record.openid = ctx.openid.grantFor(client, oidc, signedIn);
    if (dpopJkt !== undefined) record.jkt = dpopJkt;
    await tokens.save(record);
    if (responded(res)) return;
    redirect(req, res, addQuery(redirectUri, { code, state: params.state, iss: issuer }));
  }

  return async function authorize(req, res, next) {
    let parsed: ParsedRequest;
    let client: Client | undefined;
    let redirectUri: string;
    try {
      parsed = await parseRequest(req, options.maxBodyBytes, options.bodyTimeoutMs);
      const clientId = parsed.params.client_id;
      if (clientId === undefined) throw new PageError('invalid_request', 'The client_id parameter is required.');
      if (parsed.repeated.has('client_id'))
        throw new PageError('invalid_request', 'The client_id parameter is included more than once.');
      // Checked before the client is looked up, so the answer is the same whether it exists.
      if (parsed.repeated.has('redirect_uri'))
        throw new PageError('invalid_request', 'The redirect_uri parameter is included more than once.');
      client = await clients.findClient(clientId);
      if (!client) throw unknownClientOrRedirect();
      redirectUri = redirectTarget(client, parsed.params.redirect_uri);
    } catch (err) {
      return page(req, res, next, err);
    }

    try {
      await grantCode(req, res, client, parsed, redirectUri);
    } catch (err) {
      let error: OAuthError;
      // temporarily_unavailable is one of the codes RFC 6749 §4.1.2.1 lets the client see.
      if (err instanceof OAuthError && (err.status < 500 || err instanceof TemporarilyUnavailable)) {
        if (err.status >= 500)
          logger.error('authorization endpoint: a store is unavailable; answered temporarily_unavailable', err.cause);
        error = err;
      } else {
        logger.error('authorization endpoint: unexpected failure; answered server_error', err);
        error = new ServerError();
      }
      if (responded(res)) return void (res.writableEnded || res.destroy());
      // A repeated state cannot be echoed faithfully, so it is left out.
      const state = parsed.repeated.has('state') ? undefined : parsed.params.state;
      redirect(
        req,
        res,
        addQuery(redirectUri, {
          error: error.error,
          error_description: safeDescription(error.message),
          state,
          iss: issuer,
        }),
      );
    }
  };
}
