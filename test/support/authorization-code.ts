/**
 * Fixtures for the authorization code flow tests: clients with registered redirect URIs, an
 * app whose authorize hooks are driven by test headers, PKCE pairs and request helpers.
 */
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import request from 'supertest';
import {
  memoryStores,
  oauthServer,
  type AuthorizeHooks,
  type MemoryClientInput,
  type OAuthServer,
  type ServerOptions,
  type Stores,
} from '../../src';
import { FRAMEWORKS, recordingLogger, type Framework } from './spine';

export { FRAMEWORKS, recordingLogger, type Framework };

export const ISSUER = 'https://auth.example.com';
export const AUTHORIZE = '/oauth/authorize';
export const TOKEN = '/oauth/token';

export const SPA_REDIRECT = 'https://spa.example.com/callback';
export const WEB_REDIRECT = 'https://web.example.com/cb';

export const CLIENTS: MemoryClientInput[] = [
  // A public client (no secret): PKCE is mandatory.
  {
    id: 'spa',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['read', 'write'],
    redirectUris: [SPA_REDIRECT],
  },
  // A confidential client with two redirect URIs, so redirect_uri is required.
  {
    id: 'web',
    secret: 'web-secret',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['read', 'write'],
    defaultScopes: ['read'],
    redirectUris: [WEB_REDIRECT, `${WEB_REDIRECT}?tenant=1`],
  },
  // Another confidential client: "client B".
  {
    id: 'other',
    secret: 'other-secret',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['read', 'write'],
    redirectUris: ['https://other.example.com/cb'],
  },
  // One redirect URI with a query of its own: redirect_uri may be omitted; the query is kept.
  {
    id: 'single',
    secret: 'single-secret',
    grants: ['authorization_code'],
    scopes: ['read'],
    redirectUris: ['https://single.example.com/cb?from=tokengate'],
  },
  // Registered redirect URI but not allowed the code flow.
  {
    id: 'machine',
    secret: 'machine-secret',
    grants: ['client_credentials'],
    scopes: ['read'],
    redirectUris: ['https://machine.example.com/cb'],
  },
  // No redirect URI at all.
  { id: 'no-redirect', secret: 'no-redirect-secret', grants: ['client_credentials'], scopes: ['read'] },
];

export const USERS = [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }];

/** How the test hooks are told what to do: request headers. */
export const HOOK_HEADERS = {
  /** The signed-in user's id; absent means "not signed in" and the hook redirects to /login. */
  user: 'x-test-user',
  /** `no` → consent returns false; `page` → consent renders its own page; `silent` → returns undefined without responding. */
  consent: 'x-test-consent',
} as const;

/** Counts of hook calls, for "the hooks were not asked" assertions. */
export interface HookCalls {
  authenticate: number;
  consent: number;
}

/**
 * The hooks the tests use. Under Express they redirect with `res.redirect` (framework helper);
 * under Connect with plain Node calls, as an app on each would.
 */
export function testHooks(
  framework: Framework,
  calls: HookCalls,
): AuthorizeHooks<
  http.IncomingMessage & { originalUrl?: string },
  http.ServerResponse & { redirect?: (url: string) => void }
> {
  return {
    authenticate(req, res, info) {
      calls.authenticate++;
      const id = req.headers[HOOK_HEADERS.user];
      if (typeof id === 'string') return { id, name: 'Test user' };
      const location = '/login?next=' + encodeURIComponent(info.resumeUrl);
      if (framework === 'connect') {
        res.statusCode = 302;
        res.setHeader('Location', location);
        res.end();
      } else {
        (res.redirect as (url: string) => void)(location);
      }
      return undefined;
    },
    async consent(req, res) {
      calls.consent++;
      const answer = req.headers[HOOK_HEADERS.consent];
      if (answer === 'no') return false;
      if (answer === 'silent') return undefined;
      if (answer === 'page') {
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/html');
        res.end('<p>The app asks for consent here.</p>');
        return undefined;
      }
      return true;
    },
  };
}

export interface CodeApp {
  app: http.RequestListener;
  oauth: OAuthServer;
  logger: ReturnType<typeof recordingLogger>;
  calls: HookCalls;
}

/**
 * An app with the server mounted (at `mount`, default the root), the test hooks, and two
 * guarded routes: `/api/me` (scope read) and `/api/write` (scope write).
 */
export function buildCodeApp(
  framework: Framework = 'express5',
  options: Partial<ServerOptions> = {},
  stores: Stores = memoryStores({ clients: CLIENTS, users: USERS }),
  mount = '',
  before?: (app: { use: (...args: unknown[]) => unknown }) => void,
): CodeApp {
  const logger = recordingLogger();
  const calls: HookCalls = { authenticate: 0, consent: 0 };
  const oauth = oauthServer(stores, { issuer: ISSUER, logger, authorize: testHooks(framework, calls), ...options });
  const me = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify((req as unknown as { auth: unknown }).auth));
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const app = framework === 'connect' ? require('connect')() : require(framework)();
  before?.(app);
  if (mount) app.use(mount, oauth);
  else app.use(oauth);
  app.use('/api/me', oauth.requireToken({ scope: 'read' }));
  app.use('/api/me', me);
  app.use('/api/write', oauth.requireToken({ scope: 'write' }));
  app.use('/api/write', me);
  return { app, oauth, logger, calls };
}

/** A fresh PKCE verifier (43 characters) and its S256 challenge. */
export function pkcePair(verifier = randomBytes(32).toString('base64url')): { verifier: string; challenge: string } {
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorize URL for these parameters (undefined values left out). */
export function authorizeUrl(params: Record<string, string | undefined>, path = AUTHORIZE): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  return `${path}?${query.toString()}`;
}

/** The query parameters of a redirect's Location header. */
export function locationParams(location: string | undefined): URLSearchParams {
  expect(location).toEqual(expect.any(String));
  return new URL(location as string).searchParams;
}

/** A valid authorization request for the public client, with a fresh PKCE pair. */
export function spaRequest(extra: Record<string, string | undefined> = {}): {
  params: Record<string, string | undefined>;
  verifier: string;
} {
  const { verifier, challenge } = pkcePair();
  return {
    verifier,
    params: {
      response_type: 'code',
      client_id: 'spa',
      redirect_uri: SPA_REDIRECT,
      scope: 'read write',
      state: 'st-' + randomBytes(6).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    },
  };
}

/** Run an authorization request as a signed-in user who consents, and return the code. */
export async function obtainCode(
  app: Parameters<typeof request>[0],
  params: Record<string, string | undefined>,
  user = 'user-alice',
): Promise<string> {
  const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, user);
  expect(res.status).toBe(302);
  const query = locationParams(res.headers.location);
  expect(query.get('error')).toBeNull();
  return query.get('code') as string;
}

/** POST to the token endpoint with a form body and optional HTTP Basic credentials. */
export function exchange(
  app: Parameters<typeof request>[0],
  body: Record<string, string | undefined>,
  basicAuth?: [string, string],
) {
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) if (value !== undefined) form[name] = value;
  const req = request(app).post(TOKEN).type('form');
  if (basicAuth) req.auth(basicAuth[0], basicAuth[1]);
  return req.send(form);
}
