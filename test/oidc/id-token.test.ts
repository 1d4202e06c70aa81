/**
 * ID tokens on the authorization code flow (OpenID Connect Core §2, §3.1.3.3, §3.1.3.6,
 * §12.2, §15.1) and pairwise subjects (§8.1).
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import { memoryStores, oauthServer } from '../../src';
import {
  buildOidcApp,
  decodeJwt,
  exchange,
  FRAMEWORKS,
  ISSUER,
  KEYS,
  OIDC_CLIENTS,
  OIDC_HEADERS,
  OIDC_USERS,
  recordingLogger,
  RP_SECRET,
  authorizeAs,
  rpRequest,
  tokensFor,
  verifyIdToken,
} from '../support/oidc';
import { nowSeconds as now } from '../support/seconds';

describe.each(FRAMEWORKS)('ID token on the code exchange under %s', (framework) => {
  test('an ID token with iss, sub, aud, exp, iat comes with the access token when openid is granted (OIDC Core §2, §3.1.3.3)', async () => {
    const { app } = buildOidcApp(framework);
    const body = await tokensFor(app);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid', id_token: expect.any(String) });
    const claims = verifyIdToken(body.id_token as string);
    expect(claims).toMatchObject({ iss: ISSUER, sub: 'user-alice', aud: 'rp' });
    expect(claims.iat).toBeGreaterThanOrEqual(now() - 5);
    expect(claims.exp).toBe((claims.iat as number) + 3600);
    expect(claims.azp).toBeUndefined(); // one audience, the client: azp is not needed (§2)
  });
});

describe('ID token claims (OIDC Core §2, §3.1.3.6)', () => {
  test('no ID token without the openid scope', async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(app, rpRequest({ scope: 'read', nonce: undefined }));
    expect(body.id_token).toBeUndefined();
    expect(body.access_token).toEqual(expect.any(String));
  });

  test('the nonce is echoed exactly as sent (§3.1.2.1, §3.1.3.6)', async () => {
    const { app } = buildOidcApp();
    const nonce = 'ü nonce with spaces & symbols/+=';
    const claims = verifyIdToken((await tokensFor(app, rpRequest({ nonce }))).id_token as string);
    expect(claims.nonce).toBe(nonce);
  });

  test('no nonce claim when the request had none (§2)', async () => {
    const { app } = buildOidcApp();
    const claims = verifyIdToken((await tokensFor(app, rpRequest({ nonce: undefined }))).id_token as string);
    expect(claims).not.toHaveProperty('nonce');
  });

  test('at_hash is the base64url left half of SHA-256 of the access token (§3.1.3.6)', async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(app);
    const digest = createHash('sha256')
      .update(body.access_token as string, 'ascii')
      .digest();
    expect(verifyIdToken(body.id_token as string).at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
  });

  test('signed with RS256 by default, under a kid the JWKS publishes (§15.1, §10.1)', async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(app);
    const { header } = decodeJwt(body.id_token as string);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: 'rs-1' });
    const jwks = await request(app).get('/oauth/jwks');
    expect(jwks.body.keys.map((k: { kid: string; alg: string }) => `${k.kid}:${k.alg}`)).toEqual([
      'es-1:ES256',
      'rs-1:RS256',
    ]);
  });

  test('a client with id_token_signed_response_alg ES256 gets ES256 ID tokens', async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(app, rpRequest({ client_id: 'rp-es', redirect_uri: 'https://es.example.com/cb' }));
    expect(decodeJwt(body.id_token as string).header).toMatchObject({ alg: 'ES256', kid: 'es-1' });
    const claims = verifyIdToken(body.id_token as string, 'rp-es', ['ES256']);
    const digest = createHash('sha256')
      .update(body.access_token as string, 'ascii')
      .digest();
    expect(claims.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
  });

  test('a client whose id_token_signed_response_alg has no key is refused with unauthorized_client', async () => {
    const clients = [
      ...OIDC_CLIENTS,
      {
        id: 'rp-ps',
        secret: RP_SECRET,
        grants: ['authorization_code' as const],
        scopes: ['openid'],
        redirectUris: ['https://ps.example.com/cb'],
        idTokenSignedResponseAlg: 'PS256' as const,
      },
    ];
    const { app } = buildOidcApp('express5', {}, memoryStores({ clients, users: OIDC_USERS }));
    const query = await authorizeAs(app, rpRequest({ client_id: 'rp-ps', redirect_uri: 'https://ps.example.com/cb' }));
    expect(query.get('error')).toBe('unauthorized_client');
    expect(query.get('state')).toBe('st-1');
  });

  test('auth_time is the authTime the hook reported, whenever it reported one (§2)', async () => {
    const { app } = buildOidcApp();
    const authTime = now() - 100;
    const claims = verifyIdToken(
      (await tokensFor(app, rpRequest(), { [OIDC_HEADERS.authTime]: String(authTime) })).id_token as string,
    );
    expect(claims.auth_time).toBe(authTime);
  });

  test('acr and amr are the values the authenticate hook reported (§2)', async () => {
    const { app } = buildOidcApp();
    const headers = { [OIDC_HEADERS.acr]: 'urn:example:loa:2', [OIDC_HEADERS.amr]: 'pwd,otp' };
    const claims = verifyIdToken((await tokensFor(app, rpRequest(), headers)).id_token as string);
    expect(claims.acr).toBe('urn:example:loa:2');
    expect(claims.amr).toEqual(['pwd', 'otp']);
  });

  test('the old authenticate shape (the user itself) keeps working: an ID token without auth_time, acr or amr', async () => {
    const logger = recordingLogger();
    const stores = memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS });
    const oauth = oauthServer(stores, {
      issuer: ISSUER,
      logger,
      keys: KEYS,
      authorize: { authenticate: () => ({ id: 'user-alice' }) },
      openid: {},
    });
    const body = await tokensFor(oauth as never);
    const claims = verifyIdToken(body.id_token as string);
    expect(claims.sub).toBe('user-alice');
    expect(claims).not.toHaveProperty('auth_time');
    expect(claims).not.toHaveProperty('amr');
  });

  test('individually requested id_token claims are in the ID token; scope claims are not, with response_type=code (§5.4, §5.5)', async () => {
    const { app } = buildOidcApp();
    const claimsParam = JSON.stringify({
      id_token: { email: { essential: true }, shoe_size: null, auth_time: { essential: true } },
    });
    const body = await tokensFor(app, rpRequest({ scope: 'openid profile', claims: claimsParam }), {
      [OIDC_HEADERS.authTime]: String(now() - 5),
    });
    const claims = verifyIdToken(body.id_token as string);
    expect(claims.email).toBe('alice@example.com');
    expect(claims.shoe_size).toBe(37);
    expect(claims.auth_time).toEqual(expect.any(Number));
    expect(claims).not.toHaveProperty('name'); // profile's claims come from UserInfo
    expect(claims).not.toHaveProperty('password');
  });
});

describe('refresh (OIDC Core §12.2)', () => {
  test('a refresh gives a new ID token with the same iss, sub and aud, the original auth_time and no nonce', async () => {
    const { app } = buildOidcApp();
    const authTime = now() - 300;
    const first = await tokensFor(app, rpRequest(), {
      [OIDC_HEADERS.authTime]: String(authTime),
      [OIDC_HEADERS.amr]: 'pwd',
    });
    const original = verifyIdToken(first.id_token as string);
    const refreshed = await exchange(
      app,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token as string },
      ['rp', RP_SECRET],
    );
    expect(refreshed.status).toBe(200);
    const claims = verifyIdToken(refreshed.body.id_token as string);
    expect(claims).toMatchObject({
      iss: original.iss,
      sub: original.sub,
      aud: original.aud,
      auth_time: authTime,
      amr: ['pwd'],
    });
    expect(claims).not.toHaveProperty('nonce');
    const digest = createHash('sha256').update(refreshed.body.access_token, 'ascii').digest();
    expect(claims.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
  });

  test('a refresh narrowed to scopes without openid gets no ID token', async () => {
    const { app } = buildOidcApp();
    const first = await tokensFor(app, rpRequest({ scope: 'openid read' }));
    const refreshed = await exchange(
      app,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token as string, scope: 'read' },
      ['rp', RP_SECRET],
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.id_token).toBeUndefined();
  });
});

describe('keys (OIDC Core §15.1, §10.1)', () => {
  test('without an RS256 key an ephemeral one signs ID tokens, with a warning, and the JWKS publishes it', async () => {
    const logger = recordingLogger();
    const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
      issuer: ISSUER,
      logger,
      authorize: { authenticate: () => ({ id: 'user-alice' }) },
      openid: {},
    });
    expect(logger.lines.map((l) => l.message).join('\n')).toMatch(
      /ephemeral ES256[\s\S]*ephemeral RS256 key for ID tokens/,
    );
    const body = await tokensFor(oauth as never);
    const { header } = decodeJwt(body.id_token as string);
    expect(header.alg).toBe('RS256');
    const jwks = await request(oauth as never).get('/oauth/jwks');
    expect(jwks.body.keys.find((k: { kid: string }) => k.kid === header.kid)).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
      use: 'sig',
    });
    expect(decodeJwt(body.access_token as string).header.alg).toBe('ES256'); // access tokens keep their key
  });

  test('an ID token is not accepted as an access token', async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(app, rpRequest({ scope: 'openid read' }));
    const res = await request(app)
      .get('/api/me')
      .set('Authorization', `Bearer ${body.id_token as string}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
  });
});

describe('pairwise subjects (OIDC Core §8.1)', () => {
  test('a pairwise client sees a sub that is not the user id, stable across grants, different per sector, equal within a sector', async () => {
    const { app } = buildOidcApp();
    const sub = async (clientId: string, redirect: string): Promise<string> =>
      verifyIdToken(
        (await tokensFor(app, rpRequest({ client_id: clientId, redirect_uri: redirect }))).id_token as string,
        clientId,
      ).sub as string;
    const a1 = await sub('rp-pairwise', 'https://a.pairwise.example/cb');
    const a2 = await sub('rp-pairwise', 'https://a.pairwise.example/cb');
    const b = await sub('rp-pairwise-2', 'https://b.pairwise.example/cb');
    const sameSector = await sub('rp-pairwise-same-sector', 'https://a.pairwise.example/other');
    expect(a1).not.toBe('user-alice');
    expect(a1).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
    expect(sameSector).toBe(a1);
  });

  test('a pairwise client on a server without pairwiseSalt is refused with unauthorized_client', async () => {
    const { app } = buildOidcApp('express5', { openid: {} });
    const query = await authorizeAs(
      app,
      rpRequest({ client_id: 'rp-pairwise', redirect_uri: 'https://a.pairwise.example/cb' }),
    );
    expect(query.get('error')).toBe('unauthorized_client');
  });
});
