/**
 * Token introspection (RFC 7662) at POST /oauth/introspect.
 */
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { memoryStores, memoryTokenStore, type TokenStore } from '../../src';
import {
  clientToken,
  es256,
  introspect,
  LIFECYCLE_CLIENTS,
  ORDERS_API,
  OTHER,
  passwordTokens,
  refresh,
  revoke,
  signing,
  WEB,
} from '../support/lifecycle';
import { nowSeconds } from '../support/seconds';
import { basic, buildApp, decodeJwt, FRAMEWORKS, ISSUER, USERS } from '../support/spine';

const stores = () => memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS });
const INACTIVE = { active: false };

describe.each(FRAMEWORKS)('introspection endpoint under %s (RFC 7662)', (framework) => {
  const key = es256('intro-key');
  const { app } = buildApp(framework, { keys: [signing(key)], audience: 'https://api.example.com' }, stores());
  const opaque = buildApp(
    framework,
    { accessTokenFormat: 'opaque', audience: 'https://api.example.com' },
    stores(),
  ).app;

  test('an active JWT access token: active, scope, client_id, sub, exp, iat, iss, aud, token_type, jti from its claims (RFC 7662 §2.2)', async () => {
    const { access_token: token } = await passwordTokens(app);
    const res = await introspect(app, token);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    const { payload } = decodeJwt(token);
    expect(res.body).toEqual({
      active: true,
      scope: 'read write',
      client_id: 'web-app',
      sub: 'user-alice',
      exp: payload.exp,
      iat: payload.iat,
      iss: ISSUER,
      aud: 'https://api.example.com',
      token_type: 'Bearer',
      jti: payload.jti,
    });
  });

  test('an active opaque access token: the same members, from the stored record (RFC 7662 §2.2)', async () => {
    const { access_token: token } = await passwordTokens(opaque, WEB, 'read');
    const res = await introspect(opaque, token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      active: true,
      scope: 'read',
      client_id: 'web-app',
      sub: 'user-alice',
      exp: expect.any(Number),
      iat: expect.any(Number),
      iss: ISSUER,
      aud: 'https://api.example.com',
      token_type: 'Bearer',
      jti: expect.any(String),
    });
    expect(res.body.exp - res.body.iat).toBe(3600);
    expect(res.body.jti).not.toBe(token);
  });

  test('an active refresh token: active with scope, client_id, sub, exp, iat, iss, jti; no token_type or aud, since it is not a bearer access token (RFC 7662 §2.2)', async () => {
    const tokens = await passwordTokens(app);
    const res = await introspect(app, tokens.refresh_token, WEB, { token_type_hint: 'refresh_token' });
    expect(res.body).toEqual({
      active: true,
      scope: 'read write',
      client_id: 'web-app',
      sub: 'user-alice',
      exp: expect.any(Number),
      iat: expect.any(Number),
      iss: ISSUER,
      jti: expect.any(String),
    });
    expect(res.body.exp - res.body.iat).toBe(14 * 24 * 3600);
  });

  test('revoked tokens are inactive: {"active": false} and nothing else (RFC 7662 §2.2)', async () => {
    const tokens = await passwordTokens(app);
    await revoke(app, tokens.refresh_token);
    for (const token of [tokens.access_token, tokens.refresh_token]) {
      const res = await introspect(app, token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(INACTIVE);
    }
    const opaqueToken = await clientToken(opaque);
    await revoke(opaque, opaqueToken);
    expect((await introspect(opaque, opaqueToken)).body).toEqual(INACTIVE);
  });

  test('a rotated-away (consumed) refresh token is inactive (RFC 7662 §2.2, RFC 9700 §4.14.2)', async () => {
    const tokens = await passwordTokens(app);
    expect((await refresh(app, tokens.refresh_token)).status).toBe(200);
    expect((await introspect(app, tokens.refresh_token)).body).toEqual(INACTIVE);
  });

  test('an expired token, an unknown one, a forged JWT and garbage are all inactive (RFC 7662 §2.2)', async () => {
    const now = nowSeconds();
    const claims = {
      iss: ISSUER,
      aud: 'https://api.example.com',
      sub: 'web-app',
      client_id: 'web-app',
      scope: 'read',
      jti: 'j-exp',
      iat: now - 20,
      exp: now - 10,
    };
    const header = { alg: 'ES256' as const, typ: 'at+jwt' };
    const expired = jwt.sign(claims, key.privatePem, { algorithm: 'ES256', keyid: key.kid, header });
    const forger = es256('intro-key');
    const forged = jwt.sign({ ...claims, exp: now + 600 }, forger.privatePem, {
      algorithm: 'ES256',
      keyid: key.kid,
      header,
    });
    for (const token of [expired, forged, 'unknown-token', 'a.b.c', '%%%']) {
      const res = await introspect(app, token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(INACTIVE);
    }
  });

  test("another client's token is inactive for the asking client (RFC 7662 §2.2: not the caller's business)", async () => {
    const tokens = await passwordTokens(app);
    for (const token of [tokens.access_token, tokens.refresh_token])
      expect((await introspect(app, token, OTHER)).body).toEqual(INACTIVE);
    expect((await introspect(app, tokens.access_token, WEB)).body.active).toBe(true);
  });

  test("a client registered as a resource server may introspect any client's access token, but not refresh tokens (RFC 7662 §2.1)", async () => {
    const tokens = await passwordTokens(app);
    const access = await introspect(app, tokens.access_token, ORDERS_API);
    expect(access.body).toMatchObject({ active: true, client_id: 'web-app', sub: 'user-alice', token_type: 'Bearer' });
    expect((await introspect(app, tokens.refresh_token, ORDERS_API)).body).toEqual(INACTIVE);
    const opaqueToken = await clientToken(opaque);
    expect((await introspect(opaque, opaqueToken, ORDERS_API)).body).toMatchObject({
      active: true,
      client_id: 'web-app',
    });
  });

  test('token_type_hint only orders the search: a wrong or unknown hint still finds the token (RFC 7662 §2.1)', async () => {
    const tokens = await passwordTokens(opaque);
    expect((await introspect(opaque, tokens.refresh_token, WEB, { token_type_hint: 'access_token' })).body.active).toBe(
      true,
    );
    expect(
      (await introspect(opaque, tokens.access_token, WEB, { token_type_hint: 'refresh_token' })).body.token_type,
    ).toBe('Bearer');
    expect((await introspect(opaque, tokens.access_token, WEB, { token_type_hint: 'id_token' })).body.active).toBe(
      true,
    );
  });

  test('the endpoint requires client authentication: none, a wrong secret or a public client is 401 invalid_client (RFC 7662 §2.1, §2.3)', async () => {
    const token = await clientToken(app);
    const none = await request(app).post('/oauth/introspect').type('form').send({ token });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
    expect(none.headers['cache-control']).toBe('no-store');

    const wrong = await introspect(app, token, basic('web-app', 'nope'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic realm=/);

    const publicClient = await request(app).post('/oauth/introspect').type('form').send({ token, client_id: 'spa' });
    expect(publicClient.status).toBe(401);
    expect(publicClient.body.error).toBe('invalid_client');
  });

  test('client_secret_post works as at the token endpoint (RFC 6749 §2.3.1)', async () => {
    const token = await clientToken(app);
    const res = await request(app)
      .post('/oauth/introspect')
      .type('form')
      .send({ token, client_id: 'web-app', client_secret: 'web-secret' });
    expect(res.body.active).toBe(true);
  });

  test('a missing token parameter is 400 invalid_request (RFC 7662 §2.1: token is REQUIRED)', async () => {
    const res = await request(app).post('/oauth/introspect').set('Authorization', WEB).type('form').send({});
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  test('only POST: GET is 405 (RFC 7662 §2.1)', async () => {
    const res = await request(app).get('/oauth/introspect').set('Authorization', WEB);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });
});

test('a token store that throws gives 500 server_error; the cause is logged, not sent', async () => {
  const inner = memoryTokenStore();
  const failing: TokenStore = { ...inner, find: async () => Promise.reject(new Error('replica lag on db-3')) };
  const { app, logger } = buildApp('express5', { accessTokenFormat: 'opaque' }, { ...stores(), tokens: failing });
  const res = await introspect(app, 'some-opaque-token');
  expect(res.status).toBe(500);
  expect(res.body.error).toBe('server_error');
  expect(JSON.stringify(res.body)).not.toContain('db-3');
  expect(logger.lines.some((l) => l.level === 'error' && String((l.detail as Error)?.message).includes('db-3'))).toBe(
    true,
  );
});
