/**
 * The UserInfo endpoint (OpenID Connect Core §5.3): GET or POST with a bearer access token
 * that has the `openid` scope; the user's claims for the token's scopes, `sub` always.
 * Errors are RFC 6750 challenges, as from `requireToken` (§5.3.3).
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '../bearer/auth-info';
import { createGuard, type GuardContext } from '../bearer/require-token';
import { hashToken } from '../core/crypto';
import { InvalidRequest, InvalidToken, OAuthError } from '../core/errors';
import type { Handler, Next } from '../core/http';
import type { Request } from '../http/body';
import type { CorsPolicy } from '../http/cors';
import { safeDescription } from '../http/description';
import { sendJson, type ErrorOut } from '../http/respond';
import type { ClientStore, TokenStore } from '../stores/types';
import { isJwt } from '../tokens/jwt';
import type { OpenIdProvider } from './provider';

/** What the UserInfo endpoint needs from its server. */
export interface UserinfoContext {
  provider: OpenIdProvider;
  clients: ClientStore;
  tokens: TokenStore;
  guard: GuardContext;
  cors: CorsPolicy | undefined;
  /** The server's error answer (`options.errors`). */
  fail: ErrorOut;
}

/** The claims individually requested for UserInfo when the grant was made (OIDC Core §5.5). */
async function requestedClaims(auth: AuthInfo, tokens: TokenStore): Promise<string[]> {
  if (isJwt(auth.token)) {
    const names = auth.claims.userinfo_claims;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  }
  const record = await tokens.find('access_token', hashToken(auth.token));
  return record?.openid?.userinfoClaims ?? [];
}

/** The UserInfo endpoint handler. */
export function userinfoEndpoint(ctx: UserinfoContext): Handler {
  const { provider, clients, tokens, cors } = ctx;
  const guard = createGuard(ctx.guard, { scope: 'openid', allowBody: true });
  const realm = `"${safeDescription(ctx.guard.realm)}"`;

  function fail(res: ServerResponse, next: Next, err: unknown): void {
    if (err instanceof OAuthError && err.status === 401) {
      const challenge = `Bearer realm=${realm}, error="${err.error}", error_description="${safeDescription(err.message)}"`;
      return ctx.fail(
        res,
        next,
        new OAuthError(err.error, err.message, 401, { 'WWW-Authenticate': challenge }),
        'userinfo endpoint',
      );
    }
    ctx.fail(res, next, err, 'userinfo endpoint');
  }

  async function respond(req: Request & { auth?: AuthInfo }, res: ServerResponse, next: Next): Promise<void> {
    try {
      const auth = req.auth as AuthInfo;
      const client = await clients.findClient(auth.clientId);
      if (!client) throw new InvalidToken('The client of this access token no longer exists.');
      cors?.allowClient(req, res, client.id);
      const claims = await provider.userClaims(
        client,
        auth.sub,
        auth.scope,
        await requestedClaims(auth, tokens),
        'userinfo',
      );
      if (!claims) throw new InvalidToken('The user of this access token no longer exists.');
      // §5.3.2: sub always, and the same as in the ID token (pairwise included).
      sendJson(res, 200, { ...claims, sub: provider.subject(client, auth.sub) });
    } catch (err) {
      fail(res, next, err);
    }
  }

  return async function userinfo(req, res, next) {
    if (req.method !== 'GET' && req.method !== 'POST') {
      return ctx.fail(
        res,
        next,
        new InvalidRequest('The UserInfo endpoint accepts only GET and POST.', 405, { Allow: 'GET, POST' }),
        'userinfo endpoint',
      );
    }
    await new Promise<void>((resolve) => {
      // The guard answers its failures itself, or (errors: 'next') hands them to its next,
      // which passes them on to the app's; on success we answer.
      res.once('close', resolve);
      res.once('finish', resolve);
      guard(req, res, (err?: unknown) => {
        if (err !== undefined) {
          resolve();
          return next(err);
        }
        void respond(req, res, next).then(resolve);
      });
    });
  };
}
