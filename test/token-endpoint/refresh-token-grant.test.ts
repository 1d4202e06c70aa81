/**
 * Refresh tokens (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).
 */
import request from 'supertest';
import { memoryStores } from '../../src';
import { passwordTokens, refresh, WEB } from '../support/lifecycle';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, listen, USERS } from '../support/spine';

const TOKEN = '/oauth/token';

describe.each(FRAMEWORKS)('refresh tokens under %s', (framework) => {
  const { app } = buildApp(framework);

  test('every refresh returns a new refresh token of the same family (RFC 9700 §4.14.2)', async () => {
    const first = await passwordTokens(app);
    const res = await refresh(app, first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.refresh_token).toEqual(expect.any(String));
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    expect(res.body.scope).toBe('read write');
    expect(decodeJwt(res.body.access_token).payload.fid).toBe(decodeJwt(first.access_token).payload.fid);
    const me = await request(app).get('/api/me').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(me.status).toBe(200);
    expect(me.body.sub).toBe('user-alice');
  });

  test('a consumed refresh token presented again is invalid_grant and revokes the whole family (RFC 9700 §4.14.2)', async () => {
    const first = await passwordTokens(app);
    const second = (await refresh(app, first.refresh_token)).body;
    // Both access tokens work and are cached.
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${first.access_token}`)).status).toBe(200);
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${second.access_token}`)).status).toBe(200);

    const replay = await refresh(app, first.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');

    // The family is dead: the rotated refresh token and every access token, even cached ones.
    const rotated = await refresh(app, second.refresh_token);
    expect(rotated.body.error).toBe('invalid_grant');
    for (const token of [first.access_token, second.access_token]) {
      const me = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
      expect(me.status).toBe(401);
      expect(me.body.error).toBe('invalid_token');
    }
  });

  test('refresh may narrow the scope; the new refresh token keeps the original scope (RFC 6749 §6)', async () => {
    const first = await passwordTokens(app);
    const narrowed = await refresh(app, first.refresh_token, WEB, { scope: 'read' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('read');
    const again = await refresh(app, narrowed.body.refresh_token);
    expect(again.status).toBe(200);
    expect(again.body.scope).toBe('read write');
  });

  test('refresh may not widen the scope: invalid_scope, and the token is not burnt', async () => {
    const first = await passwordTokens(app, basic('web-app', 'web-secret'), 'read');
    const widened = await refresh(app, first.refresh_token, WEB, { scope: 'read write' });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');
    expect((await refresh(app, first.refresh_token)).status).toBe(200);
  });

  test('a refresh token of another client is invalid_grant and is not burnt (RFC 6749 §6)', async () => {
    const first = await passwordTokens(app);
    const stolen = await refresh(app, first.refresh_token, basic('reader', 'reader-secret'));
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    expect((await refresh(app, first.refresh_token)).status).toBe(200);
  });

  test('an unknown refresh token is invalid_grant; a missing one is invalid_request', async () => {
    expect((await refresh(app, 'not-a-token')).body.error).toBe('invalid_grant');
    const missing = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'refresh_token' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  test('a public client refreshes with its client_id', async () => {
    // The password grant takes a public client only when allowed (RFC 9700 §2.4).
    const { app: lenient } = buildApp(framework, { passwordGrant: { allowPublicClients: true } });
    const res = await request(lenient)
      .post(TOKEN)
      .type('form')
      .send({ grant_type: 'password', client_id: 'spa', username: 'alice@example.com', password: 'wonderland' });
    const refreshed = await request(lenient)
      .post(TOKEN)
      .type('form')
      .send({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: res.body.refresh_token });
    expect(refreshed.status).toBe(200);
  });
});

describe('refresh token single use is atomic', () => {
  test('100 concurrent refreshes of one refresh token: one rotation (plus at most refreshTokenReuseLimit retries that caught it unsaved, with the same successor), the rest are replays that revoke the family (RFC 9700 §4.14.2)', async () => {
    const { app } = buildApp('express5');
    const first = await passwordTokens(app);
    // A listening server, so the 100 requests really are concurrent on the socket level.
    const server = await listen(app);
    try {
      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          fetch(`${server.url}${TOKEN}`, {
            method: 'POST',
            headers: {
              authorization: basic('web-app', 'web-secret'),
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
          }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { error?: string; refresh_token?: string },
          })),
        ),
      );
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(ok.length).toBeLessThanOrEqual(1 + 3);
      expect(new Set(ok.map((r) => r.body.refresh_token)).size).toBe(1);
      const failures = results.filter((r) => r.status !== 200);
      expect(failures.every((r) => r.status === 400 && r.body.error === 'invalid_grant')).toBe(true);
      // The replays revoked the family: the one successor is dead too.
      expect((await refresh(app, ok[0]?.body.refresh_token as string)).body.error).toBe('invalid_grant');
    } finally {
      await server.close();
    }
  });
});

describe('lifetimes', () => {
  test('refresh token lifetime is an option and a client can override it', async () => {
    const stores = memoryStores({
      clients: [
        ...CLIENTS.filter((c) => c.id !== 'web-app'),
        { ...CLIENTS[0]!, refreshTokenLifetime: 1, accessTokenLifetime: 120 },
      ],
      users: USERS,
    });
    const { app } = buildApp('express5', { refreshTokenLifetime: 3600, accessTokenLifetime: 600 }, stores);
    const first = await passwordTokens(app);
    const reader = await passwordTokens(app, basic('reader', 'reader-secret'));
    expect(decodeJwt(first.access_token).payload.exp as number).toBe(
      (decodeJwt(first.access_token).payload.iat as number) + 120,
    );
    expect(decodeJwt(reader.access_token).payload.exp as number).toBe(
      (decodeJwt(reader.access_token).payload.iat as number) + 600,
    );
    await new Promise((r) => setTimeout(r, 2100));
    expect((await refresh(app, first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(app, reader.refresh_token, basic('reader', 'reader-secret'))).status).toBe(200);
  });
});
