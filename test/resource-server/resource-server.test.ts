/**
 * The standalone `requireToken()` for resource servers in other processes: the authorization
 * server runs in a child process (test/support/auth-server-process.ts), and resource servers
 * listen here on their own ports and check its tokens over HTTP, through its JWKS (RFC 7517,
 * found via RFC 8414 metadata) or its introspection endpoint (RFC 7662).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type http from 'node:http';
import jwt from 'jsonwebtoken';
import { memoryStores, oauthServer, requireToken, type ResourceGuard, type ResourceServerOptions } from '../../src';
import { es256, LIFECYCLE_CLIENTS, signing, verifyOnly } from '../support/lifecycle';
import { startAuthServerProcess, type AuthServerProcess } from '../support/remote';
import { nowSeconds } from '../support/seconds';
import { basic, FRAMEWORKS, listen, recordingLogger, USERS, type Framework } from '../support/spine';

const AUDIENCE = 'https://api.example.com';
const oldKey = es256('rs-2026-05');
const newKey = es256('rs-2026-11');

let as: AuthServerProcess;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  as = await startAuthServerProcess([signing(oldKey)]);
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await as.stop();
});

// ---- helpers -------------------------------------------------------------------------------

function echo(req: http.IncomingMessage & { auth?: unknown }, res: http.ServerResponse): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(req.auth));
}

/** A resource server on its own port: GET /me (any token) and GET /write (scope write). */
async function resourceServer(options: Partial<ResourceServerOptions> = {}, framework: Framework = 'express5') {
  const logger = recordingLogger();
  const guard: ResourceGuard = requireToken({ issuer: as.issuer, audience: AUDIENCE, logger, ...options });
  let app;
  if (framework === 'connect') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    app = require('connect')();
    app.use('/me', guard);
    app.use('/me', echo);
    app.use('/write', guard.with({ scope: 'write' }));
    app.use('/write', echo);
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    app = require(framework)();
    app.get('/me', guard, echo);
    app.get('/write', guard.with({ scope: 'write' }), echo);
  }
  const server = await listen(app);
  closers.push(server.close);
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(server.url + path, {
      headers: token === undefined ? headers : { Authorization: `Bearer ${token}`, ...headers },
    });
  return { url: server.url, logger, get };
}

async function post(url: string, form: Record<string, string>, client = basic('web-app', 'web-secret')) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: client, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** Password-grant tokens from the JWT issuer (base '') or the opaque one (base '/opaque'). */
async function tokens(base: '' | '/opaque' = '', scope = 'read write') {
  const res = await post(`${as.issuer}${base}/oauth/token`, {
    grant_type: 'password',
    username: 'alice@example.com',
    password: 'wonderland',
    scope,
  });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string };
}

const revokeAt = (base: '' | '/opaque', token: string) => post(`${as.issuer}${base}/oauth/revoke`, { token });
const hits = async (path: string) => (await as.hits())[path] ?? 0;

/** Every message and error code along a logged cause chain. */
function causes(detail: unknown): string {
  const out: string[] = [];
  for (
    let e = detail as { message?: unknown; code?: unknown; cause?: unknown } | undefined;
    e && out.length < 10;
    e = e.cause as typeof e
  ) {
    out.push(String(e.message), String(e.code));
  }
  return out.join(' | ');
}

// ---- JWT mode ------------------------------------------------------------------------------

describe.each(FRAMEWORKS)('JWT mode, resource server on %s', (framework) => {
  test("a second process verifies the issuer's JWTs through its RFC 8414 metadata and JWKS; req.auth equals what oauth.requireToken() sets in the issuer's process", async () => {
    const rs = await resourceServer({}, framework);
    const { access_token: token } = await tokens();
    const remote = await rs.get('/me', token);
    expect(remote.status).toBe(200);
    const local = await fetch(`${as.issuer}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(await remote.json()).toEqual(await local.json());
  });

  test('the RFC 6750 answers are those of oauth.requireToken(): missing, malformed, invalid and insufficient-scope tokens (RFC 6750 §3)', async () => {
    const rs = await resourceServer({}, framework);
    const { access_token: readOnly } = await tokens('', 'read');
    const tampered = readOnly.slice(0, -4) + (readOnly.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const cases: [string, string | undefined, Record<string, string>][] = [
      ['/me', undefined, {}],
      ['/me', undefined, { Authorization: 'Bearer a b' }],
      ['/me', tampered, {}],
      ['/write', readOnly, {}],
    ];
    const asPath: Record<string, string> = { '/me': '/api/me', '/write': '/api/write' };
    for (const [path, token, headers] of cases) {
      const remote = await rs.get(path, token, headers);
      const local = await fetch(as.issuer + asPath[path], {
        headers: token === undefined ? headers : { Authorization: `Bearer ${token}` },
      });
      expect([path, remote.status]).toEqual([path, local.status]);
      expect(remote.headers.get('cache-control')).toBe('no-store');
      // Same challenge but for the realm: the issuer's is its issuer, a resource server's its audience.
      expect(remote.headers.get('www-authenticate')).toBe(
        local.headers.get('www-authenticate')?.replace(`realm="${as.issuer}"`, `realm="${AUDIENCE}"`),
      );
      expect(await remote.json()).toEqual(await local.json());
    }
  });
});

describe('JWT mode', () => {
  test('a token for another audience is 401 invalid_token (RFC 9068 §4: aud must name this resource server)', async () => {
    const rs = await resourceServer({ audience: 'https://billing.example.com' });
    const res = await rs.get('/me', (await tokens()).access_token);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
  });

  test('the algorithm is pinned: an HS256 token keyed with the published public key is refused (alg confusion, RFC 8725 §2.1)', async () => {
    const rs = await resourceServer();
    await rs.get('/me', (await tokens()).access_token); // keys fetched
    const now = nowSeconds();
    const forged = jwt.sign(
      {
        iss: as.issuer,
        aud: AUDIENCE,
        sub: 'mallory',
        client_id: 'web-app',
        scope: 'read',
        jti: 'x',
        iat: now,
        exp: now + 60,
      },
      oldKey.publicPem,
      {
        algorithm: 'HS256',
        keyid: oldKey.kid,
        header: { alg: 'HS256', typ: 'at+jwt' },
      },
    );
    expect((await rs.get('/me', forged)).status).toBe(401);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: oldKey.kid })).toString('base64url')}.${forged.split('.')[1]}.`;
    expect((await rs.get('/me', none)).status).toBe(401);
  });

  test('an opaque token is refused by a resource server that only verifies JWTs', async () => {
    const rs = await resourceServer();
    const res = await rs.get('/me', (await tokens('/opaque')).access_token);
    expect(res.status).toBe(401);
  });

  test('with jwksUri given, no metadata is fetched and keys come from that URL', async () => {
    const rs = await resourceServer({ jwksUri: `${as.issuer}/oauth/jwks` });
    const before = await hits('/.well-known/oauth-authorization-server');
    const jwksBefore = await hits('/oauth/jwks');
    expect((await rs.get('/me', (await tokens()).access_token)).status).toBe(200);
    expect(await hits('/.well-known/oauth-authorization-server')).toBe(before);
    expect(await hits('/oauth/jwks')).toBe(jwksBefore + 1);
  });

  test('the metadata must name the issuer it was fetched for: a mismatch is 401 and logged (RFC 8414 §3.3)', async () => {
    // Same server, another spelling of its issuer: the document says 127.0.0.1, we asked for localhost.
    const rs = await resourceServer({ issuer: as.issuer.replace('127.0.0.1', 'localhost') });
    const res = await rs.get('/me', (await tokens()).access_token);
    expect(res.status).toBe(401);
    expect(rs.logger.lines.some((l) => l.level === 'error' && causes(l.detail).includes('RFC 8414 §3.3'))).toBe(true);
  });

  test('an unknown kid makes the resource server refetch the JWKS, so a key rotated in while it runs is found; old tokens stay valid until their key is retired', async () => {
    const rs = await resourceServer();
    const oldToken = (await tokens()).access_token;
    const start = await hits('/oauth/jwks');
    expect((await rs.get('/me', oldToken)).status).toBe(200);
    expect(await hits('/oauth/jwks')).toBe(start + 1);
    try {
      // Switch signing to a key the resource server has never seen; the old one stays verify-only.
      await as.rotate([signing(newKey), verifyOnly(oldKey)]);
      const newToken = (await tokens()).access_token;
      expect(JSON.parse(Buffer.from(newToken.split('.')[0] as string, 'base64url').toString()).kid).toBe(newKey.kid);
      expect((await rs.get('/me', newToken)).status).toBe(200);
      expect(await hits('/oauth/jwks')).toBe(start + 2);
      expect((await rs.get('/me', oldToken)).status).toBe(200);

      // Retire the old key: a resource server that learns the keys now no longer accepts its tokens.
      await as.rotate([signing(newKey)]);
      const fresh = await resourceServer();
      const retired = await fresh.get('/me', oldToken);
      expect(retired.status).toBe(401);
      expect(((await retired.json()) as { error: string }).error).toBe('invalid_token');
      expect((await fresh.get('/me', newToken)).status).toBe(200);
    } finally {
      await as.rotate([signing(oldKey)]);
    }
  });

  test('refetches for unknown kids are rate-limited: a flood of made-up kids does not become a flood of JWKS requests', async () => {
    const rs = await resourceServer({ jwks: { requestsPerMinute: 2 } });
    const good = (await tokens()).access_token;
    const start = await hits('/oauth/jwks');
    expect((await rs.get('/me', good)).status).toBe(200);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = nowSeconds();
    for (let i = 0; i < 8; i++) {
      const forged = jwt.sign(
        {
          iss: as.issuer,
          aud: AUDIENCE,
          sub: 'mallory',
          client_id: 'web-app',
          scope: 'read',
          jti: randomUUID(),
          iat: now,
          exp: now + 60,
        },
        privateKey,
        {
          algorithm: 'ES256',
          keyid: `made-up-${i}`,
          header: { alg: 'ES256', typ: 'at+jwt' },
        },
      );
      const res = await rs.get('/me', forged);
      expect(res.status).toBe(401);
    }
    expect(await hits('/oauth/jwks')).toBeLessThanOrEqual(start + 2);
    expect(rs.logger.lines.some((l) => l.level === 'warn' && l.message.includes('rate limit'))).toBe(true);
    // The known key is still cached: real tokens keep working during the flood.
    expect((await rs.get('/me', good)).status).toBe(200);
  });
});

describe('HS256 shared-secret mode', () => {
  test('a resource server with the shared secret verifies tokens without any request to the issuer', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const logger = recordingLogger();
    const oauth = oauthServer(memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS }), {
      issuer: 'http://localhost:1',
      audience: AUDIENCE,
      keys: [{ alg: 'HS256', secret }],
      logger,
    });
    const issuerServer = await listen((req, res) => oauth(req, res, () => ((res.statusCode = 404), res.end())));
    closers.push(issuerServer.close);
    const { body } = await post(`${issuerServer.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read' });
    const rs = await resourceServer({ issuer: 'http://localhost:1', secret });
    const res = await rs.get('/me', body.access_token as string);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { clientId: string }).clientId).toBe('web-app');
    // The wrong secret is just an invalid token.
    const wrong = await resourceServer({
      issuer: 'http://localhost:1',
      secret: 'another-secret-of-at-least-32-bytes!!',
    });
    expect((await wrong.get('/me', body.access_token as string)).status).toBe(401);
  });
});

// ---- introspection mode --------------------------------------------------------------------

const ORDERS_API = { clientId: 'orders-api', clientSecret: 'orders-secret' };
const INTROSPECT = '/opaque/oauth/introspect';

describe('introspection mode', () => {
  test("opaque tokens are checked at the introspection endpoint found in the path issuer's metadata (RFC 7662, RFC 8414 §3.1)", async () => {
    const rs = await resourceServer({ issuer: `${as.issuer}/opaque`, introspection: ORDERS_API });
    const { access_token: token } = await tokens('/opaque', 'read');
    const res = await rs.get('/me', token);
    expect(res.status).toBe(200);
    const auth = (await res.json()) as Record<string, unknown>;
    expect(auth).toMatchObject({
      token,
      sub: 'user-alice',
      clientId: 'web-app',
      scope: ['read'],
      expiresAt: expect.any(Number),
    });
    expect(auth.claims).toMatchObject({
      iss: `${as.issuer}/opaque`,
      aud: AUDIENCE,
      client_id: 'web-app',
      token_type: 'Bearer',
    });
    expect(auth.claims).not.toHaveProperty('active');
    const scope = await rs.get('/write', token);
    expect(scope.status).toBe(403);
    expect(scope.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  test('active answers are cached: repeated requests with one token call the endpoint once', async () => {
    const rs = await resourceServer({ issuer: `${as.issuer}/opaque`, introspection: ORDERS_API });
    const { access_token: token } = await tokens('/opaque');
    const start = await hits(INTROSPECT);
    const answers = await Promise.all([rs.get('/me', token), rs.get('/me', token), rs.get('/me', token)]);
    for (const res of answers) expect(res.status).toBe(200);
    expect((await rs.get('/me', token)).status).toBe(200);
    expect(await hits(INTROSPECT)).toBe(start + 1);
  });

  test('a revocation reaches the resource server within maxStaleness, the documented revocation latency', async () => {
    const rs = await resourceServer({
      issuer: `${as.issuer}/opaque`,
      introspection: { ...ORDERS_API, maxStaleness: 1 },
    });
    const { access_token: token } = await tokens('/opaque');
    expect((await rs.get('/me', token)).status).toBe(200);
    expect((await revokeAt('/opaque', token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const res = await rs.get('/me', token);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
  });

  test('revoking a refresh token kills its family at the resource server too (maxStaleness 0: the next request)', async () => {
    const rs = await resourceServer({
      issuer: `${as.issuer}/opaque`,
      introspection: { ...ORDERS_API, maxStaleness: 0 },
    });
    const grant = await tokens('/opaque');
    expect((await rs.get('/me', grant.access_token)).status).toBe(200);
    await revokeAt('/opaque', grant.refresh_token);
    expect((await rs.get('/me', grant.access_token)).status).toBe(401);
  });

  test('with introspection alone, JWTs are introspected too, so their revocation is seen', async () => {
    const rs = await resourceServer({ introspection: { ...ORDERS_API, maxStaleness: 0 } });
    const { access_token: token } = await tokens();
    const start = await hits('/oauth/introspect');
    expect((await rs.get('/me', token)).status).toBe(200);
    expect(await hits('/oauth/introspect')).toBe(start + 1);
    await revokeAt('', token);
    expect((await rs.get('/me', token)).status).toBe(401);
  });

  test('with jwksUri and introspection, JWTs are verified locally and only opaque tokens are introspected', async () => {
    const rs = await resourceServer({ jwksUri: `${as.issuer}/oauth/jwks`, introspection: ORDERS_API });
    const start = await hits('/oauth/introspect');
    expect((await rs.get('/me', (await tokens()).access_token)).status).toBe(200);
    expect(await hits('/oauth/introspect')).toBe(start);
  });

  test('a refresh token presented as a bearer token is refused (introspection tells the resource server nothing about it)', async () => {
    const rs = await resourceServer({ issuer: `${as.issuer}/opaque`, introspection: ORDERS_API });
    expect((await rs.get('/me', (await tokens('/opaque')).refresh_token)).status).toBe(401);
  });

  test('wrong client credentials: 401 invalid_token for the caller, and the operator is told to check them', async () => {
    const rs = await resourceServer({
      issuer: `${as.issuer}/opaque`,
      introspection: { clientId: 'orders-api', clientSecret: 'wrong' },
    });
    const res = await rs.get('/me', (await tokens('/opaque')).access_token);
    expect(res.status).toBe(401);
    expect(
      rs.logger.lines.some(
        (l) => l.level === 'error' && l.message.includes('check introspection.clientId and clientSecret'),
      ),
    ).toBe(true);
  });
});

// ---- start-up validation -------------------------------------------------------------------

describe('requireToken() validates its options at start-up', () => {
  const base = { issuer: 'https://auth.example.com', audience: AUDIENCE };
  test.each([
    [{ audience: undefined }, /audience is required/],
    [{ issuer: 'http://auth.example.com' }, /issuer must use https/],
    [{ issuer: 'https://auth.example.com?x=1' }, /query or fragment/],
    [{ jwksUri: 'https://auth.example.com/jwks', secret: 'x'.repeat(32) }, /jwksUri or secret, not both/],
    [{ secret: 'short' }, /at least 32 bytes/],
    [{ algorithms: ['HS256'] }, /algorithms must be/],
    [{ introspection: { clientId: 'orders-api' } }, /introspection needs \{ clientId, clientSecret \}/],
    [{ introspection: { ...ORDERS_API, maxStaleness: -1 } }, /maxStaleness must be a number ≥ 0/],
    [{ issuerTimeout: 0 }, /issuerTimeout must be a positive number of seconds/],
  ])('%p is refused with a message saying what to change', (options, message) => {
    expect(() => requireToken({ ...base, ...options } as ResourceServerOptions)).toThrow(message);
  });
});

// ---- the issuer goes down (last: this stops the authorization server process) ----------------

describe('when the issuer is unreachable', () => {
  let warm: Awaited<ReturnType<typeof resourceServer>>;
  let token: string;
  let opaqueToken: string;
  beforeAll(async () => {
    warm = await resourceServer();
    token = (await tokens()).access_token;
    opaqueToken = (await tokens('/opaque')).access_token;
    expect((await warm.get('/me', token)).status).toBe(200);
    await as.stop();
  });

  test('a resource server that already has the key keeps verifying JWTs locally', async () => {
    expect((await warm.get('/me', token)).status).toBe(200);
  });

  test.each([
    ['discovered JWKS', {}],
    ['configured jwksUri', { jwksUri: 'JWKS' }],
  ])('JWT mode (%s) without the key: 401 invalid_token, never 500, and the cause is logged', async (_name, options) => {
    const rs = await resourceServer('jwksUri' in options ? { jwksUri: `${as.issuer}/oauth/jwks` } : {});
    const res = await rs.get('/me', token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
    const logged = rs.logger.lines.find((l) => l.level === 'error');
    expect(logged?.message).toContain('could not fetch the signing keys');
    expect(causes(logged?.detail)).toContain('ECONNREFUSED');
    expect(JSON.stringify(rs.logger.lines.map((l) => l.message))).not.toContain(token);
  });

  test('introspection mode: 401 invalid_token, never 500, and the cause is logged', async () => {
    const rs = await resourceServer({ issuer: `${as.issuer}/opaque`, introspection: ORDERS_API });
    const res = await rs.get('/me', opaqueToken);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_token');
    const logged = rs.logger.lines.find((l) => l.level === 'error');
    expect(logged?.message).toContain('could not reach');
    expect(causes(logged?.detail)).toContain('ECONNREFUSED');
  });
});
