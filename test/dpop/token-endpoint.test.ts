/**
 * DPoP at the token endpoint (RFC 9449 §4.3, §5, §10): every proof check, the binding of what
 * is issued, refresh tokens of public clients, dpop_jkt, per-client enforcement and nonces.
 */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { memoryStores, oauthServer, type MemoryClientInput } from '../../src';
import { dpopKey, proof, signJws, type DpopKey } from '../support/dpop';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, ISSUER, recordingLogger, USERS } from '../support/spine';

const TOKEN = '/oauth/token';
const HTU = `${ISSUER}${TOKEN}`;
const WEB_APP = basic('web-app', 'web-secret');
type App = Parameters<typeof request>[0];

function tokenRequest(app: App, form: Record<string, string>, dpop?: string | string[], auth: string | null = WEB_APP) {
  let req = request(app).post(TOKEN).type('form');
  if (auth !== null) req = req.set('Authorization', auth);
  // An array sends one header line per value.
  if (dpop !== undefined) req = req.set('DPoP', dpop as string);
  return req.send(form);
}

const CC = { grant_type: 'client_credentials', scope: 'read' };
const PASSWORD = { grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read' };

function expectProofError(res: request.Response, pattern: RegExp): void {
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'invalid_dpop_proof' });
  expect(res.body.error_description).toMatch(pattern);
  expect(res.headers['cache-control']).toBe('no-store');
}

describe.each(FRAMEWORKS)('DPoP proofs at the token endpoint under %s', (framework) => {
  const { app } = buildApp(framework);
  const key = dpopKey();

  test('a valid proof binds the JWT access token: token_type DPoP and cnf.jkt is the RFC 7638 thumbprint (RFC 9449 §5, §6.1)', async () => {
    const res = await tokenRequest(app, CC, proof(key, { htu: HTU }));
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    expect(decodeJwt(res.body.access_token).payload.cnf).toEqual({ jkt: key.jkt });
  });

  test('without a proof the token stays a Bearer token with no cnf (DPoP is optional unless the client is dpopBound)', async () => {
    const res = await tokenRequest(app, CC);
    expect(res.body.token_type).toBe('Bearer');
    expect(decodeJwt(res.body.access_token).payload.cnf).toBeUndefined();
  });

  test('two DPoP headers are invalid_dpop_proof (RFC 9449 §4.3 point 1)', async () => {
    expectProofError(
      await tokenRequest(app, CC, [proof(key, { htu: HTU }), proof(key, { htu: HTU })]),
      /exactly one DPoP header/,
    );
  });

  test('a proof that is not a compact JWS is invalid_dpop_proof (RFC 9449 §4.3 point 2)', async () => {
    expectProofError(await tokenRequest(app, CC, 'not-a-jwt'), /compact JWS/);
    expectProofError(await tokenRequest(app, CC, 'e30.e30.'), /compact JWS/);
  });

  test('typ other than dpop+jwt is refused (RFC 9449 §4.3 point 4)', async () => {
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, header: { typ: 'JWT' } })), /typ "dpop\+jwt"/);
  });

  test('a proof with a crit header is refused: no JWS extension is understood (RFC 7515 §4.1.11)', async () => {
    expectProofError(
      await tokenRequest(app, CC, proof(key, { htu: HTU, header: { crit: ['exp'], exp: 1 } })),
      /critical header/,
    );
  });

  test('alg none, a symmetric alg, or one not accepted is refused (RFC 9449 §4.3 point 5)', async () => {
    const none = `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk })).toString('base64url')}.${Buffer.from(JSON.stringify({ jti: 'x', htm: 'POST', htu: HTU, iat: Math.floor(Date.now() / 1000) })).toString('base64url')}.`;
    expectProofError(await tokenRequest(app, CC, none), /compact JWS|alg/);
    expectProofError(
      await tokenRequest(app, CC, proof(key, { htu: HTU, header: { alg: 'HS256' } })),
      /alg must be one of/,
    );
  });

  test('a jwk with private key material is refused (RFC 9449 §4.3 point 7)', async () => {
    const priv = key.privateKey.export({ format: 'jwk' });
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, header: { jwk: priv } })), /public key/);
  });

  test('a proof signed by another key than its jwk is refused (RFC 9449 §4.3 point 6)', async () => {
    const other = dpopKey();
    expectProofError(
      await tokenRequest(app, CC, proof(other, { htu: HTU, header: { jwk: key.publicJwk } })),
      /signature is invalid/,
    );
  });

  test('htm must be the request method (RFC 9449 §4.3 point 8)', async () => {
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, htm: 'GET' })), /htm/);
  });

  test('htu must be the token endpoint; query and fragment are ignored (RFC 9449 §4.3 point 9)', async () => {
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: `${ISSUER}/other` })), /htu/);
    expect((await tokenRequest(app, CC, proof(key, { htu: `${HTU}?x=1#f` }))).status).toBe(200);
    expect((await tokenRequest(app, CC, proof(key, { htu: 'HTTPS://AUTH.EXAMPLE.COM:443/oauth/token' }))).status).toBe(
      200,
    );
  });

  test('htu comes from the issuer, never from the Host header: a proof for the Host-named URL is refused (RFC 9449 §4.3 point 9)', async () => {
    const res = await tokenRequest(app, CC, proof(key, { htu: 'http://evil.example/oauth/token' }), WEB_APP).set(
      'Host',
      'evil.example',
    );
    expectProofError(res, /htu/);
  });

  test('iat too old or too far in the future is refused (RFC 9449 §4.3 point 11)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, claims: { iat: now - 120 } })), /iat/);
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, claims: { iat: now + 60 } })), /iat/);
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, claims: { iat: undefined } })), /iat/);
  });

  test('a proof used twice is refused the second time (RFC 9449 §11.1 jti)', async () => {
    const once = proof(key, { htu: HTU });
    expect((await tokenRequest(app, CC, once)).status).toBe(200);
    expectProofError(await tokenRequest(app, CC, once), /used before/);
    expectProofError(await tokenRequest(app, CC, proof(key, { htu: HTU, claims: { jti: undefined } })), /jti/);
  });

  test("an attacker cannot burn another client key's jti: replay ids are scoped to the key (RFC 9449 §11.1)", async () => {
    const victim = proof(key, { htu: HTU, claims: { jti: 'shared-jti' } });
    expect((await tokenRequest(app, CC, proof(dpopKey(), { htu: HTU, claims: { jti: 'shared-jti' } }))).status).toBe(
      200,
    );
    expect((await tokenRequest(app, CC, victim)).status).toBe(200);
  });

  test.each(['ES384', 'RS256', 'PS256', 'EdDSA'] as const)(
    'a %s proof is accepted and binds to its key (RFC 9449 §4.3 point 5)',
    async (alg) => {
      const k = dpopKey(alg);
      const res = await tokenRequest(app, CC, proof(k, { htu: HTU }));
      expect(res.status).toBe(200);
      expect(decodeJwt(res.body.access_token).payload.cnf).toEqual({ jkt: k.jkt });
    },
  );

  test('an RSA key shorter than 2048 bits is refused (RFC 9449 §4.3 point 6, RFC 7518 §3.3)', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak: DpopKey = {
      privateKey: small.privateKey,
      publicJwk: small.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
      alg: 'RS256',
      jkt: '',
    };
    expectProofError(await tokenRequest(app, CC, proof(weak, { htu: HTU })), /does not fit/);
  });

  test('the metadata advertises dpop_signing_alg_values_supported (RFC 9449 §5.1)', async () => {
    const res = await request(app).get('/.well-known/oauth-authorization-server');
    expect(res.body.dpop_signing_alg_values_supported).toEqual(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA']);
  });
});

describe('DPoP-bound refresh tokens (RFC 9449 §5)', () => {
  // A public client with a refresh token: simplest to get through the password grant, opted in.
  const { app } = buildApp('express5', { passwordGrant: { allowPublicClients: true } });
  const key = dpopKey();

  async function publicTokens(): Promise<{ access_token: string; refresh_token: string; token_type: string }> {
    const res = await tokenRequest(app, { ...PASSWORD, client_id: 'spa' }, proof(key, { htu: HTU }), null);
    expect(res.body).toMatchObject({ token_type: 'DPoP' });
    return res.body;
  }

  test('a public client refreshes only with a proof from the same key; another key or none is invalid_grant (RFC 9449 §5)', async () => {
    const first = await publicTokens();
    const none = await tokenRequest(
      app,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'spa' },
      undefined,
      null,
    );
    expect({ status: none.status, error: none.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    const other = await tokenRequest(
      app,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'spa' },
      proof(dpopKey(), { htu: HTU }),
      null,
    );
    expect({ status: other.status, error: other.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
    // The failed attempts did not burn it: the rightful holder still refreshes, and the new refresh token is bound again.
    const same = await tokenRequest(
      app,
      { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'spa' },
      proof(key, { htu: HTU }),
      null,
    );
    expect(same.status).toBe(200);
    expect(same.body.token_type).toBe('DPoP');
    expect(decodeJwt(same.body.access_token).payload.cnf).toEqual({ jkt: key.jkt });
    const next = await tokenRequest(
      app,
      { grant_type: 'refresh_token', refresh_token: same.body.refresh_token, client_id: 'spa' },
      undefined,
      null,
    );
    expect(next.body.error).toBe('invalid_grant');
  });

  test("a confidential client's refresh token stays unbound (documented choice, RFC 9449 §5): it refreshes without a proof and gets a Bearer token", async () => {
    const first = await tokenRequest(app, { ...PASSWORD }, proof(key, { htu: HTU }));
    expect(first.body.token_type).toBe('DPoP');
    const res = await tokenRequest(app, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
  });

  test('introspection reports a bound token as token_type DPoP with its cnf (RFC 9449 §6.2)', async () => {
    const issued = await tokenRequest(app, CC, proof(key, { htu: HTU }));
    const res = await request(app)
      .post('/oauth/introspect')
      .set('Authorization', WEB_APP)
      .type('form')
      .send({ token: issued.body.access_token });
    expect(res.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });
});

describe('opaque DPoP-bound access tokens (RFC 9449 §6.2)', () => {
  const { app } = buildApp('express5', { accessTokenFormat: 'opaque' });
  const key = dpopKey();

  test('the opaque record keeps the jkt: introspection and requireToken see the binding', async () => {
    const issued = await tokenRequest(app, CC, proof(key, { htu: HTU }));
    expect(issued.body.token_type).toBe('DPoP');
    const res = await request(app)
      .post('/oauth/introspect')
      .set('Authorization', WEB_APP)
      .type('form')
      .send({ token: issued.body.access_token });
    expect(res.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
    const asBearer = await request(app).get('/api/me').set('Authorization', `Bearer ${issued.body.access_token}`);
    expect(asBearer.status).toBe(401);
  });
});

describe('per-client enforcement: dpopBound (RFC 9449 §5)', () => {
  const clients: MemoryClientInput[] = [
    ...CLIENTS,
    { id: 'bound-app', secret: 'bound-secret', grants: ['client_credentials'], scopes: ['read'], dpopBound: true },
  ];
  const { app } = buildApp('express5', {}, memoryStores({ clients, users: USERS }));

  test('a dpopBound client without a proof gets invalid_dpop_proof; with one it gets a DPoP token', async () => {
    const without = await tokenRequest(app, CC, undefined, basic('bound-app', 'bound-secret'));
    expectProofError(without, /must send a DPoP proof/);
    const withProof = await tokenRequest(app, CC, proof(dpopKey(), { htu: HTU }), basic('bound-app', 'bound-secret'));
    expect(withProof.body.token_type).toBe('DPoP');
  });
});

describe('server-provided nonces (RFC 9449 §8)', () => {
  const secret = 'a-nonce-secret-of-at-least-32-bytes!!';
  const build = (nonceSecret = secret) => buildApp('express5', { dpop: { nonce: { secret: nonceSecret } } }).app;
  const key = dpopKey();

  test('a proof without the nonce gets 400 use_dpop_nonce and a DPoP-Nonce header; with it, a token and the next nonce', async () => {
    const app = build();
    const first = await tokenRequest(app, CC, proof(key, { htu: HTU }));
    expect({ status: first.status, error: first.body.error }).toEqual({ status: 400, error: 'use_dpop_nonce' });
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[a-z0-9]+\.[A-Za-z0-9_-]{32}$/);
    const second = await tokenRequest(app, CC, proof(key, { htu: HTU, nonce }));
    expect(second.status).toBe(200);
    expect(second.headers['dpop-nonce']).toEqual(expect.any(String));
  });

  test('nonces are stateless across instances sharing the secret, and refused by one with another secret (RFC 9449 §8)', async () => {
    const a = build();
    const b = build();
    const nonce = (await tokenRequest(a, CC, proof(key, { htu: HTU }))).headers['dpop-nonce'] as string;
    expect((await tokenRequest(b, CC, proof(key, { htu: HTU, nonce }))).status).toBe(200);
    const other = build('another-secret-of-at-least-32-bytes!!!');
    expect((await tokenRequest(other, CC, proof(key, { htu: HTU, nonce }))).body.error).toBe('use_dpop_nonce');
    expect(
      (await tokenRequest(a, CC, proof(key, { htu: HTU, nonce: 'zz.forged-forged-forged-forged-forg' }))).body.error,
    ).toBe('use_dpop_nonce');
  });

  test('a nonce secret shorter than 32 bytes is a start-up error', () => {
    expect(() =>
      oauthServer(memoryStores({ clients: CLIENTS }), {
        issuer: ISSUER,
        logger: recordingLogger(),
        dpop: { nonce: { secret: 'short' } },
      }),
    ).toThrow(/nonce.secret must be at least 32 bytes/);
  });
});

test('a proof signed with a key whose header is cached but whose alg is no longer accepted is refused (alg pinned per server)', async () => {
  const key = dpopKey('RS256');
  const open = buildApp('express5').app;
  const strict = buildApp('express5', { dpop: { algorithms: ['ES256'] } }).app;
  const header = { typ: 'dpop+jwt', alg: 'RS256', jwk: key.publicJwk };
  expect(
    (
      await tokenRequest(
        open,
        CC,
        signJws(key, header, { jti: 'a1', htm: 'POST', htu: HTU, iat: Math.floor(Date.now() / 1000) }),
      )
    ).status,
  ).toBe(200);
  const res = await tokenRequest(
    strict,
    CC,
    signJws(key, header, { jti: 'a2', htm: 'POST', htu: HTU, iat: Math.floor(Date.now() / 1000) }),
  );
  expectProofError(res, /not accepted|alg must be one of/);
});
