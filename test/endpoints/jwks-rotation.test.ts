/**
 * The JWK Set endpoint (RFC 7517) and signing-key rotation: add the new key as verify-only,
 * publish, switch signing, retire the old key.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { memoryStores, type KeyInput, type Stores } from '../../src';
import {
  clientToken,
  es256,
  introspect,
  LIFECYCLE_CLIENTS,
  me,
  passwordTokens,
  refresh,
  signing,
  verifyOnly,
} from '../support/lifecycle';
import { buildApp, decodeJwt, FRAMEWORKS, USERS } from '../support/spine';

const stores = () => memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS });

describe.each(FRAMEWORKS)('JWKS endpoint under %s (RFC 7517)', (framework) => {
  const ec = es256('ec-1');
  const { privateKey: rsaPrivate } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keys: KeyInput[] = [
    signing(ec),
    { kid: 'rsa-1', alg: 'RS256', privateKey: rsaPrivate, verifyOnly: true },
    { kid: 'ps-1', alg: 'PS256', publicKey: createPublicKey(rsaPrivate) },
    { kid: 'hs-1', alg: 'HS256', secret: 's'.repeat(40) },
  ];
  const { app } = buildApp(framework, { keys }, stores());

  test('GET /oauth/jwks lists every public key with kid, alg and use "sig", as application/json (RFC 7517 §4, §5)', async () => {
    const res = await request(app).get('/oauth/jwks');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.keys.map((k: { kid: string; alg: string; use: string }) => [k.kid, k.alg, k.use])).toEqual([
      ['ec-1', 'ES256', 'sig'],
      ['rsa-1', 'RS256', 'sig'],
      ['ps-1', 'PS256', 'sig'],
    ]);
  });

  test('never a private or symmetric key: no HS256 secret, no private members (RFC 7517 §9.1)', async () => {
    const res = await request(app).get('/oauth/jwks');
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('hs-1');
    expect(text).not.toContain(Buffer.from('s'.repeat(40)).toString('base64url'));
    for (const jwk of res.body.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(jwk).not.toHaveProperty(member);
      expect(Object.keys(jwk).sort()).toEqual(
        jwk.kty === 'EC' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] : ['alg', 'e', 'kid', 'kty', 'n', 'use'],
      );
    }
  });

  test("each published key verifies what the server signs with it: the JWK is the signing key's public half", async () => {
    const token = await clientToken(app);
    const { header } = decodeJwt(token);
    const jwk = (await request(app).get('/oauth/jwks')).body.keys.find((k: { kid: string }) => k.kid === header.kid);
    const published = createPublicKey({ key: jwk, format: 'jwk' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const { verify } = await import('node:crypto');
    expect(
      verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key: published, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      ),
    ).toBe(true);
  });

  test('only GET and HEAD: POST is 405 with Allow', async () => {
    const res = await request(app).post('/oauth/jwks');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect((await request(app).head('/oauth/jwks')).status).toBe(200);
  });
});

describe('key rotation: add verify-only, publish, switch signing, retire', () => {
  // Each step is a redeploy: a new server with a new key list, sharing the token store.
  const shared: Stores = stores();
  const oldKey = es256('2026-05');
  const newKey = es256('2026-11');
  const deploy = (keys: KeyInput[]) => buildApp('express5', { keys, audience: 'https://api.example.com' }, shared).app;
  const kids = async (app: Parameters<typeof request>[0]) =>
    (await request(app).get('/oauth/jwks')).body.keys.map((k: { kid: string }) => k.kid);

  const step0 = deploy([signing(oldKey)]);
  // 1. Add the new key as verify-only: published, not yet signing.
  const step1 = deploy([signing(oldKey), { ...signing(newKey), verifyOnly: true }]);
  // 2. Switch signing: the new key first; the old one stays for verification.
  const step2 = deploy([signing(newKey), verifyOnly(oldKey)]);
  // 3. Retire the old key once its last token has expired (accessTokenLifetime later).
  const step3 = deploy([signing(newKey)]);

  let before: { access_token: string; refresh_token: string };
  beforeAll(async () => {
    before = await passwordTokens(step0);
  });

  test('step 1: the new key is published before it signs anything; tokens are still signed with the old key', async () => {
    expect(await kids(step0)).toEqual(['2026-05']);
    expect(await kids(step1)).toEqual(['2026-05', '2026-11']);
    const token = await clientToken(step1);
    expect(decodeJwt(token).header.kid).toBe('2026-05');
    expect((await me(step1, before.access_token)).status).toBe(200);
  });

  test('step 2: new tokens are signed with the new key, and tokens of the old key stay valid until it is retired', async () => {
    const token = await clientToken(step2);
    expect(decodeJwt(token).header.kid).toBe('2026-11');
    expect(await kids(step2)).toEqual(['2026-11', '2026-05']);
    for (const t of [token, before.access_token]) {
      expect((await me(step2, t)).status).toBe(200);
      expect((await introspect(step2, t)).body.active).toBe(true);
    }
    // A server still on step 1 (a rolling deploy) accepts the new key's tokens too.
    expect((await me(step1, token)).status).toBe(200);
  });

  test('step 3: once the old key is retired, its tokens are rejected and it is no longer published; refresh tokens carry on', async () => {
    expect(await kids(step3)).toEqual(['2026-11']);
    const res = await me(step3, before.access_token);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect((await introspect(step3, before.access_token)).body).toEqual({ active: false });
    // Refresh tokens are not signed, so the grant survives the rotation with a new-key access token.
    const refreshed = await refresh(step3, before.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token).header.kid).toBe('2026-11');
    expect((await me(step3, refreshed.body.access_token)).status).toBe(200);
  });
});
