/**
 * DPoP at protected resources (RFC 9449 §7): the DPoP scheme with a proof bound to the token
 * (ath) and to its key (cnf.jkt), challenges, per-route enforcement, the cache, and the
 * origin the proof's htu is checked against.
 */
import request from 'supertest';
import { dpopKey, proof, type DpopKey } from '../support/dpop';
import { basic, buildApp, FRAMEWORKS, ISSUER } from '../support/spine';

const HTU = `${ISSUER}/oauth/token`;
const ME = `${ISSUER}/api/me`;
type App = Parameters<typeof request>[0];

async function boundToken(app: App, key: DpopKey): Promise<string> {
  const res = await request(app)
    .post('/oauth/token')
    .set('Authorization', basic('web-app', 'web-secret'))
    .set('DPoP', proof(key, { htu: HTU }))
    .type('form')
    .send({ grant_type: 'client_credentials', scope: 'read write' });
  expect(res.body.token_type).toBe('DPoP');
  return res.body.access_token as string;
}

function call(app: App, path: string, token: string, dpop?: string, scheme = 'DPoP') {
  const req = request(app).get(path).set('Authorization', `${scheme} ${token}`);
  return dpop === undefined ? req : req.set('DPoP', dpop);
}

function expectChallenge(res: request.Response, error: string, scheme = 'DPoP'): void {
  expect(res.status).toBe(401);
  expect(res.body.error).toBe(error);
  expect(res.headers['www-authenticate']).toMatch(
    new RegExp(
      `^${scheme} realm="${ISSUER}", ${scheme === 'DPoP' ? 'algs="ES256 ES384 ES512 RS256 PS256 EdDSA", ' : ''}error="${error}"`,
    ),
  );
}

describe.each(FRAMEWORKS)('requireToken with DPoP under %s', (framework) => {
  const { app } = buildApp(framework, { accessTokenFormat: framework === 'connect' ? 'opaque' : 'jwt' });
  const key = dpopKey();

  test('a DPoP-bound token with a proof carrying ath is accepted, and req.auth carries cnf (RFC 9449 §7.1)', async () => {
    const token = await boundToken(app, key);
    const res = await call(app, '/api/me', token, proof(key, { htm: 'GET', htu: ME, accessToken: token }));
    expect(res.status).toBe(200);
    expect(res.body.claims.cnf).toEqual({ jkt: key.jkt });
  });

  test('a stolen DPoP-bound token is useless without the key: a proof by another key is refused (RFC 9449 §7.1)', async () => {
    const token = await boundToken(app, key);
    const thief = dpopKey();
    expectChallenge(
      await call(app, '/api/me', token, proof(thief, { htm: 'GET', htu: ME, accessToken: token })),
      'invalid_dpop_proof',
    );
  });

  test('a DPoP-bound token sent as Bearer is refused (RFC 9449 §7.2)', async () => {
    const token = await boundToken(app, key);
    expectChallenge(await call(app, '/api/me', token, undefined, 'Bearer'), 'invalid_token', 'Bearer');
  });

  test('the DPoP scheme without a proof, or a proof without or with a wrong ath, is invalid_dpop_proof with a DPoP challenge (RFC 9449 §7.1, §4.3 point 12)', async () => {
    const token = await boundToken(app, key);
    expectChallenge(await call(app, '/api/me', token), 'invalid_dpop_proof');
    expectChallenge(await call(app, '/api/me', token, proof(key, { htm: 'GET', htu: ME })), 'invalid_dpop_proof');
    expectChallenge(
      await call(app, '/api/me', token, proof(key, { htm: 'GET', htu: ME, accessToken: 'another-token' })),
      'invalid_dpop_proof',
    );
  });

  test('htm and htu are checked against the resource request (RFC 9449 §4.3 points 8, 9)', async () => {
    const token = await boundToken(app, key);
    expectChallenge(
      await call(app, '/api/me', token, proof(key, { htm: 'POST', htu: ME, accessToken: token })),
      'invalid_dpop_proof',
    );
    expectChallenge(
      await call(app, '/api/me', token, proof(key, { htm: 'GET', htu: `${ISSUER}/api/write`, accessToken: token })),
      'invalid_dpop_proof',
    );
    expectChallenge(
      await call(
        app,
        '/api/me',
        token,
        proof(key, { htm: 'GET', htu: 'https://other.example/api/me', accessToken: token }),
      ),
      'invalid_dpop_proof',
    );
  });

  test('a cache hit still checks the proof: a replayed proof and a bad signature are refused (RFC 9449 §11.1)', async () => {
    const token = await boundToken(app, key);
    const first = proof(key, { htm: 'GET', htu: ME, accessToken: token });
    expect((await call(app, '/api/me', token, first)).status).toBe(200);
    // The token is cached now; the same proof again is a replay.
    expectChallenge(await call(app, '/api/me', token, first), 'invalid_dpop_proof');
    const forged = proof(key, { htm: 'GET', htu: ME, accessToken: token });
    const tampered = forged.slice(0, -4) + (forged.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expectChallenge(await call(app, '/api/me', token, tampered), 'invalid_dpop_proof');
    expect((await call(app, '/api/me', token, proof(key, { htm: 'GET', htu: ME, accessToken: token }))).status).toBe(
      200,
    );
  });

  test('a bearer token sent with the DPoP scheme is invalid_token (RFC 9449 §7.1: the token must be bound)', async () => {
    const bearer = (
      await request(app)
        .post('/oauth/token')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'read' })
    ).body.access_token as string;
    expectChallenge(
      await call(app, '/api/me', bearer, proof(key, { htm: 'GET', htu: ME, accessToken: bearer })),
      'invalid_token',
    );
    expect((await call(app, '/api/me', bearer, undefined, 'Bearer')).status).toBe(200);
  });
});

describe.each(FRAMEWORKS)('routes that require DPoP, mounted below a path, under %s', (framework) => {
  // A guarded route under a mount path: htu must be the full public URL, not the path the router sees.
  const built = buildApp(framework);
  const key = dpopKey();
  let mounted: App;
  beforeAll(() => {
    const { oauth } = built;
    const handler = (
      req: { auth?: unknown },
      res: { setHeader: (n: string, v: string) => void; end: (b: string) => void },
    ): void => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(req.auth));
    };
    if (framework === 'connect') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const root = require('connect')();
      root.use(oauth);
      root.use('/v1/orders', oauth.requireToken({ requireDpop: true }));
      root.use('/v1/orders', handler);
      mounted = root;
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const express = require(framework);
      const root = express();
      const router = express.Router();
      router.get('/orders', oauth.requireToken({ requireDpop: true }), handler);
      root.use(oauth);
      root.use('/v1', router);
      mounted = root;
    }
  });

  test('requireDpop: a DPoP-bound token with a proof for the full URL passes; a bearer token or none gets a DPoP challenge (RFC 9449 §7.1)', async () => {
    const token = await boundToken(mounted, key);
    const ok = await call(
      mounted,
      '/v1/orders?page=2',
      token,
      proof(key, { htm: 'GET', htu: `${ISSUER}/v1/orders`, accessToken: token }),
    );
    expect(ok.status).toBe(200);
    const bearer = (
      await request(mounted)
        .post('/oauth/token')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'read' })
    ).body.access_token as string;
    expectChallenge(await call(mounted, '/v1/orders', bearer, undefined, 'Bearer'), 'invalid_token');
    const missing = await request(mounted).get('/v1/orders');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe(
      `DPoP realm="${ISSUER}", algs="ES256 ES384 ES512 RS256 PS256 EdDSA"`,
    );
  });

  test('the proof for the path the router sees (without the mount point) is refused (RFC 9449 §4.3 point 9)', async () => {
    const token = await boundToken(mounted, key);
    expectChallenge(
      await call(mounted, '/v1/orders', token, proof(key, { htm: 'GET', htu: `${ISSUER}/orders`, accessToken: token })),
      'invalid_dpop_proof',
    );
  });
});

describe('the origin of htu at a resource: configured, or a trusted proxy, never Host (RFC 9449 §4.3 point 9)', () => {
  const key = dpopKey();
  // A request through a proxy naming `host` in X-Forwarded-Host, with a proof for https://{proofHost}/api/me.
  const forwarded = (app: App, token: string, host = 'api.example.net', proofHost = host) =>
    call(app, '/api/me', token, proof(key, { htm: 'GET', htu: `https://${proofHost}/api/me`, accessToken: token }))
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', host);

  // Express 4 and 5 both compile `trust proxy` into the app's 'trust proxy fn' setting, which
  // is what decides here; the same header handling must hold under each.
  test.each(['express4', 'express5'] as const)(
    'under %s: X-Forwarded-Host is ignored unless trustProxy is on and Express trusts the proxy',
    async (framework) => {
      const plain = buildApp(framework).app;
      expectChallenge(
        await forwarded(plain, await boundToken(plain, key)).set('Host', 'api.example.net'),
        'invalid_dpop_proof',
      );

      // trustProxy on, but Express does not trust the peer: the forwarded origin is not taken.
      const untrusted = buildApp(framework, { dpop: { trustProxy: true } }).app;
      expectChallenge(await forwarded(untrusted, await boundToken(untrusted, key)), 'invalid_dpop_proof');

      // Express trusts loopback (where supertest connects from) but trustProxy is off.
      const setTrust = (app: { use: (...args: unknown[]) => unknown }) =>
        (app as unknown as { set: (k: string, v: unknown) => void }).set('trust proxy', 'loopback');
      const notOn = buildApp(framework, {}, undefined, setTrust).app;
      expectChallenge(await forwarded(notOn, await boundToken(notOn, key)), 'invalid_dpop_proof');

      const proxied = buildApp(framework, { dpop: { trustProxy: true } }, undefined, setTrust).app;
      const token = await boundToken(proxied, key);
      expect((await forwarded(proxied, token)).status).toBe(200);
      // Only the first (client-facing) value of a list counts; a proof for a later one fails.
      const listed = forwarded(proxied, token, 'api.example.net, inner.example.net', 'inner.example.net');
      expectChallenge(await listed, 'invalid_dpop_proof');
    },
  );

  test('under connect, trustProxy has no effect: there is no Express trust setting, so forwarded headers are never taken', async () => {
    const { app } = buildApp('connect', { dpop: { trustProxy: true } });
    expectChallenge(await forwarded(app, await boundToken(app, key)), 'invalid_dpop_proof');
  });

  test('configured origins are accepted, and only those', async () => {
    const { app } = buildApp('express5', { dpop: { origin: ['https://api.example.com', ISSUER] } });
    const token = await boundToken(app, key);
    expect(
      (
        await call(
          app,
          '/api/me',
          token,
          proof(key, { htm: 'GET', htu: 'https://api.example.com/api/me', accessToken: token }),
        )
      ).status,
    ).toBe(200);
    expectChallenge(
      await call(
        app,
        '/api/me',
        token,
        proof(key, { htm: 'GET', htu: 'https://api.example.org/api/me', accessToken: token }),
      ),
      'invalid_dpop_proof',
    );
  });
});

test('with nonces on, a resource answers a proof without one 401 use_dpop_nonce and a DPoP-Nonce header, and accepts it with one (RFC 9449 §9)', async () => {
  const { app } = buildApp('express5', { dpop: { nonce: { secret: 'a-nonce-secret-of-at-least-32-bytes!!' } } });
  const key = dpopKey();
  const first = await request(app)
    .post('/oauth/token')
    .set('Authorization', basic('web-app', 'web-secret'))
    .set('DPoP', proof(key, { htu: HTU }))
    .type('form')
    .send({ grant_type: 'client_credentials', scope: 'read' });
  const nonce = first.headers['dpop-nonce'] as string;
  const issued = await request(app)
    .post('/oauth/token')
    .set('Authorization', basic('web-app', 'web-secret'))
    .set('DPoP', proof(key, { htu: HTU, nonce }))
    .type('form')
    .send({ grant_type: 'client_credentials', scope: 'read' });
  const token = issued.body.access_token as string;
  const without = await call(app, '/api/me', token, proof(key, { htm: 'GET', htu: ME, accessToken: token }));
  expectChallenge(without, 'use_dpop_nonce');
  expect(without.headers['dpop-nonce']).toEqual(expect.any(String));
  const withNonce = await call(
    app,
    '/api/me',
    token,
    proof(key, { htm: 'GET', htu: ME, accessToken: token, nonce: without.headers['dpop-nonce'] as string }),
  );
  expect(withNonce.status).toBe(200);
});
