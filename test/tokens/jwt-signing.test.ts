/**
 * JWT access tokens as issued by the token endpoint are standard compact JWS (RFC 7515 §7.1)
 * that `jsonwebtoken` verifies, for every algorithm we sign
 * with; and the random values in them (jti, refresh tokens) never repeat.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { hashToken, type KeyInput, type SigningAlgorithm } from '../../src';
import { WEB } from '../support/lifecycle';
import { buildApp, decodeJwt, FRAMEWORKS, ISSUER } from '../support/spine';

const ec256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const ec384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const SECRET = 'an HS256 secret of at least 32 bytes!';

const KEYS: { alg: SigningAlgorithm; input: KeyInput; verifyWith: KeyObject | string }[] = [
  { alg: 'ES256', input: { kid: 'k-es256', alg: 'ES256', privateKey: ec256 }, verifyWith: createPublicKey(ec256) },
  { alg: 'ES384', input: { kid: 'k-es384', alg: 'ES384', privateKey: ec384 }, verifyWith: createPublicKey(ec384) },
  { alg: 'RS256', input: { kid: 'k-rs256', alg: 'RS256', privateKey: rsa }, verifyWith: createPublicKey(rsa) },
  { alg: 'PS256', input: { kid: 'k-ps256', alg: 'PS256', privateKey: rsa }, verifyWith: createPublicKey(rsa) },
  { alg: 'HS256', input: { kid: 'k-hs256', alg: 'HS256', secret: SECRET }, verifyWith: SECRET },
];

describe.each(KEYS)('$alg access tokens (RFC 7515, RFC 7518 §3, RFC 9068)', ({ alg, input, verifyWith }) => {
  const { app } = buildApp('express5', { keys: [input] });

  test(`a token from the endpoint verifies with jsonwebtoken, ${alg} only, with header alg/typ/kid as RFC 9068 §2.1 asks`, async () => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Authorization', WEB)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'read' });
    expect(res.status).toBe(200);
    const token: string = res.body.access_token;
    const verified = jwt.verify(token, verifyWith, {
      algorithms: [alg],
      issuer: ISSUER,
      audience: ISSUER,
      complete: true,
    }) as jwt.Jwt;
    expect(verified.header).toEqual({ alg, typ: 'at+jwt', kid: input.kid });
    expect(verified.payload).toMatchObject({
      iss: ISSUER,
      aud: ISSUER,
      sub: 'web-app',
      client_id: 'web-app',
      scope: 'read',
    });
    // The exact bytes signed are the first two segments, and the payload is plain JSON.
    expect(decodeJwt(token).payload).toEqual(verified.payload);
  });

  test(`the ${alg} token is accepted by requireToken and a single flipped signature bit is not`, async () => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Authorization', WEB)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'read' });
    const token: string = res.body.access_token;
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const [h, p, s] = token.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    const middle = sig.length >> 1;
    sig.writeUInt8(sig.readUInt8(middle) ^ 1, middle);
    const forged = `${h}.${p}.${sig.toString('base64url')}`;
    const refused = await request(app).get('/api/me').set('Authorization', `Bearer ${forged}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_token');
  });
});

describe.each(FRAMEWORKS)('random token values under %s', (framework) => {
  const { app } = buildApp(framework);

  test('jti, access and refresh tokens never repeat across many rotations (RFC 6749 §10.10, RFC 7519 §4.1.7)', async () => {
    const seen = new Set<string>();
    let res = await request(app)
      .post('/oauth/token')
      .set('Authorization', WEB)
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
    for (let i = 0; i < 100; i++) {
      expect(res.status).toBe(200);
      const jti = decodeJwt(res.body.access_token).payload.jti as string;
      expect(jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(res.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      for (const value of [jti, res.body.refresh_token as string]) {
        expect(seen.has(value)).toBe(false);
        seen.add(value);
      }
      res = await request(app)
        .post('/oauth/token')
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token });
    }
  });
});

test('hashToken is the base64url SHA-256 of the token (the id stores keep)', () => {
  for (const token of ['', 'abc', 'x'.repeat(1000), 'ünïcödé']) {
    expect(hashToken(token)).toBe(createHash('sha256').update(token, 'utf8').digest('base64url'));
  }
});
