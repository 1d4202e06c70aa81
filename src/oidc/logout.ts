/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2, §3): the app's
 * `logout` hook ends its session, then the browser goes back to the client's registered
 * `post_logout_redirect_uri` (with `state`) or sees a "signed out" page.
 *
 * Nothing here redirects to a URI that is not registered, exactly, for the client the
 * request proves (by a valid `id_token_hint`) or names (`client_id`); every refusal is an
 * HTML page, never a redirect.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { InvalidRequest } from '../core/errors';
import type { Handler } from '../core/http';
import { addQuery } from '../endpoints/authorize';
import type { ServerContext } from '../endpoints/context';
import { readParams, type Params, type Request } from '../http/body';
import { pageOut } from '../http/error-page';
import type { Client } from '../stores/types';
import type { LogoutInfo } from './options';
import type { OpenIdProvider } from './provider';

const SIGNED_OUT =
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
  '<meta name="robots" content="noindex"><title>Signed out</title></head>\n<body><h1>You are signed out</h1>\n' +
  '<p>You can close this window.</p>\n</body></html>\n';

async function readLogoutParams(req: Request, ctx: ServerContext): Promise<Params> {
  let pairs: Iterable<[string, string]>;
  if (req.method === 'GET') {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    pairs = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  } else if (req.method === 'POST') {
    pairs = Object.entries(await readParams(req, ctx.options.maxBodyBytes, ctx.options.bodyTimeoutMs));
  } else {
    throw new InvalidRequest('The end-session endpoint accepts only GET and POST.', 405, { Allow: 'GET, POST' });
  }
  const params = Object.create(null) as Record<string, string>;
  for (const [name, value] of pairs) {
    if (Object.prototype.hasOwnProperty.call(params, name))
      throw new InvalidRequest(`The "${name}" parameter is included more than once.`);
    if (value !== '') params[name] = value;
  }
  return params;
}

function redirect(req: Request, res: ServerResponse, location: string): void {
  res.statusCode = req.method === 'POST' ? 303 : 302;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Length', 0);
  res.end();
}

/** The end-session endpoint handler, calling `logout`. */
export function endSessionEndpoint(
  ctx: ServerContext,
  provider: OpenIdProvider,
  logout: NonNullable<OpenIdProvider['options']['logout']>,
): Handler {
  const { logger } = ctx.options;
  const responded = (res: ServerResponse): boolean => res.headersSent || res.writableEnded;

  async function resolveRequest(params: Params): Promise<LogoutInfo> {
    let idToken: Record<string, unknown> | undefined;
    if (params.id_token_hint !== undefined) {
      // §2: the OP MUST validate that it was the issuer of the ID Token.
      idToken = provider.verifyHint(params.id_token_hint);
      if (!idToken) throw new InvalidRequest('The id_token_hint was not issued by this server.');
    }
    const hinted = idToken?.aud as string | undefined;
    if (params.client_id !== undefined && hinted !== undefined && params.client_id !== hinted) {
      throw new InvalidRequest('The client_id does not match the audience of the id_token_hint.');
    }
    const clientId = params.client_id ?? hinted;
    let client: Client | undefined;
    if (clientId !== undefined) {
      client = await ctx.clients.findClient(clientId);
      if (!client) throw new InvalidRequest(`There is no client "${clientId}".`);
    }
    let postLogoutRedirectUri: string | undefined;
    const requested = params.post_logout_redirect_uri;
    if (requested !== undefined) {
      // §3: only a URI registered for this client, compared exactly; the client must be known.
      if (!client)
        throw new InvalidRequest(
          'post_logout_redirect_uri needs an id_token_hint or a client_id to say which client it belongs to.',
        );
      if (!(client.postLogoutRedirectUris ?? []).includes(requested) || requested.includes('#')) {
        throw new InvalidRequest('The post_logout_redirect_uri is not registered for this client.');
      }
      postLogoutRedirectUri = params.state === undefined ? requested : addQuery(requested, { state: params.state });
    }
    return {
      client,
      idToken: idToken && Object.freeze(idToken),
      postLogoutRedirectUri,
      state: params.state,
      logoutHint: params.logout_hint,
      uiLocales: (params.ui_locales ?? '').split(' ').filter((w) => w !== ''),
    };
  }

  const page = pageOut(undefined, ctx.options.errors, logger, 'end-session endpoint');
  return async function endSession(req, res, next) {
    try {
      const info = await resolveRequest(await readLogoutParams(req, ctx));
      await logout(req, res, info);
      if (responded(res)) return;
      if (info.postLogoutRedirectUri !== undefined) return redirect(req, res, info.postLogoutRedirectUri);
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Content-Length', Buffer.byteLength(SIGNED_OUT));
      res.end(SIGNED_OUT);
    } catch (err) {
      if (responded(res)) return void (res.writableEnded || res.destroy());
      await page(req, res, next, err);
    }
  };
}
