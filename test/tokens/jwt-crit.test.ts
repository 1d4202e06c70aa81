/**
 * RFC 7515 §4.1.11: a JWS with a critical header parameter the recipient does not understand
 * MUST be rejected. tokengate understands none, so a correctly signed access token carrying
 * `crit` is refused by the server's own guard (`oauth.requireToken()`, and so introspection)
 * and by the standalone resource server. Real HTTP.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { memoryStores, requireToken } from '../../src';
import { accessToken, startJwksServer, testKey, TEST_AUDIENCE, TEST_ISSUER } from '../support/jwks';
import { es256, LIFECYCLE_CLIENTS, ORDERS_API, signing } from '../support/lifecycle';
import { buildApp, FRAMEWORKS, listen, recordingLogger, USERS } from '../support/spine';

const CRIT_HEADERS: [string, Record<string, unknown>][] = [
  ['an unknown extension listed and present', { crit: ['exp-policy'], 'exp-policy': 'strict' }],
  ['b64 (RFC 7797), which tokengate does not implement', { crit: ['b64'], b64: true }],
  ['a malformed crit (not an array)', { crit: 'exp-policy' }],
  ['an empty crit array (RFC 7515 §4.1.11: MUST NOT be empty)', { crit: [] }],
];

describe.each(FRAMEWORKS)("the server's own verifier under %s", (framework) => {
  const key = es256('crit-key');
  const { app } = buildApp(
    framework,
    { keys: [signing(key)] },
    memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS }),
  );

  function serverToken(header: Record<string, unknown>): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'https://auth.example.com',
      aud: 'https://auth.example.com',
      sub: 'user-alice',
      client_id: 'web-app',
      scope: 'read',
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
    };
    return jwt.sign(claims, key.privatePem, {
      algorithm: 'ES256',
      header: { alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header },
    });
  }

  test('the same token without crit is accepted (the test can tell)', async () => {
    const res = await request(app)
      .get('/api/me')
      .set('Authorization', `Bearer ${serverToken({})}`);
    expect(res.status).toBe(200);
  });

  test.each(CRIT_HEADERS)('a JWT whose crit names %s is rejected (RFC 7515 §4.1.11)', async (_name, header) => {
    const token = serverToken(header);
    const res = await request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    const introspected = await request(app)
      .post('/oauth/introspect')
      .set('Authorization', ORDERS_API)
      .type('form')
      .send({ token });
    expect(introspected.body).toEqual({ active: false });
  });
});

describe('the standalone resource server', () => {
  test.each(CRIT_HEADERS)('a JWT whose crit names %s is rejected (RFC 7515 §4.1.11)', async (_name, header) => {
    const key = testKey('rs-crit');
    const jwks = await startJwksServer([key]);
    const guard = requireToken({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      jwksUri: jwks.url,
      logger: recordingLogger(),
    });
    const server = await listen((req, res) => guard(req as never, res as never, () => res.end('ok')));
    try {
      const get = async (token: string) =>
        (await fetch(`${server.url}/`, { headers: { Authorization: `Bearer ${token}` } })).status;
      expect(await get(accessToken(key))).toBe(200);
      expect(await get(accessToken(key, { header }))).toBe(401);
    } finally {
      await server.close();
      await jwks.close();
    }
  });
});
