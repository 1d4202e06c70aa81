/**
 * The UserInfo endpoint (OpenID Connect Core §5.3, §5.4, §5.5; RFC 6750 errors, §5.3.3).
 */
import request from 'supertest';
import { memoryStores, oauthServer } from '../../src';
import {
  buildOidcApp,
  exchange,
  pkce,
  RP_SECRET,
  FRAMEWORKS,
  ISSUER,
  KEYS,
  OIDC_CLIENTS,
  OIDC_USERS,
  recordingLogger,
  rpRequest,
  tokensFor,
  verifyIdToken,
} from '../support/oidc';

const USERINFO = '/oauth/userinfo';

describe.each(FRAMEWORKS)('UserInfo under %s (OIDC Core §5.3.1, §5.3.2)', (framework) => {
  test("GET with a bearer token: sub and the claims of the token's scopes", async () => {
    const { app } = buildOidcApp(framework);
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid email' }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ sub: 'user-alice', email: 'alice@example.com', email_verified: true });
  });

  test('POST with the token in a form body (RFC 6750 §2.2)', async () => {
    const { app } = buildOidcApp(framework);
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid profile' }));
    const res = await request(app).post(USERINFO).type('form').send({ access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'user-alice', name: 'Alice Liddell', given_name: 'Alice' });
  });

  test('no token: 401 with a Bearer challenge and no error code (§5.3.3, RFC 6750 §3.1)', async () => {
    const { app } = buildOidcApp(framework);
    const res = await request(app).get(USERINFO);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${ISSUER}"`);
  });
});

describe('UserInfo rules (OIDC Core §5.3, §5.4, §5.5)', () => {
  test('each scope stands for its claims: address and phone, nothing else (§5.4)', async () => {
    const { app } = buildOidcApp();
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid address phone' }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.body).toEqual({ sub: 'user-alice', address: { country: 'GB' }, phone_number: '+44 20 7946 0000' });
  });

  test('openid alone gives only sub', async () => {
    const { app } = buildOidcApp();
    const { access_token } = await tokensFor(app, rpRequest());
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.body).toEqual({ sub: 'user-alice' });
  });

  test('a token without the openid scope is refused with insufficient_scope (403)', async () => {
    const { app } = buildOidcApp();
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'read', nonce: undefined }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope".*scope="openid"/);
  });

  test('an invalid token is 401 invalid_token with the challenge', async () => {
    const { app } = buildOidcApp();
    const res = await request(app).get(USERINFO).set('Authorization', 'Bearer not-a-real-token');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="https:\/\/auth\.example\.com", error="invalid_token"/,
    );
  });

  test('an ID token is not accepted as the bearer token', async () => {
    const { app } = buildOidcApp();
    const { id_token } = await tokensFor(app, rpRequest());
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${id_token as string}`);
    expect(res.status).toBe(401);
  });

  test('PUT is 405 with Allow', async () => {
    const { app } = buildOidcApp();
    const res = await request(app).put(USERINFO);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
  });

  test('the claims hook supplies the claims; the library filters them by scope and sets sub itself', async () => {
    const seen: unknown[] = [];
    const { app } = buildOidcApp('express5', {
      openid: {
        claims: (user, info) => {
          seen.push({ user: user.id, scopes: info.scopes, target: info.target });
          return { sub: 'spoofed', email: 'hook@example.com', name: 'From the hook', secret_field: 'x' };
        },
      },
    });
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid email' }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.body).toEqual({ sub: 'user-alice', email: 'hook@example.com' });
    expect(seen).toEqual([{ user: 'user-alice', scopes: ['openid', 'email'], target: 'userinfo' }]);
  });

  test('a user the user store no longer knows: 401 invalid_token', async () => {
    const stores = memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS });
    const { app } = buildOidcApp(
      'express5',
      {},
      { ...stores, users: { authenticate: stores.users!.authenticate, findUser: async () => undefined } },
    );
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid email' }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  test('claims asked for one by one with the claims parameter come back too (§5.5)', async () => {
    const { app } = buildOidcApp();
    const claims = JSON.stringify({ userinfo: { shoe_size: null, email: { essential: true } } });
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid', claims }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.body).toEqual({ sub: 'user-alice', shoe_size: 37, email: 'alice@example.com' });
  });

  test('the same works with opaque access tokens', async () => {
    const { app } = buildOidcApp('express5', { accessTokenFormat: 'opaque' });
    const claims = JSON.stringify({ userinfo: { shoe_size: null } });
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid email', claims }));
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.body).toEqual({ sub: 'user-alice', email: 'alice@example.com', email_verified: true, shoe_size: 37 });
  });

  test("sub is the ID token's sub, pairwise included (§5.3.2)", async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(
      app,
      rpRequest({ client_id: 'rp-pairwise', redirect_uri: 'https://a.pairwise.example/cb' }),
    );
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${body.access_token as string}`);
    expect(res.body.sub).toBe(verifyIdToken(body.id_token as string, 'rp-pairwise').sub);
    expect(res.body.sub).not.toBe('user-alice');
  });

  test('a refreshed access token keeps its UserInfo claims', async () => {
    const { app } = buildOidcApp();
    const first = await tokensFor(
      app,
      rpRequest({ scope: 'openid email', claims: JSON.stringify({ userinfo: { shoe_size: null } }) }),
    );
    const refreshed = await exchange(
      app,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token as string },
      ['rp', RP_SECRET],
    );
    const res = await request(app)
      .get(USERINFO)
      .set('Authorization', `Bearer ${refreshed.body.access_token as string}`);
    expect(res.body).toEqual({ sub: 'user-alice', email: 'alice@example.com', email_verified: true, shoe_size: 37 });
  });
});

describe('UserInfo CORS, as the token endpoint', () => {
  test('a configured origin may call UserInfo from a browser: preflight and response headers', async () => {
    const origin = 'https://spa-oidc.example.com';
    const { app } = buildOidcApp('express5', { cors: { clients: { 'spa-oidc': [origin] } } });
    const pre = await request(app)
      .options(USERINFO)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(origin);
    expect(pre.headers['access-control-allow-methods']).toBe('GET, POST');
    const { verifier, challenge } = pkce();
    const body = await tokensFor(
      app,
      rpRequest({
        client_id: 'spa-oidc',
        redirect_uri: 'https://spa-oidc.example.com/cb',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        code_verifier: verifier,
      }),
      {},
      null,
    );
    const res = await request(app)
      .get(USERINFO)
      .set('Origin', origin)
      .set('Authorization', `Bearer ${body.access_token as string}`);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    const other = await request(app)
      .get(USERINFO)
      .set('Origin', 'https://evil.example')
      .set('Authorization', `Bearer ${body.access_token as string}`);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

test('without openid options there is no UserInfo endpoint', async () => {
  const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
    issuer: ISSUER,
    keys: KEYS,
    logger: recordingLogger(),
    authorize: { authenticate: () => ({ id: 'u' }) },
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const res = await request(require('express5')().use(oauth)).get(USERINFO);
  expect(res.status).toBe(404);
});
