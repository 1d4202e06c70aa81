/**
 * Fixtures for the OpenID Connect tests: signing keys made once per process, relying-party
 * clients, users with profile claims, and an app whose authorize hooks honour prompt=none and
 * report authTime/acr/amr, driven by test headers.
 */
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import {
  memoryStores,
  type AuthorizeHooks,
  type MemoryClientInput,
  type ServerOptions,
  type Stores,
  type KeyInput,
} from '../../src';
import {
  authorizeUrl,
  buildCodeApp,
  exchange,
  HOOK_HEADERS,
  locationParams,
  pkcePair,
  type CodeApp,
  type Framework,
  type HookCalls,
} from './authorization-code';

export { FRAMEWORKS, decodeJwt, listen, recordingLogger, type Framework } from './spine';
export { authorizeUrl, exchange, locationParams, pkcePair, HOOK_HEADERS } from './authorization-code';

export const ISSUER = 'https://auth.example.com';
export const RP_REDIRECT = 'https://rp.example.com/cb';
export const RP_LOGOUT = 'https://rp.example.com/signed-out';
export const RP_SECRET = 'rp-oidc-secret';

// Made once: RSA key generation takes a while, and every server in a test file can share them.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
/** ES256 signs access tokens (first), RS256 signs ID tokens by default. */
export const KEYS: KeyInput[] = [
  { kid: 'es-1', alg: 'ES256', privateKey: ec.privateKey },
  { kid: 'rs-1', alg: 'RS256', privateKey: rsa.privateKey },
];
export const RSA_PUBLIC: KeyObject = createPublicKey(rsa.privateKey);
export const EC_PUBLIC: KeyObject = createPublicKey(ec.privateKey);

const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'read'];
export const OIDC_CLIENTS: MemoryClientInput[] = [
  {
    id: 'rp',
    secret: RP_SECRET,
    grants: ['authorization_code', 'refresh_token'],
    scopes: OIDC_SCOPES,
    redirectUris: [RP_REDIRECT],
    postLogoutRedirectUris: [RP_LOGOUT],
  },
  {
    id: 'rp-es',
    secret: RP_SECRET,
    grants: ['authorization_code'],
    scopes: OIDC_SCOPES,
    redirectUris: ['https://es.example.com/cb'],
    idTokenSignedResponseAlg: 'ES256',
  },
  {
    id: 'rp-pairwise',
    secret: RP_SECRET,
    grants: ['authorization_code', 'refresh_token'],
    scopes: OIDC_SCOPES,
    redirectUris: ['https://a.pairwise.example/cb'],
    subjectType: 'pairwise',
  },
  {
    id: 'rp-pairwise-2',
    secret: RP_SECRET,
    grants: ['authorization_code'],
    scopes: OIDC_SCOPES,
    redirectUris: ['https://b.pairwise.example/cb'],
    subjectType: 'pairwise',
  },
  {
    id: 'rp-pairwise-same-sector',
    secret: RP_SECRET,
    grants: ['authorization_code'],
    scopes: OIDC_SCOPES,
    redirectUris: ['https://a.pairwise.example/other'],
    subjectType: 'pairwise',
  },
  {
    id: 'rp-auth-time',
    secret: RP_SECRET,
    grants: ['authorization_code'],
    scopes: OIDC_SCOPES,
    redirectUris: ['https://at.example.com/cb'],
    requireAuthTime: true,
  },
  {
    id: 'spa-oidc',
    grants: ['authorization_code', 'refresh_token'],
    scopes: OIDC_SCOPES,
    redirectUris: ['https://spa-oidc.example.com/cb'],
  },
];

export const OIDC_USERS = [
  {
    id: 'user-alice',
    username: 'alice@example.com',
    password: 'wonderland',
    name: 'Alice Liddell',
    given_name: 'Alice',
    email: 'alice@example.com',
    email_verified: true,
    phone_number: '+44 20 7946 0000',
    address: { country: 'GB' },
    shoe_size: 37,
  },
];

/** Extra hook headers: when the user signed in (seconds), and how. */
export const OIDC_HEADERS = { authTime: 'x-test-auth-time', acr: 'x-test-acr', amr: 'x-test-amr' } as const;

/** Hooks that honour prompt=none (return undefined instead of redirecting) and report how the user signed in. */
export function oidcHooks(
  framework: Framework,
  calls: HookCalls & { infos?: unknown[] },
): AuthorizeHooks<http.IncomingMessage, http.ServerResponse & { redirect?: (url: string) => void }> {
  const go = (res: http.ServerResponse & { redirect?: (url: string) => void }, location: string): void => {
    if (framework === 'connect') {
      res.statusCode = 302;
      res.setHeader('Location', location);
      res.end();
    } else (res.redirect as (url: string) => void)(location);
  };
  return {
    authenticate(req, res, info) {
      calls.authenticate++;
      calls.infos?.push(info);
      const id = req.headers[HOOK_HEADERS.user];
      const authTime = req.headers[OIDC_HEADERS.authTime];
      if (typeof id === 'string' && !info.reauthenticate) {
        return {
          user: { id },
          ...(typeof authTime === 'string' && { authTime: Number(authTime) }),
          ...(typeof req.headers[OIDC_HEADERS.acr] === 'string' && { acr: req.headers[OIDC_HEADERS.acr] as string }),
          ...(typeof req.headers[OIDC_HEADERS.amr] === 'string' && {
            amr: (req.headers[OIDC_HEADERS.amr] as string).split(','),
          }),
        };
      }
      if (info.prompt.includes('none')) return undefined;
      go(res, '/login?next=' + encodeURIComponent(info.resumeUrl));
      return undefined;
    },
    consent(req, res, info) {
      calls.consent++;
      const answer = req.headers[HOOK_HEADERS.consent];
      if (answer === 'no') return false;
      if (answer === 'page' || info.prompt.includes('consent')) {
        if (info.prompt.includes('none')) return undefined;
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/html');
        res.end('<p>The app asks for consent here.</p>');
        return undefined;
      }
      return true;
    },
  };
}

export interface OidcApp extends CodeApp {
  calls: HookCalls & { infos: unknown[] };
}

/** An app with OpenID Connect on (keys above, the OIDC clients and users), mounted at the root. */
export function buildOidcApp(
  framework: Framework = 'express5',
  options: Partial<ServerOptions> = {},
  stores: Stores = memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }),
): OidcApp {
  const calls = { authenticate: 0, consent: 0, infos: [] as unknown[] };
  const built = buildCodeApp(
    framework,
    {
      keys: KEYS,
      authorize: oidcHooks(framework, calls),
      openid: { pairwiseSalt: 'pairwise-salt-for-the-tests-0123456789' },
      ...options,
    },
    stores,
  );
  return { ...built, calls };
}

/** A valid OpenID Connect authorization request for the confidential `rp` client. */
export function rpRequest(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: 'rp',
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    state: 'st-1',
    nonce: 'n-0S6_WzA2Mj',
    ...extra,
  };
}

/** Authorize as a signed-in user with these extra headers; the redirect's query. */
export async function authorizeAs(
  app: http.RequestListener,
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
  user: string | null = 'user-alice',
): Promise<URLSearchParams> {
  const req = request(app).get(authorizeUrl(params));
  if (user !== null) req.set(HOOK_HEADERS.user, user);
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  const res = await req;
  expect(res.status).toBe(302);
  // Every answer here goes back to the client's redirect URI, never to a page of the app.
  expect(res.headers.location).toMatch(/^https:\/\//);
  return locationParams(res.headers.location);
}

/** Sign in, get a code for `params`, exchange it as `client`: the token response. */
export async function tokensFor(
  app: http.RequestListener,
  params: Record<string, string | undefined> = rpRequest(),
  headers: Record<string, string> = {},
  secret: string | null = RP_SECRET,
): Promise<Record<string, unknown>> {
  const { code_verifier, ...authorizeParams } = params;
  const query = await authorizeAs(app, authorizeParams, headers);
  expect(query.get('error')).toBeNull();
  const code = query.get('code') as string;
  const client = params.client_id as string;
  const form = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: params.redirect_uri,
    code_verifier,
    client_id: secret === null ? client : undefined,
  };
  const res = await exchange(app, form, secret === null ? undefined : [client, secret]);
  expect(res.status).toBe(200);
  return res.body;
}

/** Verify an ID token with the fixture keys the way a relying party would (OIDC Core §3.1.3.7). */
export function verifyIdToken(
  idToken: string,
  audience = 'rp',
  algorithms: jwt.Algorithm[] = ['RS256'],
): Record<string, unknown> {
  const key = algorithms[0]?.startsWith('ES') ? EC_PUBLIC : RSA_PUBLIC;
  return jwt.verify(idToken, key, { algorithms, issuer: ISSUER, audience }) as Record<string, unknown>;
}

export { request, pkcePair as pkce };
