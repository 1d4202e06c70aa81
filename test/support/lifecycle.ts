/**
 * Fixtures for the token lifecycle and discovery tests (revocation, introspection, metadata,
 * JWKS, resource servers): clients including a resource server, keys, and request helpers.
 */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type { KeyInput, MemoryClientInput } from '../../src';
import { basic, CLIENTS } from './spine';

type App = Parameters<typeof request>[0];

/** The spine's clients, plus a second confidential app and an API registered as a resource server. */
export const LIFECYCLE_CLIENTS: MemoryClientInput[] = [
  ...CLIENTS,
  {
    id: 'other-app',
    secret: 'other-secret',
    grants: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['read', 'write'],
  },
  { id: 'orders-api', secret: 'orders-secret', grants: [], scopes: [], resourceServer: true },
];

export const WEB = basic('web-app', 'web-secret');
export const OTHER = basic('other-app', 'other-secret');
export const ORDERS_API = basic('orders-api', 'orders-secret');

/** A fresh ES256 key pair as PEM text, with a kid. */
export function es256(kid: string): { kid: string; privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    kid,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
  };
}

/** The key as a signing key. */
export const signing = (k: { kid: string; privatePem: string }): KeyInput => ({
  kid: k.kid,
  alg: 'ES256',
  privateKey: k.privatePem,
});
/** The key as a verify-only key (public half only). */
export const verifyOnly = (k: { kid: string; publicPem: string }): KeyInput => ({
  kid: k.kid,
  alg: 'ES256',
  publicKey: k.publicPem,
});

/** Alice's password grant request as sent (no `scope`: the client's default), for the answer as it is. */
export function passwordGrant(app: App, client = WEB, scope?: string, path = '/oauth/token'): request.Test {
  return request(app)
    .post(path)
    .set('Authorization', client)
    .type('form')
    .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', ...(scope && { scope }) });
}

/** Password-grant tokens for alice, issued to `client`. */
export async function passwordTokens(
  app: App,
  client = WEB,
  scope = 'read write',
  path = '/oauth/token',
): Promise<{ access_token: string; refresh_token: string; scope: string }> {
  const res = await passwordGrant(app, client, scope, path);
  if (res.status !== 200) throw new Error(`password grant failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A client_credentials access token for `client`. */
export async function clientToken(app: App, client = WEB, scope = 'read'): Promise<string> {
  const res = await request(app)
    .post('/oauth/token')
    .set('Authorization', client)
    .type('form')
    .send({ grant_type: 'client_credentials', scope });
  if (res.status !== 200) throw new Error(`client_credentials failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** Refresh with `refreshToken` as `client`; `extra` adds parameters (e.g. a narrower `scope`). */
export function refresh(app: App, refreshToken: string, client = WEB, extra: Record<string, string> = {}) {
  return request(app)
    .post('/oauth/token')
    .set('Authorization', client)
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** POST /oauth/revoke. */
export function revoke(
  app: App,
  token: string,
  client = WEB,
  extra: Record<string, string> = {},
  path = '/oauth/revoke',
) {
  return request(app)
    .post(path)
    .set('Authorization', client)
    .type('form')
    .send({ token, ...extra });
}

/** POST /oauth/introspect. */
export function introspect(
  app: App,
  token: string,
  client = WEB,
  extra: Record<string, string> = {},
  path = '/oauth/introspect',
) {
  return request(app)
    .post(path)
    .set('Authorization', client)
    .type('form')
    .send({ token, ...extra });
}

/** GET /api/me with a bearer token (the spine app's guarded route, scope read). */
export function me(app: App, token: string) {
  return request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
}
