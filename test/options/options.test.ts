/**
 * Start-up validation of options and keys: a wrong option fails at once with a message that
 * says what to change; every supported algorithm signs and verifies; the key list rotates.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import request from 'supertest';
import { memoryStores, oauthServer } from '../../src';
import { basic, buildApp, CLIENTS, decodeJwt, ISSUER, recordingLogger, USERS } from '../support/spine';

const stores = () => memoryStores({ clients: CLIENTS, users: USERS });

describe('options are validated once, at start-up', () => {
  test.each([
    [{}, /issuer is required/],
    [{ issuer: 'not a url' }, /absolute URL/],
    [{ issuer: 'http://auth.example.com' }, /must use https/],
    [{ issuer: 'https://auth.example.com?x=1' }, /query or fragment/],
    [{ issuer: ISSUER, accessTokenLifetime: -5 }, /accessTokenLifetime must be a positive whole number/],
    [{ issuer: ISSUER, tokenPath: 'token' }, /tokenPath must be a path starting with "\/"/],
    [{ issuer: ISSUER, accessTokenFormat: 'paseto' }, /accessTokenFormat must be "jwt" or "opaque"/],
    [{ issuer: ISSUER, keys: [{ alg: 'ES256' }] }, /keys\[0\]: give a privateKey/],
    [{ issuer: ISSUER, keys: [{ alg: 'HS256', secret: 'short' }] }, /at least 32 bytes/],
    [{ issuer: ISSUER, keys: [{ alg: 'none' }] }, /alg must be one of/],
    [{ issuer: ISSUER, realm: 'API — prod' }, /realm must be printable ASCII/],
    [{ issuer: ISSUER, realm: 'a"b' }, /realm must be printable ASCII/],
    [{ issuer: 'https://例え.jp' }, /printable ASCII/],
    [{ issuer: ISSUER, clockTolerance: -1 }, /clockTolerance must be a whole number of seconds, 0 or more/],
  ])('%j is refused with a helpful message', (options, message) => {
    // A recording logger: options without keys warn about the ephemeral key before a later check throws.
    expect(() => oauthServer(stores(), { logger: recordingLogger(), ...options } as never)).toThrow(message);
  });

  test('a key of the wrong type for its alg is refused', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => oauthServer(stores(), { issuer: ISSUER, keys: [{ alg: 'ES256', privateKey }] })).toThrow(
      /EC key on curve P-256/,
    );
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => oauthServer(stores(), { issuer: ISSUER, keys: [{ alg: 'RS256', privateKey: small }] })).toThrow(
      /at least 2048 bits/,
    );
  });

  test('stores missing a method are refused', () => {
    expect(() => oauthServer({ clients: {} as never }, { issuer: ISSUER })).toThrow(/findClient/);
    const { clients } = stores();
    expect(() =>
      oauthServer({ clients, tokens: { save: async () => undefined } as never }, { issuer: ISSUER }),
    ).toThrow(/missing find, consume/);
  });

  test('zero is a valid clockTolerance and cache.maxAge', () => {
    expect(() =>
      oauthServer(stores(), { issuer: ISSUER, clockTolerance: 0, cache: { maxAge: 0 }, logger: recordingLogger() }),
    ).not.toThrow();
  });

  test('a redirect URI that could not go out in a Location header is refused at start-up', () => {
    expect(() =>
      memoryStores({
        clients: [{ id: 'c', grants: ['authorization_code'], scopes: [], redirectUris: ['https://例え.jp/cb'] }],
      }),
    ).toThrow(/printable ASCII/);
    expect(() =>
      memoryStores({
        clients: [{ id: 'c', grants: ['authorization_code'], scopes: [], redirectUris: ['https://xn--r8jz45g.jp/cb'] }],
      }),
    ).not.toThrow();
  });

  test('http issuers are allowed for localhost (development)', () => {
    expect(() => oauthServer(stores(), { issuer: 'http://localhost:3000', logger: recordingLogger() })).not.toThrow();
  });

  test('with no key configured an ephemeral ES256 key is used, with a warning', () => {
    const logger = recordingLogger();
    oauthServer(stores(), { issuer: ISSUER, logger });
    expect(logger.lines.some((l) => l.level === 'warn' && /ephemeral/.test(l.message))).toBe(true);
  });
});

describe('signing keys (RFC 9068, RFC 7515)', () => {
  const ec256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const ec384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const cases = [
    { alg: 'ES256', privateKey: ec256.export({ type: 'pkcs8', format: 'pem' }) as string },
    { alg: 'ES384', privateKey: ec384 },
    { alg: 'RS256', privateKey: rsa },
    { alg: 'PS256', privateKey: rsa.export({ format: 'jwk' }) },
    { alg: 'HS256', secret: randomBytes(32) },
  ] as const;

  test.each(cases)('$alg signs and verifies, with a kid on every token', async (key) => {
    const { app } = buildApp('express5', { keys: [key as never] });
    const res = await request(app)
      .post('/oauth/token')
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send('grant_type=client_credentials');
    expect(res.status).toBe(200);
    const { header } = decodeJwt(res.body.access_token);
    expect(header).toMatchObject({ alg: key.alg, typ: 'at+jwt', kid: expect.any(String) });
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${res.body.access_token}`)).status).toBe(
      200,
    );
  });

  test('rotation: the first key that can sign signs, every listed key verifies', async () => {
    const oldKey = { kid: 'old', alg: 'ES256' as const, privateKey: ec256 };
    const newKey = {
      kid: 'new',
      alg: 'ES256' as const,
      privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    };
    const shared = stores();
    const before = buildApp('express5', { keys: [oldKey] }, shared);
    const oldToken = (
      await request(before.app)
        .post('/oauth/token')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials')
    ).body.access_token;
    const after = buildApp('express5', { keys: [newKey, { ...oldKey, verifyOnly: true }] }, shared);
    const newToken = (
      await request(after.app)
        .post('/oauth/token')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials')
    ).body.access_token;
    expect(decodeJwt(newToken).header.kid).toBe('new');
    expect((await request(after.app).get('/api/me').set('Authorization', `Bearer ${oldToken}`)).status).toBe(200);
    const retired = buildApp('express5', { keys: [newKey] }, shared);
    expect((await request(retired.app).get('/api/me').set('Authorization', `Bearer ${oldToken}`)).status).toBe(401);
    expect((await request(retired.app).get('/api/me').set('Authorization', `Bearer ${newToken}`)).status).toBe(200);
  });

  test('two keys with one kid are refused', () => {
    expect(() =>
      oauthServer(stores(), {
        issuer: ISSUER,
        keys: [
          { kid: 'a', alg: 'ES256', privateKey: ec256 },
          { kid: 'a', alg: 'ES384', privateKey: ec384 },
        ],
      }),
    ).toThrow(/share kid "a"/);
  });

  test('a key list with only verify-only keys cannot sign and is refused', () => {
    expect(() =>
      oauthServer(stores(), { issuer: ISSUER, keys: [{ alg: 'ES256', privateKey: ec256, verifyOnly: true }] }),
    ).toThrow(/no key that can sign/);
  });
});
