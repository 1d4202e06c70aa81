/**
 * Token revocation (RFC 7009) at POST /oauth/revoke, and what it does to `requireToken`.
 */
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { memoryStores, memoryTokenStore, type TokenStore } from '../../src';
import {
  clientToken,
  es256,
  LIFECYCLE_CLIENTS,
  me,
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

describe.each(FRAMEWORKS)('revocation endpoint under %s (RFC 7009)', (framework) => {
  describe.each(['jwt', 'opaque'] as const)('%s access tokens', (format) => {
    const { app } = buildApp(framework, { accessTokenFormat: format }, stores());

    test('a revoked access token is rejected by requireToken on the next request, even though it was cached (RFC 7009 §2.1)', async () => {
      const token = await clientToken(app);
      expect((await me(app, token)).status).toBe(200); // now cached
      const res = await revoke(app, token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const after = await me(app, token);
      expect(after.status).toBe(401);
      expect(after.body.error).toBe('invalid_token');
      expect(after.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    });

    test('revoking a refresh token revokes its family: every refresh token and every access token issued from it (RFC 7009 §2.1)', async () => {
      const first = await passwordTokens(app);
      const second = (await refresh(app, first.refresh_token)).body;
      expect(second.access_token).toEqual(expect.any(String));
      for (const token of [first.access_token, second.access_token]) expect((await me(app, token)).status).toBe(200);

      expect((await revoke(app, second.refresh_token, WEB, { token_type_hint: 'refresh_token' })).status).toBe(200);

      for (const token of [first.access_token, second.access_token]) {
        const res = await me(app, token);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
      }
      const again = await refresh(app, second.refresh_token);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
    });

    test("revoking an access token leaves the grant's refresh token usable (RFC 7009 §2.1 makes that a MAY; we revoke only what was named)", async () => {
      const tokens = await passwordTokens(app);
      await revoke(app, tokens.access_token, WEB, { token_type_hint: 'access_token' });
      expect((await me(app, tokens.access_token)).status).toBe(401);
      const refreshed = await refresh(app, tokens.refresh_token);
      expect(refreshed.status).toBe(200);
      expect((await me(app, refreshed.body.access_token)).status).toBe(200);
    });

    test("a client cannot revoke another client's tokens: 200, and they stay valid (RFC 7009 §2.1)", async () => {
      const tokens = await passwordTokens(app);
      for (const token of [tokens.access_token, tokens.refresh_token]) {
        const res = await revoke(app, token, OTHER);
        expect(res.status).toBe(200);
      }
      expect((await me(app, tokens.access_token)).status).toBe(200);
      expect((await refresh(app, tokens.refresh_token)).status).toBe(200);
    });

    test('a wrong token_type_hint still finds the token: the server searches every type (RFC 7009 §2.1)', async () => {
      const tokens = await passwordTokens(app);
      await revoke(app, tokens.refresh_token, WEB, { token_type_hint: 'access_token' });
      expect((await refresh(app, tokens.refresh_token)).body.error).toBe('invalid_grant');
      const more = await passwordTokens(app);
      await revoke(app, more.access_token, WEB, { token_type_hint: 'refresh_token' });
      expect((await me(app, more.access_token)).status).toBe(401);
    });

    test('an unknown token_type_hint value is ignored rather than refused (RFC 7009 §2.1: the hint is only a hint)', async () => {
      const token = await clientToken(app);
      expect((await revoke(app, token, WEB, { token_type_hint: 'id_token' })).status).toBe(200);
      expect((await me(app, token)).status).toBe(401);
    });
  });

  const { app } = buildApp(framework, {}, stores());

  test('an unknown, malformed or already revoked token is answered 200 (RFC 7009 §2.2)', async () => {
    const token = await clientToken(app);
    for (const presented of ['no-such-token', 'a.b.c', token, token]) {
      const res = await revoke(app, presented);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  test('an expired access token is answered 200 (RFC 7009 §2.2)', async () => {
    const key = es256('expired-key');
    const local = buildApp(framework, { keys: [signing(key)] }, stores());
    const now = nowSeconds();
    const expired = jwt.sign(
      {
        iss: ISSUER,
        aud: ISSUER,
        sub: 'web-app',
        client_id: 'web-app',
        scope: 'read',
        jti: 'j1',
        iat: now - 20,
        exp: now - 10,
      },
      key.privatePem,
      {
        algorithm: 'ES256',
        keyid: key.kid,
        header: { alg: 'ES256', typ: 'at+jwt' },
      },
    );
    expect((await revoke(local.app, expired)).status).toBe(200);
  });

  test('client authentication works as at the token endpoint: Basic, client_secret_post, public clients for their own tokens (RFC 7009 §2.1)', async () => {
    const viaPost = await clientToken(app);
    const res = await request(app)
      .post('/oauth/revoke')
      .type('form')
      .send({ token: viaPost, client_id: 'web-app', client_secret: 'web-secret' });
    expect(res.status).toBe(200);
    expect((await me(app, viaPost)).status).toBe(401);

    // The password grant takes a public client only when allowed (RFC 9700 §2.4).
    const { app: lenient } = buildApp(framework, { passwordGrant: { allowPublicClients: true } }, stores());
    const spaTokens = await request(lenient)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: 'spa', username: 'alice@example.com', password: 'wonderland' });
    expect(spaTokens.status).toBe(200);
    const spaRevoke = await request(lenient)
      .post('/oauth/revoke')
      .type('form')
      .send({ token: spaTokens.body.refresh_token, client_id: 'spa' });
    expect(spaRevoke.status).toBe(200);
    expect((await refresh(lenient, spaTokens.body.refresh_token, basic('spa', ''))).status).not.toBe(200);
    expect((await me(lenient, spaTokens.body.access_token)).status).toBe(401);
  });

  test('failed client authentication is 401 invalid_client with a Basic challenge, and nothing is revoked (RFC 7009 §2.2.1, RFC 6749 §5.2)', async () => {
    const token = await clientToken(app);
    const res = await revoke(app, token, basic('web-app', 'wrong'));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await me(app, token)).status).toBe(200);

    const anonymous = await request(app).post('/oauth/revoke').type('form').send({ token });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
  });

  test('a missing token parameter is 400 invalid_request (RFC 7009 §2.1: token is REQUIRED)', async () => {
    const res = await request(app)
      .post('/oauth/revoke')
      .set('Authorization', WEB)
      .type('form')
      .send({ token_type_hint: 'access_token' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('token') });
  });

  test('a repeated parameter or a JSON body is 400 invalid_request, never a 5xx', async () => {
    const repeated = await request(app)
      .post('/oauth/revoke')
      .set('Authorization', WEB)
      .type('form')
      .send('token=a&token=b');
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toBe('invalid_request');
    const json = await request(app).post('/oauth/revoke').set('Authorization', WEB).send({ token: 'a' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
  });

  test('only POST: GET is 405 with Allow: POST (RFC 7009 §2.1)', async () => {
    const res = await request(app).get('/oauth/revoke?token=x').set('Authorization', WEB);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body.error).toBe('invalid_request');
  });
});

describe('revocation with a failing store', () => {
  test('a store that throws gives 500 server_error with a generic description; the cause is logged, not sent', async () => {
    const inner = memoryTokenStore();
    const failing: TokenStore = { ...inner, revoke: async () => Promise.reject(new Error('connection reset by db-7')) };
    const base = stores();
    const { app, logger } = buildApp('express5', {}, { ...base, tokens: failing });
    const token = await clientToken(app);
    const res = await revoke(app, token);
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('server_error');
    expect(JSON.stringify(res.body)).not.toContain('db-7');
    expect(logger.lines.some((l) => l.level === 'error' && String((l.detail as Error)?.message).includes('db-7'))).toBe(
      true,
    );
  });

  test('revocation lands in the store as a deny-listed jti until the token would expire (JWT access tokens are not stored)', async () => {
    const tokens = memoryTokenStore();
    const events: unknown[] = [];
    tokens.onRevoke((e) => events.push(e));
    const { app } = buildApp('express5', {}, { ...stores(), tokens });
    const token = await clientToken(app);
    const { payload } = decodeJwt(token);
    await revoke(app, token);
    expect(events).toEqual([{ ids: [payload.jti], until: payload.exp }]);
    expect(await tokens.isRevoked([payload.jti as string])).toBe(true);
  });
});
