/**
 * RP-Initiated Logout 1.0 (§2, §3): the end-session endpoint, its id_token_hint checks and
 * the exact post_logout_redirect_uri match; the app's logout hook ends its session.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { LogoutInfo } from '../../src';
import { buildOidcApp, FRAMEWORKS, ISSUER, KEYS, RP_LOGOUT, rpRequest, tokensFor } from '../support/oidc';
import { nowSeconds } from '../support/seconds';

const LOGOUT = '/oauth/logout';

function appWithLogout(framework: (typeof FRAMEWORKS)[number] = 'express5', respond?: boolean) {
  const seen: LogoutInfo[] = [];
  const built = buildOidcApp(framework, {
    openid: {
      logout: (_req, res, info) => {
        seen.push(info);
        if (respond) {
          res.statusCode = 200;
          res.setHeader('Content-Type', 'text/html');
          res.end('<p>Sign out of all apps?</p>');
        }
      },
    },
  });
  return { ...built, seen };
}

const rsaPrivate = KEYS[1]?.privateKey as KeyObject;

describe.each(FRAMEWORKS)('end-session endpoint under %s (RP-Initiated Logout §2, §3)', (framework) => {
  test('a valid id_token_hint and a registered post_logout_redirect_uri: the hook runs, then the browser goes back with state', async () => {
    const { app, seen } = appWithLogout(framework);
    const { id_token } = await tokensFor(app, rpRequest());
    const res = await request(app)
      .get(LOGOUT)
      .query({ id_token_hint: id_token as string, post_logout_redirect_uri: RP_LOGOUT, state: 'bye-1' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${RP_LOGOUT}?state=bye-1`);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.client?.id).toBe('rp');
    expect(seen[0]?.idToken?.sub).toBe('user-alice');
  });

  test('POST with a form body works the same, answered with 303', async () => {
    const { app, seen } = appWithLogout(framework);
    const { id_token } = await tokensFor(app, rpRequest());
    const res = await request(app)
      .post(LOGOUT)
      .type('form')
      .send({ id_token_hint: id_token as string, post_logout_redirect_uri: RP_LOGOUT });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(RP_LOGOUT);
    expect(seen).toHaveLength(1);
  });
});

describe('end-session rules (RP-Initiated Logout §2, §3)', () => {
  test('a post_logout_redirect_uri that is not registered exactly is refused with a page, and the hook does not run', async () => {
    const { app, seen } = appWithLogout();
    const { id_token } = await tokensFor(app, rpRequest());
    for (const uri of [
      `${RP_LOGOUT}/`,
      `${RP_LOGOUT}?x=1`,
      'https://evil.example/signed-out',
      RP_LOGOUT.toUpperCase(),
    ]) {
      const res = await request(app)
        .get(LOGOUT)
        .query({ id_token_hint: id_token as string, post_logout_redirect_uri: uri });
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }
    expect(seen).toHaveLength(0);
  });

  test('a forged id_token_hint (another key under our kid) is refused', async () => {
    const { app, seen } = appWithLogout();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = jwt.sign({ iss: ISSUER, sub: 'user-alice', aud: 'rp' }, other, {
      algorithm: 'RS256',
      keyid: 'rs-1',
      header: { alg: 'RS256', typ: 'JWT' },
    });
    const res = await request(app).get(LOGOUT).query({ id_token_hint: forged, post_logout_redirect_uri: RP_LOGOUT });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id_token_hint');
    expect(seen).toHaveLength(0);
  });

  test('an id_token_hint with a crit header is refused (RFC 7515 §4.1.11)', async () => {
    const { app, seen } = appWithLogout();
    const hint = jwt.sign({ iss: ISSUER, sub: 'user-alice', aud: 'rp' }, rsaPrivate, {
      algorithm: 'RS256',
      keyid: 'rs-1',
      header: { alg: 'RS256', typ: 'JWT', crit: ['exp'] } as never,
    });
    expect((await request(app).get(LOGOUT).query({ id_token_hint: hint })).status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  test('an id_token_hint from another issuer is refused, even signed with our key', async () => {
    const { app, seen } = appWithLogout();
    const foreign = jwt.sign({ iss: 'https://other.example.com', sub: 'user-alice', aud: 'rp' }, rsaPrivate, {
      algorithm: 'RS256',
      keyid: 'rs-1',
      header: { alg: 'RS256', typ: 'JWT' },
    });
    const res = await request(app).get(LOGOUT).query({ id_token_hint: foreign });
    expect(res.status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  test('an access token is not an id_token_hint; nor is garbage', async () => {
    const { app, seen } = appWithLogout();
    const { access_token } = await tokensFor(app, rpRequest());
    expect(
      (
        await request(app)
          .get(LOGOUT)
          .query({ id_token_hint: access_token as string })
      ).status,
    ).toBe(400);
    expect((await request(app).get(LOGOUT).query({ id_token_hint: 'a.b.c' })).status).toBe(400);
    expect(
      (
        await request(app)
          .post(LOGOUT)
          .type('form')
          .send({ id_token_hint: 'x'.repeat(16_000) })
      ).status,
    ).toBe(400);
    expect(seen).toHaveLength(0);
  });

  test('an expired id_token_hint is still accepted (§2: the OP SHOULD accept it)', async () => {
    const { app, seen } = appWithLogout();
    const now = nowSeconds();
    const expired = jwt.sign(
      { iss: ISSUER, sub: 'user-alice', aud: 'rp', iat: now - 7200, exp: now - 3600 },
      rsaPrivate,
      { algorithm: 'RS256', keyid: 'rs-1', header: { alg: 'RS256', typ: 'JWT' } },
    );
    const res = await request(app).get(LOGOUT).query({ id_token_hint: expired, post_logout_redirect_uri: RP_LOGOUT });
    expect(res.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  test('post_logout_redirect_uri with client_id instead of a hint works; without either it is refused', async () => {
    const { app, seen } = appWithLogout();
    const ok = await request(app)
      .get(LOGOUT)
      .query({ client_id: 'rp', post_logout_redirect_uri: RP_LOGOUT, state: 's' });
    expect(ok.status).toBe(302);
    expect(seen[0]?.idToken).toBeUndefined(); // no hint: the hook should ask the user to confirm
    const bad = await request(app).get(LOGOUT).query({ post_logout_redirect_uri: RP_LOGOUT });
    expect(bad.status).toBe(400);
    expect(seen).toHaveLength(1);
  });

  test("a client_id that is not the hint's audience is refused", async () => {
    const { app, seen } = appWithLogout();
    const { id_token } = await tokensFor(app, rpRequest());
    const res = await request(app)
      .get(LOGOUT)
      .query({ id_token_hint: id_token as string, client_id: 'rp-es' });
    expect(res.status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  test('without a redirect URI the library shows a signed-out page after the hook', async () => {
    const { app, seen } = appWithLogout();
    const res = await request(app).get(LOGOUT);
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are signed out');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(seen).toHaveLength(1);
  });

  test('a hook that responds itself (a confirmation page) has the last word', async () => {
    const { app } = appWithLogout('express5', true);
    const res = await request(app).get(LOGOUT).query({ client_id: 'rp', post_logout_redirect_uri: RP_LOGOUT });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Sign out of all apps?');
  });

  test('a repeated parameter is refused, and so is PUT', async () => {
    const { app, seen } = appWithLogout();
    expect((await request(app).get(`${LOGOUT}?state=a&state=b`)).status).toBe(400);
    expect((await request(app).put(LOGOUT)).status).toBe(405);
    expect(seen).toHaveLength(0);
  });
});
