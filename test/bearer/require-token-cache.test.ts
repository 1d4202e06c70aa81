/**
 * The requireToken cache's lifetime rules: an entry is served until the token's `exp` or
 * for `cache.maxAge` seconds, whichever comes first, for JWT and opaque tokens alike; a
 * cached entry is never a mutable object shared between requests.
 */
import request from 'supertest';
import { memoryStores, type TokenStore } from '../../src';
import { advanceClock } from '../support/clock';
import { clientToken } from '../support/lifecycle';
import { buildApp, CLIENTS, USERS } from '../support/spine';

function countingStores() {
  const base = memoryStores({ clients: CLIENTS, users: USERS });
  const calls = { lookups: 0 };
  const tokens: TokenStore = {
    ...base.tokens,
    isRevoked: (ids) => {
      calls.lookups++;
      return base.tokens.isRevoked(ids);
    },
    find: (kind, id) => {
      if (kind === 'access_token') calls.lookups++;
      return base.tokens.find(kind, id);
    },
  };
  return { stores: { ...base, tokens }, calls };
}

describe.each(['jwt', 'opaque'] as const)('the requireToken cache with %s access tokens', (accessTokenFormat) => {
  test('cache.maxAge: a cached token is served from the cache until maxAge, then checked against the store again', async () => {
    const { stores, calls } = countingStores();
    const { app } = buildApp('express5', { accessTokenFormat, cache: { maxAge: 1 } }, stores);
    const token = await clientToken(app);
    const get = () => request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect(calls.lookups).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await get()).status).toBe(200);
    expect(calls.lookups).toBe(2);
  });

  test('without maxAge a cached token is served until it expires, then refused (RFC 6750 §3.1 invalid_token)', async () => {
    const { stores, calls } = countingStores();
    const { app } = buildApp('express5', { accessTokenFormat, accessTokenLifetime: 60 }, stores);
    const token = await clientToken(app);
    const get = () => request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect(calls.lookups).toBe(1);
    const restore = advanceClock(61); // past exp, without sleeping through it
    try {
      const res = await get();
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
    } finally {
      restore();
    }
  });

  test('a cached token cannot be altered through req.auth: its scope and claims are frozen for every later request', async () => {
    const { stores } = countingStores();
    const { app, oauth } = buildApp('express5', { accessTokenFormat }, stores);
    type Req = { auth: { scope: string[]; claims: Record<string, unknown> } };
    const express = app as unknown as { get: (path: string, ...handlers: unknown[]) => void };
    express.get(
      '/api/tamper',
      oauth.requireToken({ scope: 'read' }),
      (req: Req, res: { end: (body: string) => void }) => {
        const attempts = [() => req.auth.scope.push('write'), () => (req.auth.claims.scope = 'read write')];
        const outcome = (attempt: () => unknown) => {
          try {
            attempt();
            return 'changed';
          } catch {
            return 'refused';
          }
        };
        res.end(JSON.stringify(attempts.map(outcome)));
      },
    );
    const token = await clientToken(app);
    const tamper = await request(app).get('/api/tamper').set('Authorization', `Bearer ${token}`);
    expect(JSON.parse(tamper.text)).toEqual(['refused', 'refused']);
    const me = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(me.body.scope).toEqual(['read']);
  });
});
