/**
 * The standalone `requireToken({ issuer, audience, dpop })` (RFC 9449 §7) in another app than
 * the authorization server: DPoP-bound JWTs verified through the issuer's JWKS, the proof's
 * htu checked against the resource's configured origin, replays refused, bound tokens refused
 * as Bearer, and `requireDpop` per route.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStores, oauthServer, requireToken } from '../../src';
import { dpopKey, proof } from '../support/dpop';
import { basic, CLIENTS, FRAMEWORKS, listen, recordingLogger, USERS } from '../support/spine';

const AUDIENCE = 'https://api.example.com';
const closers: (() => Promise<void>)[] = [];
let issuer = '';

beforeAll(async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on(
    'request',
    oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), {
      issuer,
      audience: AUDIENCE,
      logger: recordingLogger(),
    }) as unknown as http.RequestListener,
  );
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

/** A DPoP-bound client_credentials token from `at` (default: the JWT issuer of this file). */
async function boundToken(key = dpopKey(), at = issuer): Promise<string> {
  const res = await fetch(`${at}/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: basic('web-app', 'web-secret'),
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: proof(key, { htu: `${at}/oauth/token` }),
    },
    body: 'grant_type=client_credentials&scope=read',
  });
  const body = (await res.json()) as { access_token: string; token_type: string };
  expect(body.token_type).toBe('DPoP');
  return body.access_token;
}

describe.each(FRAMEWORKS)('standalone requireToken with DPoP under %s', (framework) => {
  const key = dpopKey();
  let api = '';
  const PUBLIC = 'https://orders.example.com';

  beforeAll(async () => {
    const guard = requireToken({ issuer, audience: AUDIENCE, logger: recordingLogger(), dpop: { origin: PUBLIC } });
    const echo = (req: http.IncomingMessage & { auth?: unknown }, res: http.ServerResponse): void => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(req.auth));
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const app = framework === 'connect' ? require('connect')() : require(framework)();
    app.use('/orders', guard);
    app.use('/orders', echo);
    app.use('/pay', guard.with({ requireDpop: true }));
    app.use('/pay', echo);
    const server = await listen(app);
    closers.push(server.close);
    api = server.url;
  });

  const call = (path: string, token: string, dpop?: string, scheme = 'DPoP') =>
    fetch(`${api}${path}`, { headers: { Authorization: `${scheme} ${token}`, ...(dpop && { DPoP: dpop }) } });

  test('a DPoP-bound JWT with a proof for the configured public origin is accepted; the Host is not trusted (RFC 9449 §7.1, §4.3 point 9)', async () => {
    const token = await boundToken(key);
    const ok = await call(
      '/orders/7',
      token,
      proof(key, { htm: 'GET', htu: `${PUBLIC}/orders/7`, accessToken: token }),
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { claims: { cnf: unknown } }).claims.cnf).toEqual({ jkt: key.jkt });
    const byHost = await call(
      '/orders/7',
      token,
      proof(key, { htm: 'GET', htu: `${api}/orders/7`, accessToken: token }),
    );
    expect(byHost.status).toBe(401);
  });

  test('a replayed proof, another key and a bound token sent as Bearer are refused (RFC 9449 §7.1, §7.2, §11.1)', async () => {
    const token = await boundToken(key);
    const once = proof(key, { htm: 'GET', htu: `${PUBLIC}/orders`, accessToken: token });
    expect((await call('/orders', token, once)).status).toBe(200);
    const replay = await call('/orders', token, once);
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(
      /^DPoP realm="https:\/\/api\.example\.com", algs="[^"]+", error="invalid_dpop_proof"/,
    );
    expect(
      (await call('/orders', token, proof(dpopKey(), { htm: 'GET', htu: `${PUBLIC}/orders`, accessToken: token })))
        .status,
    ).toBe(401);
    const asBearer = await call('/orders', token, undefined, 'Bearer');
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  test('requireDpop on a route (guard.with) refuses bearer tokens with a DPoP challenge (RFC 9449 §7.1)', async () => {
    const bearer = (
      (await (
        await fetch(`${issuer}/oauth/token`, {
          method: 'POST',
          headers: {
            Authorization: basic('web-app', 'web-secret'),
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials&scope=read',
        })
      ).json()) as { access_token: string }
    ).access_token;
    expect((await call('/orders', bearer, undefined, 'Bearer')).status).toBe(200);
    const refused = await call('/pay', bearer, undefined, 'Bearer');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP /);
    const token = await boundToken(key);
    expect(
      (await call('/pay', token, proof(key, { htm: 'GET', htu: `${PUBLIC}/pay`, accessToken: token }))).status,
    ).toBe(200);
  });
});

describe('standalone requireToken with introspection and DPoP-bound tokens (RFC 7662, RFC 9449 §6.2, §7)', () => {
  // An issuer whose tokens the resource can only check by asking: opaque ones, and JWTs when
  // the resource has introspection alone. The binding (cnf.jkt) comes from the answer.
  const PUBLIC = 'https://orders.example.com';
  const RS_CLIENT = { id: 'orders-api', secret: 'orders-secret', grants: [], scopes: [], resourceServer: true };
  let introspections = 0;

  async function introspectingIssuer(format: 'opaque' | 'jwt'): Promise<string> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const oauth = oauthServer(memoryStores({ clients: [...CLIENTS, RS_CLIENT as never], users: USERS }), {
      issuer: url,
      audience: AUDIENCE,
      accessTokenFormat: format,
      logger: recordingLogger(),
    }) as unknown as http.RequestListener;
    server.on('request', (req, res) => {
      if (req.url === '/oauth/introspect') introspections++;
      oauth(req, res);
    });
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return url;
  }

  describe.each(['opaque', 'jwt'] as const)('%s access tokens', (format) => {
    const key = dpopKey();
    let at = '';
    let api = '';
    beforeAll(async () => {
      at = await introspectingIssuer(format);
      const guard = requireToken({
        issuer: at,
        audience: AUDIENCE,
        introspection: { clientId: 'orders-api', clientSecret: 'orders-secret' },
        logger: recordingLogger(),
        dpop: { origin: PUBLIC },
      });
      const server = await listen((req, res) =>
        guard(req, res, () => res.end(JSON.stringify((req as { auth?: unknown }).auth))),
      );
      closers.push(server.close);
      api = server.url;
    });

    const tokenFor = (): Promise<string> => boundToken(key, at);
    const call = (token: string, dpop?: string, scheme = 'DPoP') =>
      fetch(`${api}/orders`, { headers: { Authorization: `${scheme} ${token}`, ...(dpop && { DPoP: dpop }) } });
    const proofFor = (token: string, proofKey = key) =>
      proof(proofKey, { htm: 'GET', htu: `${PUBLIC}/orders`, accessToken: token });

    test('a bound token with a proof by its key is accepted; req.auth carries the cnf the introspection answered (RFC 9449 §6.2)', async () => {
      const token = await tokenFor();
      const res = await call(token, proofFor(token));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { claims: Record<string, unknown> }).claims).toMatchObject({
        token_type: 'DPoP',
        cnf: { jkt: key.jkt },
      });
    });

    test('the proof is checked on every request, the introspection answer is cached: a replayed proof is refused without asking the issuer again (RFC 9449 §11.1)', async () => {
      const token = await tokenFor();
      const once = proofFor(token);
      expect((await call(token, once)).status).toBe(200);
      const asked = introspections;
      const replayed = await call(token, once);
      expect(replayed.status).toBe(401);
      expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
      expect((await call(token, proofFor(token))).status).toBe(200);
      expect(introspections).toBe(asked);
    });

    test('a proof by another key than cnf.jkt is invalid_dpop_proof; no proof with the DPoP scheme too (RFC 9449 §7.1)', async () => {
      const token = await tokenFor();
      const other = await call(token, proofFor(token, dpopKey()));
      expect(other.status).toBe(401);
      expect(other.headers.get('www-authenticate')).toMatch(/error="invalid_dpop_proof"/);
      const none = await call(token);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
    });

    test('a bound token sent as Bearer is refused with invalid_token (RFC 9449 §7.2)', async () => {
      const token = await tokenFor();
      const asBearer = await call(token, undefined, 'Bearer');
      expect(asBearer.status).toBe(401);
      expect(asBearer.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      // Even with a valid proof alongside: the scheme decides, and Bearer never carries a bound token.
      expect((await call(token, proofFor(token), 'Bearer')).status).toBe(401);
    });
  });
});

test('standalone requireToken: dpop options are checked at start-up', () => {
  expect(() =>
    requireToken({ issuer: 'https://auth.example.com', audience: AUDIENCE, dpop: { origin: 'not a url' } }),
  ).toThrow(/dpop.origin/);
  expect(() =>
    requireToken({
      issuer: 'https://auth.example.com',
      audience: AUDIENCE,
      dpop: { algorithms: ['HS256' as 'ES256'] },
    }),
  ).toThrow(/dpop.algorithms/);
});
