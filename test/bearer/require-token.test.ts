/**
 * requireToken() (RFC 6750): where the token may come from, the challenges, algorithm
 * pinning, the LRU cache and revocation.
 */
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { memoryStores, oauthServer, type TokenStore } from '../../src';
import { advanceClock } from '../support/clock';
import { clientToken, WEB } from '../support/lifecycle';
import { nowSeconds } from '../support/seconds';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, ISSUER, recordingLogger, USERS } from '../support/spine';

const TOKEN = '/oauth/token';

describe.each(FRAMEWORKS)('requireToken under %s', (framework) => {
  const { app } = buildApp(framework);

  test('a valid token sets req.auth = { token, sub, clientId, scope, expiresAt, claims }', async () => {
    const token = await clientToken(app, WEB, 'read write');
    const res = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    const { payload } = decodeJwt(token);
    expect(res.body).toEqual({
      token,
      sub: 'web-app',
      clientId: 'web-app',
      scope: ['read', 'write'],
      expiresAt: payload.exp,
      claims: payload,
    });
  });

  test('the Bearer scheme is case-insensitive (RFC 6750 §2.1)', async () => {
    const token = await clientToken(app);
    expect((await request(app).get('/api/me').set('Authorization', `bEaReR ${token}`)).status).toBe(200);
  });

  test('no token: 401 with a Bearer challenge naming the realm and no error code (RFC 6750 §3.1)', async () => {
    const res = await request(app).get('/api/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${ISSUER}"`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.error).toBeUndefined();
  });

  test('another scheme is no bearer token: 401 without an error code', async () => {
    const res = await request(app).get('/api/me').set('Authorization', basic('web-app', 'web-secret'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${ISSUER}"`);
  });

  test('a bad token: 401 invalid_token in the challenge and the JSON body (RFC 6750 §3.1)', async () => {
    const res = await request(app).get('/api/me').set('Authorization', 'Bearer not.a.token');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      new RegExp(`^Bearer realm="${ISSUER}", error="invalid_token", error_description="[^"]*"$`),
    );
    expect(res.body.error).toBe('invalid_token');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('a malformed Authorization value: 400 invalid_request (RFC 6750 §3.1)', async () => {
    const res = await request(app).get('/api/me').set('Authorization', 'Bearer a b c');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
  });

  test('a token without a required scope: 403 insufficient_scope naming the scope (RFC 6750 §3.1)', async () => {
    const token = await clientToken(app, WEB, 'read');
    const res = await request(app).get('/api/write').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('insufficient_scope');
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="write"');
  });
});

/** An RFC 9068 access token (`typ: at+jwt`) with these claims, signed by `key` as `alg` under `kid`. */
function signAccessToken(payload: object, key: jwt.Secret | KeyObject, alg: jwt.Algorithm, kid: string): string {
  return jwt.sign(payload, key, { algorithm: alg, keyid: kid, header: { alg, typ: 'at+jwt' } });
}

describe('token sources (RFC 6750 §2)', () => {
  function guarded(options: Parameters<ReturnType<typeof buildApp>['oauth']['requireToken']>[0]) {
    const built = buildApp('express5');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express5');
    const app = express();
    app.use(built.oauth);
    app.all(
      '/r',
      built.oauth.requireToken(options),
      (req: { auth: { sub: string }; body?: unknown }, res: { json: (b: unknown) => void }) =>
        res.json({ sub: req.auth.sub, body: req.body }),
    );
    return app;
  }

  test('the form body is used only when enabled (RFC 6750 §2.2)', async () => {
    const off = guarded({});
    const token = await clientToken(off);
    expect((await request(off).post('/r').type('form').send({ access_token: token })).status).toBe(401);
    const on = guarded({ allowBody: true });
    const token2 = await clientToken(on);
    const res = await request(on).post('/r').type('form').send({ access_token: token2, other: 'kept' });
    expect(res.status).toBe(200);
    expect(res.body.body).toEqual({ access_token: token2, other: 'kept' });
  });

  test('the query string is used only when enabled (RFC 6750 §2.3)', async () => {
    const off = guarded({});
    const token = await clientToken(off);
    expect((await request(off).get(`/r?access_token=${token}`)).status).toBe(401);
    const on = guarded({ allowQuery: true });
    const token2 = await clientToken(on);
    expect((await request(on).get(`/r?access_token=${token2}`)).status).toBe(200);
  });

  test('more than one method is 400 invalid_request (RFC 6750 §2)', async () => {
    const app = guarded({ allowQuery: true, allowBody: true });
    const token = await clientToken(app);
    const both = await request(app).post(`/r?access_token=${token}`).set('Authorization', `Bearer ${token}`);
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_request');
    const body = await request(app)
      .post('/r')
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send({ access_token: token });
    expect(body.status).toBe(400);
  });
});

async function expectInvalidToken(app: Parameters<typeof request>[0], token: string): Promise<void> {
  const res = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(401);
  expect(res.body.error).toBe('invalid_token');
  expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
}

describe('signature algorithms are pinned to the configured keys', () => {
  const { privateKey: es256 } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const { privateKey: rsa, publicKey: rsaPublic } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  function claims(kid: string) {
    const now = nowSeconds();
    return {
      payload: {
        iss: ISSUER,
        sub: 'x',
        aud: ISSUER,
        client_id: 'web-app',
        scope: 'read',
        jti: 'j' + Math.random(),
        iat: now,
        exp: now + 60,
      },
      kid,
    };
  }

  test('alg none is rejected', async () => {
    const { app } = buildApp('express5', { keys: [{ kid: 'k1', alg: 'ES256', privateKey: es256 }] });
    const { payload } = claims('k1');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'k1' })).toString('base64url');
    const token = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
    await expectInvalidToken(app, token);
    // The same claims, properly signed, pass: the rejection is about the algorithm.
    const genuine = signAccessToken(payload, es256, 'ES256', 'k1');
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${genuine}`)).status).toBe(200);
  });

  test('HS256 signed with the RS256 public key (key confusion) is rejected', async () => {
    const { app } = buildApp('express5', { keys: [{ kid: 'rs', alg: 'RS256', privateKey: rsa }] });
    const { payload } = claims('rs');
    const pem = rsaPublic.export({ type: 'spki', format: 'pem' }) as string;
    const forged = signAccessToken(payload, createSecretKey(Buffer.from(pem)), 'HS256', 'rs');
    await expectInvalidToken(app, forged);
    // The same claims signed properly pass, so the rejection above is about the algorithm.
    const genuine = signAccessToken(payload, rsa, 'RS256', 'rs');
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${genuine}`)).status).toBe(200);
  });

  test('a token signed by a key we do not have is rejected', async () => {
    const { app } = buildApp('express5', { keys: [{ kid: 'k1', alg: 'ES256', privateKey: es256 }] });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const { payload } = claims('k1');
    const token = signAccessToken(payload, other, 'ES256', 'k1');
    await expectInvalidToken(app, token);
    const genuine = signAccessToken(payload, es256, 'ES256', 'k1');
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${genuine}`)).status).toBe(200);
  });

  test('a JWT that is not an access token (typ JWT, e.g. an ID token) is rejected (RFC 9068 §4)', async () => {
    const { app } = buildApp('express5', { keys: [{ kid: 'k1', alg: 'ES256', privateKey: es256 }] });
    const { payload } = claims('k1');
    const token = jwt.sign(payload, es256, { algorithm: 'ES256', keyid: 'k1' });
    await expectInvalidToken(app, token);
  });

  test('a token for another audience or issuer is rejected', async () => {
    const { app } = buildApp('express5', { keys: [{ kid: 'k1', alg: 'ES256', privateKey: es256 }] });
    const { payload } = claims('k1');
    for (const changed of [
      { ...payload, aud: 'https://other.example.com' },
      { ...payload, iss: 'https://evil.example.com' },
    ]) {
      const token = signAccessToken(changed, es256, 'ES256', 'k1');
      await expectInvalidToken(app, token);
    }
  });
});

describe('the LRU cache', () => {
  function countingStores() {
    const base = memoryStores({ clients: CLIENTS, users: USERS });
    const calls = { isRevoked: 0, find: 0 };
    const tokens: TokenStore = {
      ...base.tokens,
      isRevoked: (ids) => {
        calls.isRevoked++;
        return base.tokens.isRevoked(ids);
      },
      find: (kind, id) => {
        calls.find++;
        return base.tokens.find(kind, id);
      },
    };
    return { stores: { ...base, tokens }, calls };
  }

  test('a cache hit does not go back to the store', async () => {
    const { stores, calls } = countingStores();
    const { app } = buildApp('express5', {}, stores);
    const token = await clientToken(app);
    for (let i = 0; i < 5; i++)
      expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(calls.isRevoked).toBe(1);
  });

  test('errors are not cached: a store failure once does not poison the token', async () => {
    const base = memoryStores({ clients: CLIENTS, users: USERS });
    let fail = true;
    const tokens: TokenStore = {
      ...base.tokens,
      isRevoked: (ids) => (fail ? Promise.reject(new Error('down')) : base.tokens.isRevoked(ids)),
    };
    const { app } = buildApp('express5', {}, { ...base, tokens });
    const token = await clientToken(app);
    const failed = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: 'server_error', error_description: expect.any(String) });
    fail = false;
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  test('a cached entry lives no longer than the token: expired means 401 even when cached', async () => {
    const { app } = buildApp('express5', { accessTokenLifetime: 60 });
    const token = await clientToken(app);
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const restore = advanceClock(61); // past exp, without sleeping through it
    try {
      const res = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
    } finally {
      restore();
    }
  });

  test('the cache is bounded by max: the least recently used token is looked up again', async () => {
    const { stores, calls } = countingStores();
    const { app } = buildApp('express5', { cache: { max: 2 } }, stores);
    const [a, b, c] = [await clientToken(app), await clientToken(app), await clientToken(app)];
    const get = (token: string) => request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    await get(a);
    await get(b);
    await get(a); // hit
    expect(calls.isRevoked).toBe(2);
    await get(c); // evicts b
    await get(a); // still cached
    expect(calls.isRevoked).toBe(3);
    await get(b); // evicted: looked up again
    expect(calls.isRevoked).toBe(4);
  });

  test('cache.max 0 turns the cache off', async () => {
    const { stores, calls } = countingStores();
    const { app } = buildApp('express5', { cache: { max: 0 } }, stores);
    const token = await clientToken(app);
    for (let i = 0; i < 3; i++) await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(calls.isRevoked).toBe(3);
  });

  test('a token revoked through the store is rejected on the next request even though it was cached', async () => {
    const { app, oauth } = buildApp('express5');
    const token = await clientToken(app);
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const { payload } = decodeJwt(token);
    await oauth.tokens.revoke({ id: payload.jti as string, until: payload.exp as number });
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  test('with clockTolerance, a revoked token stays revoked for as long as it would verify', async () => {
    const { app } = buildApp('express5', { accessTokenLifetime: 1, clockTolerance: 30 });
    const token = await clientToken(app);
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const revoked = await request(app)
      .post('/oauth/revoke')
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ token });
    expect(revoked.status).toBe(200);
    await expectInvalidToken(app, token);
    await new Promise((r) => setTimeout(r, 2100)); // past exp, inside the tolerance
    await expectInvalidToken(app, token);
  });

  test('a revoked token that was never cached is rejected too (checked against the store)', async () => {
    const { app, oauth } = buildApp('express5');
    const token = await clientToken(app);
    const { payload } = decodeJwt(token);
    await oauth.tokens.revoke({ id: payload.jti as string, until: payload.exp as number });
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });
});

describe('opaque access tokens', () => {
  test('accessTokenFormat "opaque": random tokens, looked up in the store, revocable', async () => {
    const { app, oauth } = buildApp('express5', { accessTokenFormat: 'opaque' });
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
    const token: string = res.body.access_token;
    expect(token.split('.')).toHaveLength(1);
    expect(Buffer.from(token, 'base64url').length).toBe(32);
    const me = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ sub: 'user-alice', clientId: 'web-app', scope: ['read', 'write'] });
    // Reuse of the refresh token kills the opaque access token too.
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token });
    await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token });
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect(oauth.tokens).toBeDefined();
  });

  test('an unknown opaque token is 401 invalid_token', async () => {
    const { app } = buildApp('express5', { accessTokenFormat: 'opaque' });
    const res = await request(app)
      .get('/api/me')
      .set('Authorization', 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
  });
});

describe('a server of its own', () => {
  test('a guard works on a plain node:http server without any framework', async () => {
    const logger = recordingLogger();
    const oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), { issuer: ISSUER, logger });
    const guard = oauth.requireToken({ scope: 'read' });
    const app = (req: Parameters<typeof oauth>[0], res: Parameters<typeof oauth>[1]) =>
      oauth(req, res, () =>
        guard(req, res, () => res.end(JSON.stringify((req as { auth?: { sub: string } }).auth?.sub))),
      );
    const token = await clientToken(app);
    const res = await request(app).get('/anything').set('Authorization', `Bearer ${token}`);
    expect(res.text).toBe('"web-app"');
  });
});
