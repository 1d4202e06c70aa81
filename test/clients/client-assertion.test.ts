/**
 * private_key_jwt and client_secret_jwt (RFC 7523 §2.2, §3; RFC 7521 §4.2; OIDC Core §9): every
 * claim and algorithm rule, at every endpoint that authenticates clients, the brute-force
 * limits, and fetching a client's jwks_uri.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { memoryStores, type MemoryClientInput, type ServerOptions } from '../../src';
import { JWT_BEARER_ASSERTION } from '../../src/clients/assertion';
import { dpopKey, signJws, type DpopKey } from '../support/dpop';
import { buildApp, CLIENTS, FRAMEWORKS, ISSUER, USERS } from '../support/spine';
import { certificate } from '../support/tls';

const TOKEN_URL = `${ISSUER}/oauth/token`;
const JWT_SECRET = 'a-client-secret-for-client_secret_jwt-clients';
type App = Parameters<typeof request>[0];

const es = dpopKey('ES256');
const rsa = dpopKey('RS256');
const jwk = (key: DpopKey, kid: string) => ({ ...key.publicJwk, kid, use: 'sig' });

function clients(extra: MemoryClientInput[] = []): MemoryClientInput[] {
  return [
    ...CLIENTS,
    {
      id: 'machine',
      grants: ['client_credentials'],
      scopes: ['read'],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [jwk(es, 'es-1'), jwk(rsa, 'rsa-1')] },
    },
    {
      id: 'pinned',
      grants: ['client_credentials'],
      scopes: ['read'],
      tokenEndpointAuthMethod: 'private_key_jwt',
      tokenEndpointAuthSigningAlg: 'ES256',
      jwks: { keys: [jwk(es, 'es-1'), jwk(rsa, 'rsa-1')] },
    },
    {
      id: 'hmac',
      secret: JWT_SECRET,
      grants: ['client_credentials'],
      scopes: ['read'],
      tokenEndpointAuthMethod: 'client_secret_jwt',
    },
    ...extra,
  ];
}

function claims(clientId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const c: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...overrides,
  };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
}

function assertion(
  key: DpopKey,
  kid: string,
  clientId: string,
  overrides: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  return signJws(key, { alg: key.alg, kid, typ: 'JWT', ...header }, claims(clientId, overrides));
}

function hmacAssertion(
  secret: string,
  clientId: string,
  overrides: Record<string, unknown> = {},
  alg = 'HS256',
): string {
  const input = `${Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims(clientId, overrides))).toString('base64url')}`;
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret)
    .update(input)
    .digest('base64url')}`;
}

function post(app: App, path: string, form: Record<string, string>) {
  return request(app).post(path).type('form').send(form);
}

function tokenWith(app: App, clientAssertion: string, extra: Record<string, string> = {}) {
  return post(app, '/oauth/token', {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: clientAssertion,
    ...extra,
  });
}

function expectInvalidClient(res: request.Response, pattern?: RegExp): void {
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_client' });
  if (pattern) expect(res.body.error_description).toMatch(pattern);
  expect(res.headers['cache-control']).toBe('no-store');
}

describe.each(FRAMEWORKS)('private_key_jwt under %s (RFC 7523 §2.2)', (framework) => {
  const { app } = buildApp(framework, {}, memoryStores({ clients: clients(), users: USERS }));

  test('a client signing with its registered EC key gets a token with no shared secret (RFC 7523 §2.2)', async () => {
    const res = await tokenWith(app, assertion(es, 'es-1', 'machine'));
    expect(res.status).toBe(200);
    const me = await request(app).get('/api/me').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(me.body.clientId).toBe('machine');
  });

  test('aud may be the issuer identifier or the token endpoint URL, nothing else (RFC 7523 §3 point 3, rfc7523bis)', async () => {
    expect((await tokenWith(app, assertion(es, 'es-1', 'machine', { aud: TOKEN_URL }))).status).toBe(200);
    expect((await tokenWith(app, assertion(es, 'es-1', 'machine', { aud: [ISSUER, TOKEN_URL] }))).status).toBe(200);
    expectInvalidClient(
      await tokenWith(app, assertion(es, 'es-1', 'machine', { aud: 'https://other.example.com' })),
      /aud/,
    );
    expectInvalidClient(
      await tokenWith(app, assertion(es, 'es-1', 'machine', { aud: [ISSUER, 'https://other.example.com'] })),
      /aud/,
    );
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { aud: undefined })), /aud/);
  });

  test('iss and sub must both be the client_id (RFC 7523 §3 points 1, 2)', async () => {
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { iss: 'someone-else' })), /iss and sub/);
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { sub: 'web-app' })));
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine'), { client_id: 'web-app' }), /client_id/);
  });

  test('exp is required, not past and bounded (RFC 7523 §3 point 4)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { exp: undefined })), /exp/);
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { exp: now - 30 })), /expired/);
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { exp: now + 7200 })), /exp/);
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { nbf: now + 120 })), /nbf/);
  });

  test('jti is required and single use (RFC 7523 §3 point 7)', async () => {
    const once = assertion(es, 'es-1', 'machine');
    expect((await tokenWith(app, once)).status).toBe(200);
    expectInvalidClient(await tokenWith(app, once), /used before/);
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'machine', { jti: undefined })), /jti/);
  });

  test('alg none, HS256 "signed" with the public key, and a signature by an unregistered key are refused (RFC 7518 §3.1, RFC 8725 §3.1)', async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims('machine'))).toString('base64url')}.`;
    expectInvalidClient(await tokenWith(app, unsigned));
    const confused = hmacAssertion(JSON.stringify(es.publicJwk), 'machine');
    expectInvalidClient(await tokenWith(app, confused));
    expectInvalidClient(await tokenWith(app, assertion(dpopKey(), 'es-1', 'machine')));
    expectInvalidClient(await tokenWith(app, assertion(dpopKey(), 'unknown-kid', 'machine')));
  });

  test('an assertion with a crit header is refused (RFC 7515 §4.1.11)', async () => {
    expectInvalidClient(
      await tokenWith(app, assertion(es, 'es-1', 'machine', {}, { crit: ['exp'], exp: 1 })),
      /critical header/,
    );
  });

  test("the alg is pinned to the client's registered token_endpoint_auth_signing_alg (RFC 7591 §2)", async () => {
    expect((await tokenWith(app, assertion(rsa, 'rsa-1', 'machine'))).status).toBe(200);
    expect((await tokenWith(app, assertion(es, 'es-1', 'pinned'))).status).toBe(200);
    expectInvalidClient(await tokenWith(app, assertion(rsa, 'rsa-1', 'pinned')));
  });

  test('a private_key_jwt client cannot fall back to none or to a secret (RFC 7591 token_endpoint_auth_method)', async () => {
    expectInvalidClient(await post(app, '/oauth/token', { grant_type: 'client_credentials', client_id: 'machine' }));
    expectInvalidClient(
      await post(app, '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'machine',
        client_secret: 'anything',
      }),
    );
  });

  test('an assertion with HTTP Basic too is invalid_request; a wrong client_assertion_type is invalid_client (RFC 7521 §4.2)', async () => {
    const both = await request(app)
      .post('/oauth/token')
      .auth('web-app', 'web-secret')
      .type('form')
      .send({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_ASSERTION,
        client_assertion: assertion(es, 'es-1', 'machine'),
      });
    expect({ status: both.status, error: both.body.error }).toEqual({ status: 400, error: 'invalid_request' });
    expectInvalidClient(
      await post(app, '/oauth/token', {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:example:other',
        client_assertion: assertion(es, 'es-1', 'machine'),
      }),
    );
    expectInvalidClient(await tokenWith(app, 'not-a-jwt'), /compact JWS/);
  });

  test('revocation and introspection authenticate the client the same way (RFC 7009 §2.1, RFC 7662 §2.1)', async () => {
    const token = (await tokenWith(app, assertion(es, 'es-1', 'machine'))).body.access_token as string;
    const auth = () => ({
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion(es, 'es-1', 'machine'),
    });
    const introspected = await post(app, '/oauth/introspect', { token, ...auth() });
    expect(introspected.body).toMatchObject({ active: true, client_id: 'machine' });
    expect((await post(app, '/oauth/revoke', { token, ...auth() })).status).toBe(200);
    expect((await post(app, '/oauth/introspect', { token, ...auth() })).body).toEqual({ active: false });
  });
});

describe('client_secret_jwt (RFC 7523 §2.2, OIDC Core §9)', () => {
  const { app } = buildApp('express5', {}, memoryStores({ clients: clients(), users: USERS }));

  test('HS256 over the client secret authenticates; another secret or alg does not, nor does Basic for this client', async () => {
    expect((await tokenWith(app, hmacAssertion(JWT_SECRET, 'hmac'))).status).toBe(200);
    expectInvalidClient(await tokenWith(app, hmacAssertion('another-secret', 'hmac')));
    expectInvalidClient(await tokenWith(app, hmacAssertion(JWT_SECRET, 'hmac', {}, 'HS512')));
    const basic = await request(app)
      .post('/oauth/token')
      .auth('hmac', JWT_SECRET)
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expectInvalidClient(basic);
  });

  test('a client_secret_basic client cannot use client_secret_jwt: its secret is only a hash', async () => {
    expectInvalidClient(await tokenWith(app, hmacAssertion('web-secret', 'web-app')));
  });
});

test('failed assertions count against the client id like failed secrets (brute-force limits)', async () => {
  const { app } = buildApp(
    'express5',
    { bruteForce: { username: false, address: false, clientId: { points: 3, duration: 60 } } },
    memoryStores({ clients: clients(), users: USERS }),
  );
  for (let i = 0; i < 3; i++) expectInvalidClient(await tokenWith(app, assertion(dpopKey(), 'es-1', 'machine')));
  const refused = await tokenWith(app, assertion(es, 'es-1', 'machine'));
  expect(refused.status).toBe(429);
  expect(refused.headers['retry-after']).toEqual(expect.any(String));
});

test('the metadata lists private_key_jwt, client_secret_jwt and their algorithms (RFC 8414 §2)', async () => {
  const { app } = buildApp('express5');
  const res = await request(app).get('/.well-known/oauth-authorization-server');
  expect(res.body.token_endpoint_auth_methods_supported).toEqual(
    expect.arrayContaining(['private_key_jwt', 'client_secret_jwt']),
  );
  expect(res.body.token_endpoint_auth_signing_alg_values_supported).toEqual([
    'ES256',
    'ES384',
    'ES512',
    'RS256',
    'PS256',
    'EdDSA',
    'HS256',
  ]);
  expect(res.body.token_endpoint_auth_signing_alg_values_supported).not.toContain('none');
  expect(res.body.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
});

describe('jwks_uri (RFC 7591 §2): fetched, cached, refetched for a rotated key', () => {
  test('a client publishing its keys at a URL authenticates; after it rotates keys the new one is fetched', async () => {
    let served = { keys: [jwk(es, 'old')] };
    let fetches = 0;
    const server = http.createServer((req, res) => {
      fetches++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    try {
      // The test's JWKS server is on loopback, which the default (SSRF-safe) fetch refuses; a
      // custom fetchJwks is how an app adds or changes policy.
      const fetchJwks = async (u: string) => (await fetch(u)).json();
      const { app } = buildApp(
        'express5',
        { clientAssertions: { fetchJwks, jwksRefetchInterval: 0 } },
        memoryStores({
          clients: clients([
            {
              id: 'remote',
              grants: ['client_credentials'],
              scopes: ['read'],
              tokenEndpointAuthMethod: 'private_key_jwt',
              jwksUri: url,
            },
          ]),
          users: USERS,
        }),
      );
      expect((await tokenWith(app, assertion(es, 'old', 'remote'))).status).toBe(200);
      expect((await tokenWith(app, assertion(es, 'old', 'remote'))).status).toBe(200);
      expect(fetches).toBe(1);
      const rotated = dpopKey();
      served = { keys: [jwk(rotated, 'new')] };
      expect((await tokenWith(app, assertion(rotated, 'new', 'remote'))).status).toBe(200);
      expect(fetches).toBe(2);
    } finally {
      server.close();
    }
  });

  describe("the default fetch is the SSRF-safe outbound fetch: a jwks_uri at the server's own network is refused", () => {
    const tls = certificate();
    let jwksServer: https.Server;
    let port = 0;
    let served = 0;
    beforeAll(async () => {
      jwksServer = https.createServer({ key: tls.key, cert: tls.cert }, (_req, res) => {
        served++;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ keys: [jwk(es, 'es-1')] }));
      });
      await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
      port = (jwksServer.address() as AddressInfo).port;
    });
    afterAll(async () => {
      jwksServer.closeAllConnections();
      await new Promise((resolve) => jwksServer.close(resolve));
    });

    const withJwksUri = (jwksUri: string, options: Partial<ServerOptions> = {}) =>
      buildApp(
        'express5',
        options,
        memoryStores({
          clients: clients([
            {
              id: 'inside',
              grants: ['client_credentials'],
              scopes: ['read'],
              tokenEndpointAuthMethod: 'private_key_jwt',
              jwksUri,
            },
          ]),
          users: USERS,
        }),
      );

    test('a loopback address literal, and a name that resolves to one (checked where DNS answers), are never fetched', async () => {
      for (const host of ['127.0.0.1', 'localhost']) {
        const { app, logger } = withJwksUri(`https://${host}:${port}/jwks`);
        expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'inside')), /jwks_uri/);
        const warning = logger.lines.find((l) => /jwks_uri of client "inside"/.test(l.message));
        expect(String((warning?.detail as Error | undefined)?.message)).toMatch(
          /private, loopback or otherwise special/,
        );
      }
      expect(served).toBe(0);
    });

    test('other private ranges and plain http are refused too', async () => {
      for (const uri of [
        'https://169.254.169.254/latest/meta-data',
        'https://[::1]/jwks',
        `http://127.0.0.1:${port}/jwks`,
      ]) {
        const { app, logger } = withJwksUri(uri);
        expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'inside')));
        const warning = logger.lines.find((l) => /jwks_uri of client "inside"/.test(l.message));
        expect(String((warning?.detail as Error | undefined)?.message)).toMatch(/special address|only https/);
      }
      expect(served).toBe(0);
    });

    test('jwksFetchOptions tunes the default fetch: an address the app allows is fetched, with its CA', async () => {
      const { app } = withJwksUri(`https://127.0.0.1:${port}/jwks`, {
        clientAssertions: { jwksFetchOptions: { allowAddress: (a) => a === '127.0.0.1', ca: tls.cert } },
      });
      expect((await tokenWith(app, assertion(es, 'es-1', 'inside'))).status).toBe(200);
      expect(served).toBe(1);
      const { app: listed } = withJwksUri(`https://127.0.0.1:${port}/jwks`, {
        clientAssertions: { jwksFetchOptions: { allow: (url) => url.hostname === 'keys.partner.example' } },
      });
      expectInvalidClient(await tokenWith(listed, assertion(es, 'es-1', 'inside')));
      expect(served).toBe(1);
    });

    test('fetchJwks and jwksFetchOptions together are a start-up error', () => {
      expect(() =>
        withJwksUri('https://keys.example.com/jwks', {
          clientAssertions: { fetchJwks: async () => ({ keys: [] }), jwksFetchOptions: {} },
        }),
      ).toThrow(expect.objectContaining({ code: 'ERR_TOKENGATE_CLIENT_ASSERTIONS' }));
    });
  });

  test('a jwks_uri that cannot be fetched is invalid_client, with the cause logged, not a 500', async () => {
    const fetchJwks = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    const { app, logger } = buildApp(
      'express5',
      { clientAssertions: { fetchJwks } },
      memoryStores({
        clients: clients([
          {
            id: 'down',
            grants: ['client_credentials'],
            scopes: ['read'],
            tokenEndpointAuthMethod: 'private_key_jwt',
            jwksUri: 'https://keys.example.com/jwks',
          },
        ]),
        users: USERS,
      }),
    );
    expectInvalidClient(await tokenWith(app, assertion(es, 'es-1', 'down')), /jwks_uri/);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/jwks_uri of client "down" could not be fetched/),
      }),
    );
  });
});
