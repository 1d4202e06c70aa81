/**
 * Brute-force limits at the token endpoint (issue 8): failures per client id, per username
 * (password grant) and per remote address; 429 + Retry-After + an OAuth JSON error past the
 * limit; a success never resets a counter; how the address is found under Express
 * (`trust proxy`) and Connect; limits shared between instances through Redis.
 */
import type http from 'node:http';
import Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import request from 'supertest';
import {
  BRUTE_FORCE_DEFAULTS,
  memoryStores,
  oauthServer,
  type BruteForceOptions,
  type LimiterConfig,
  type UserStore,
} from '../../src';
import { addressKey } from '../../src/limits/remote-address';
import {
  closeAgent,
  expectOAuthError,
  expectTooMany,
  form,
  send,
  TWO_USERS,
  twoUserStores,
} from '../support/hardening';
import { describeWithRedis, startRedis, type TestRedis } from '../support/redis-server';
import {
  basic,
  buildApp,
  CLIENTS,
  FRAMEWORKS,
  ISSUER,
  listen,
  recordingLogger,
  type Framework,
} from '../support/spine';

const TOKEN = '/oauth/token';
type App = http.RequestListener;

afterAll(closeAgent);

function clientCredentials(app: App, id: string, secret: string, headers: Record<string, string> = {}): request.Test {
  const req = request(app)
    .post(TOKEN)
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  return req;
}

function passwordLogin(
  app: App,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): request.Test {
  const req = request(app)
    .post(TOKEN)
    .set('Authorization', basic('web-app', 'web-secret'))
    .type('form')
    .send({ grant_type: 'password', username, password });
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  return req;
}

function only(limits: BruteForceOptions): BruteForceOptions {
  return { username: false, clientId: false, address: false, ...limits };
}

describe.each(FRAMEWORKS)('brute-force limits under %s', (framework) => {
  test('past the per-client limit even the right secret gets 429 with Retry-After and an OAuth JSON error', async () => {
    const { app } = buildApp(framework, { bruteForce: only({ clientId: { points: 3, duration: 60 } }) });
    for (let i = 0; i < 3; i++)
      expectOAuthError(await clientCredentials(app, 'web-app', 'wrong-secret'), 401, 'invalid_client');
    const refused = await clientCredentials(app, 'web-app', 'web-secret');
    expectTooMany(refused, 60);
    expect(refused.body.error_description).not.toMatch(/secret|password/i);
    // Another client is not affected.
    expect((await clientCredentials(app, 'reader', 'reader-secret')).status).toBe(200);
  });

  test('an unknown client id is limited exactly like a known one (no enumeration through the limit)', async () => {
    const { app } = buildApp(framework, { bruteForce: only({ clientId: { points: 2 } }) });
    for (let i = 0; i < 2; i++)
      expectOAuthError(await clientCredentials(app, 'no-such-client', 'guess'), 401, 'invalid_client');
    expectTooMany(await clientCredentials(app, 'no-such-client', 'guess'));
  });

  test('HTTP Basic and body credentials count against the same client id', async () => {
    const { app } = buildApp(framework, { bruteForce: only({ clientId: { points: 2 } }) });
    expectOAuthError(
      await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'nope'))
        .type('form')
        .send({ grant_type: 'client_credentials' }),
      401,
      'invalid_client',
    );
    expectOAuthError(await clientCredentials(app, 'web-app', 'nope'), 401, 'invalid_client');
    expectTooMany(
      await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials' }),
    );
  });

  test('past the per-username limit even the right password gets 429; other users can still sign in', async () => {
    const { app } = buildApp(framework, { bruteForce: only({ username: { points: 3 } }) }, twoUserStores());
    for (let i = 0; i < 3; i++)
      expectOAuthError(await passwordLogin(app, 'alice@example.com', 'guess-' + i), 400, 'invalid_grant');
    expectTooMany(await passwordLogin(app, 'alice@example.com', 'wonderland'));
    // Case and Unicode variants of the username share the counter.
    expectTooMany(await passwordLogin(app, 'ALICE@example.com', 'wonderland'));
    expect((await passwordLogin(app, 'bob@example.com', 'builder-bob-7')).status).toBe(200);
  });

  test("a success does not reset someone else's counter: bob signing in leaves alice's failures counted", async () => {
    const { app } = buildApp(
      framework,
      { bruteForce: only({ username: { points: 3 }, address: { points: 5 } }) },
      twoUserStores(),
    );
    for (let i = 0; i < 2; i++)
      expectOAuthError(await passwordLogin(app, 'alice@example.com', 'guess'), 400, 'invalid_grant');
    expect((await passwordLogin(app, 'bob@example.com', 'builder-bob-7')).status).toBe(200);
    expectOAuthError(await passwordLogin(app, 'alice@example.com', 'guess'), 400, 'invalid_grant');
    expectTooMany(await passwordLogin(app, 'alice@example.com', 'wonderland'));
    // Nor the address's: 3 failures so far, bob's success did not clear them; 2 more use it up.
    for (let i = 0; i < 2; i++)
      expectOAuthError(await passwordLogin(app, 'bob@example.com', 'guess'), 400, 'invalid_grant');
    expectTooMany(await passwordLogin(app, 'bob@example.com', 'builder-bob-7'));
  });

  test('nor does a success reset its own counter: failures only age out with the window', async () => {
    const { app } = buildApp(framework, { bruteForce: only({ username: { points: 3 } }) }, twoUserStores());
    for (let i = 0; i < 2; i++)
      expectOAuthError(await passwordLogin(app, 'alice@example.com', 'guess'), 400, 'invalid_grant');
    expect((await passwordLogin(app, 'alice@example.com', 'wonderland')).status).toBe(200);
    expectOAuthError(await passwordLogin(app, 'alice@example.com', 'guess'), 400, 'invalid_grant');
    expectTooMany(await passwordLogin(app, 'alice@example.com', 'wonderland'));
  });

  test("a client's successes do not reset another client's counter", async () => {
    const { app } = buildApp(framework, { bruteForce: only({ clientId: { points: 2 } }) });
    expectOAuthError(await clientCredentials(app, 'web-app', 'wrong'), 401, 'invalid_client');
    expect((await clientCredentials(app, 'reader', 'reader-secret')).status).toBe(200);
    expect((await clientCredentials(app, 'web-app', 'web-secret')).status).toBe(200);
    expectOAuthError(await clientCredentials(app, 'web-app', 'wrong'), 401, 'invalid_client');
    expectTooMany(await clientCredentials(app, 'web-app', 'web-secret'));
  });

  test('the per-address limit counts failures across clients and usernames', async () => {
    const { app } = buildApp(framework, { bruteForce: only({ address: { points: 4 } }) }, twoUserStores());
    expectOAuthError(await clientCredentials(app, 'web-app', 'x1'), 401, 'invalid_client');
    expectOAuthError(await clientCredentials(app, 'reader', 'x2'), 401, 'invalid_client');
    expectOAuthError(await passwordLogin(app, 'alice@example.com', 'x3'), 400, 'invalid_grant');
    expectOAuthError(await passwordLogin(app, 'bob@example.com', 'x4'), 400, 'invalid_grant');
    expectTooMany(await clientCredentials(app, 'odd-app', 'whatever'));
    expectTooMany(await passwordLogin(app, 'bob@example.com', 'builder-bob-7'));
  });

  test('errors that are not failed credentials (bad grant type, malformed body, bad scope) are not counted', async () => {
    const { app } = buildApp(framework, {
      bruteForce: only({ address: { points: 1 }, clientId: { points: 1 }, username: { points: 1 } }),
    });
    for (let i = 0; i < 3; i++) {
      expectOAuthError(
        await request(app).post(TOKEN).type('form').send({ grant_type: 'magic' }),
        400,
        'unsupported_grant_type',
      );
      expectOAuthError(
        await request(app).post(TOKEN).type('form').send('grant_type=password&grant_type=password'),
        400,
        'invalid_request',
      );
      expectOAuthError(
        await request(app)
          .post(TOKEN)
          .set('Authorization', basic('web-app', 'web-secret'))
          .type('form')
          .send({ grant_type: 'client_credentials', scope: 'admin' }),
        400,
        'invalid_scope',
      );
      expectOAuthError(
        await request(app)
          .post(TOKEN)
          .set('Authorization', basic('web-app', 'web-secret'))
          .type('form')
          .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'admin' }),
        400,
        'invalid_scope',
      );
    }
    expect((await passwordLogin(app, 'alice@example.com', 'wonderland')).status).toBe(200);
  });
});

describe('brute-force limits: behaviour that does not depend on the framework', () => {
  test('the username limit holds under concurrency: of 20 concurrent guesses exactly 5 are checked, 15 refused', async () => {
    let checks = 0;
    const base = twoUserStores();
    const users: UserStore = {
      authenticate: (username, password) => {
        checks++;
        return (base.users as UserStore).authenticate(username, password);
      },
    };
    const { app } = buildApp('express5', { bruteForce: only({ username: { points: 5 } }) }, { ...base, users });
    const server = await listen(app);
    try {
      const body = form(
        { grant_type: 'password', username: 'alice@example.com', password: 'guess' },
        { Authorization: basic('web-app', 'web-secret') },
      );
      const results = await Promise.all(Array.from({ length: 20 }, () => send(server.url, TOKEN, body)));
      expect(results.filter((r) => r.status === 400)).toHaveLength(5);
      const refused = results.filter((r) => r.status === 429);
      expect(refused).toHaveLength(15);
      for (const r of refused) expectTooMany(r);
      // A refused attempt costs no password hash.
      expect(checks).toBe(5);
    } finally {
      await server.close();
    }
  });

  test('a refusal ends when the block does: Retry-After is honest', async () => {
    const { app } = buildApp('express5', {
      bruteForce: only({ clientId: { points: 1, duration: 1, blockDuration: 1 } }),
    });
    expectOAuthError(await clientCredentials(app, 'web-app', 'wrong'), 401, 'invalid_client');
    const refused = await clientCredentials(app, 'web-app', 'web-secret');
    expectTooMany(refused, 1);
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers['retry-after']) * 1000 + 150));
    expect((await clientCredentials(app, 'web-app', 'web-secret')).status).toBe(200);
  });

  test('blockDuration keeps a key refused for longer than its window', async () => {
    const { app } = buildApp('express5', {
      bruteForce: only({ clientId: { points: 1, duration: 1, blockDuration: 5 } }),
    });
    expectOAuthError(await clientCredentials(app, 'web-app', 'wrong'), 401, 'invalid_client');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const refused = await clientCredentials(app, 'web-app', 'web-secret');
    expectTooMany(refused, 5);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(3);
  });

  test('the defaults: 30 failed client authentications per client id, then 429', async () => {
    expect(BRUTE_FORCE_DEFAULTS).toEqual({
      username: { points: 10, duration: 900, blockDuration: 900 },
      clientId: { points: 30, duration: 900, blockDuration: 900 },
      address: { points: 100, duration: 900, blockDuration: 900 },
    });
    const { app } = buildApp('express5');
    for (let i = 0; i < 30; i++) expect((await clientCredentials(app, 'web-app', 'wrong')).status).toBe(401);
    expectTooMany(await clientCredentials(app, 'web-app', 'web-secret'));
  });

  test('the defaults: 10 failed logins per username, then 429', async () => {
    const { app } = buildApp('express5', {}, twoUserStores());
    for (let i = 0; i < 10; i++) expect((await passwordLogin(app, 'bob@example.com', 'wrong')).status).toBe(400);
    expectTooMany(await passwordLogin(app, 'bob@example.com', 'builder-bob-7'));
    expect((await passwordLogin(app, 'alice@example.com', 'wonderland')).status).toBe(200);
  });

  test('the defaults: 100 failures per address, then 429 for every client and user', async () => {
    const { app } = buildApp('express5');
    // 25 per client id keeps each client under its own limit of 30.
    for (const id of ['web-app', 'reader', 'odd-app', 'no-refresh']) {
      for (let i = 0; i < 25; i++) expect((await clientCredentials(app, id, 'wrong')).status).toBe(401);
    }
    expectTooMany(await clientCredentials(app, 'spa', 'x'));
  });

  test('bruteForce: false turns every limit off', async () => {
    const { app } = buildApp('express5', { bruteForce: false });
    for (let i = 0; i < 40; i++) expect((await clientCredentials(app, 'web-app', 'wrong')).status).toBe(401);
    expect((await clientCredentials(app, 'web-app', 'web-secret')).status).toBe(200);
  });

  test('a limiter instance of your own is used as given; createLimiter builds the rest', async () => {
    const configs: LimiterConfig[] = [];
    const clientLimiter = new RateLimiterMemory({ points: 2, duration: 60 });
    const { app } = buildApp('express5', {
      bruteForce: {
        clientId: clientLimiter,
        createLimiter: (config) => {
          configs.push(config);
          return new RateLimiterMemory(config);
        },
      },
    });
    expect(configs.map((c) => c.keyPrefix).sort()).toEqual([
      'tokengate:address',
      'tokengate:username',
      'tokengate:username-failures',
    ]);
    expect(configs.find((c) => c.keyPrefix === 'tokengate:username')).toMatchObject({ points: 10, duration: 900 });
    for (let i = 0; i < 2; i++) expect((await clientCredentials(app, 'web-app', 'wrong')).status).toBe(401);
    expectTooMany(await clientCredentials(app, 'web-app', 'web-secret'));
  });

  test('resetLimits() forgets the failures of a username, client id or address', async () => {
    const { app, oauth } = buildApp('express5', {
      bruteForce: only({ username: { points: 1 }, clientId: { points: 1 } }),
    });
    expect((await passwordLogin(app, 'alice@example.com', 'wrong')).status).toBe(400);
    expect((await clientCredentials(app, 'reader', 'wrong')).status).toBe(401);
    expectTooMany(await passwordLogin(app, 'alice@example.com', 'wonderland'));
    expectTooMany(await clientCredentials(app, 'reader', 'reader-secret'));
    // Per (identifier, address) since #11: the address the failures came from is named too.
    await oauth.resetLimits({ username: 'Alice@Example.com', clientId: 'reader', address: '127.0.0.1' });
    expect((await passwordLogin(app, 'alice@example.com', 'wonderland')).status).toBe(200);
    expect((await clientCredentials(app, 'reader', 'reader-secret')).status).toBe(200);
  });

  test('a limiter whose store fails refuses the attempt with 503 temporarily_unavailable; the cause is logged, not sent', async () => {
    const broken = new RateLimiterMemory({ points: 5, duration: 60 });
    const failure = new Error('ECONNREFUSED 10.1.2.3:6379 (limiter store)');
    broken.get = () => Promise.reject(failure);
    broken.consume = () => Promise.reject(failure);
    const { app, logger } = buildApp('express5', { bruteForce: only({ clientId: broken }) });
    const res = await clientCredentials(app, 'web-app', 'web-secret');
    expectOAuthError(res, 503, 'temporarily_unavailable');
    expect(res.text).not.toContain('ECONNREFUSED');
    expect(logger.lines.some((l) => l.level === 'error' && l.detail === failure)).toBe(true);
  });

  test('client authentication at the revocation and introspection endpoints is limited too, on the same counters', async () => {
    const { app } = buildApp('express5', { bruteForce: only({ clientId: { points: 2 } }) });
    const revoke = await request(app)
      .post('/oauth/revoke')
      .set('Authorization', basic('web-app', 'wrong'))
      .type('form')
      .send({ token: 'abc' });
    expectOAuthError(revoke, 401, 'invalid_client');
    const introspect = await request(app)
      .post('/oauth/introspect')
      .set('Authorization', basic('web-app', 'wrong'))
      .type('form')
      .send({ token: 'abc' });
    expectOAuthError(introspect, 401, 'invalid_client');
    expectTooMany(
      await request(app)
        .post('/oauth/revoke')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ token: 'abc' }),
    );
    expectTooMany(await clientCredentials(app, 'web-app', 'web-secret'));
  });

  test('options are validated at start-up with messages that say what to change', () => {
    const stores = memoryStores({ clients: CLIENTS, users: TWO_USERS });
    const make = (bruteForce: unknown) => () =>
      oauthServer(stores, { issuer: ISSUER, logger: recordingLogger(), bruteForce: bruteForce as BruteForceOptions });
    expect(make('strict')).toThrow(/options\.bruteForce must be an object/);
    expect(make({ username: { points: 0 } })).toThrow(
      /options\.bruteForce\.username\.points must be a positive whole number \(got 0\)/,
    );
    expect(make({ clientId: { duration: 1.5 } })).toThrow(/options\.bruteForce\.clientId\.duration/);
    expect(make({ address: { blockDuration: -1 } })).toThrow(
      /options\.bruteForce\.address\.blockDuration must be a whole number, 0 or more/,
    );
    expect(make({ address: 'off' })).toThrow(
      /options\.bruteForce\.address must be \{ points\?, duration\?, blockDuration\? \}, a rate-limiter-flexible limiter, or false/,
    );
    expect(make({ createLimiter: () => ({}) })).toThrow(/createLimiter must return a rate-limiter-flexible limiter/);
    expect(make({ remoteAddress: 'x-forwarded-for' })).toThrow(/remoteAddress must be a function/);
    expect(make({ username: { points: 3, duration: 60, blockDuration: 0 } })).not.toThrow();
  });
});

describe('which address counts (trust proxy)', () => {
  const XFF = 'X-Forwarded-For';

  test.each(['express4', 'express5'] as Framework[])(
    "%s with 'trust proxy': the client address from X-Forwarded-For is limited, other clients behind the proxy are not",
    async (framework) => {
      const { app } = buildApp(framework, { bruteForce: only({ address: { points: 2 } }) }, undefined, (a) =>
        (a as unknown as { set: (k: string, v: unknown) => void }).set('trust proxy', 'loopback'),
      );
      for (let i = 0; i < 2; i++)
        expect((await clientCredentials(app, 'web-app', 'wrong', { [XFF]: '203.0.113.7' })).status).toBe(401);
      expectTooMany(await clientCredentials(app, 'web-app', 'web-secret', { [XFF]: '203.0.113.7' }));
      expect((await clientCredentials(app, 'web-app', 'web-secret', { [XFF]: '198.51.100.9' })).status).toBe(200);
    },
  );

  test.each(['express4', 'express5'] as Framework[])(
    '%s without trust proxy: a forged X-Forwarded-For does not escape the limit',
    async (framework) => {
      const { app } = buildApp(framework, { bruteForce: only({ address: { points: 2 } }) });
      for (let i = 0; i < 2; i++)
        expect((await clientCredentials(app, 'web-app', 'wrong', { [XFF]: `203.0.113.${i}` })).status).toBe(401);
      expectTooMany(await clientCredentials(app, 'web-app', 'web-secret', { [XFF]: '198.51.100.99' }));
    },
  );

  test('connect: the socket address counts and X-Forwarded-For is ignored by default', async () => {
    const { app } = buildApp('connect', { bruteForce: only({ address: { points: 2 } }) });
    for (let i = 0; i < 2; i++)
      expect((await clientCredentials(app, 'web-app', 'wrong', { [XFF]: `203.0.113.${i}` })).status).toBe(401);
    expectTooMany(await clientCredentials(app, 'web-app', 'web-secret', { [XFF]: '198.51.100.99' }));
  });

  test('connect behind a proxy: remoteAddress decides which address counts', async () => {
    // What proxy-addr does for a proxy on loopback: trust the header only from that hop.
    const remoteAddress = (req: http.IncomingMessage): string | undefined => {
      const peer = req.socket.remoteAddress;
      const forwarded = req.headers['x-forwarded-for'];
      const trusted = peer === '127.0.0.1' || peer === '::1' || peer === '::ffff:127.0.0.1';
      return trusted && typeof forwarded === 'string' ? (forwarded.split(',').pop() as string).trim() : peer;
    };
    const { app } = buildApp('connect', { bruteForce: only({ address: { points: 2 }, remoteAddress }) });
    for (let i = 0; i < 2; i++)
      expect((await clientCredentials(app, 'web-app', 'wrong', { [XFF]: '203.0.113.7' })).status).toBe(401);
    expectTooMany(await clientCredentials(app, 'web-app', 'web-secret', { [XFF]: '203.0.113.7' }));
    expect((await clientCredentials(app, 'web-app', 'web-secret', { [XFF]: '198.51.100.9' })).status).toBe(200);
  });

  test('address keys: IPv4-mapped IPv6 is its IPv4 address; other IPv6 addresses count per /64', () => {
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:0000:0000:0000:0009')).toBe('2001:db8:1:2::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
    expect(addressKey('x'.repeat(500))).toHaveLength(100);
  });
});

describeWithRedis('brute-force limits shared between instances (RateLimiterRedis)', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });

  function instance(): App {
    const storeClient = new Redis(redis.port, '127.0.0.1', { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    clients.push(storeClient);
    return buildApp('express5', {
      bruteForce: {
        username: { points: 3 },
        clientId: { points: 3 },
        createLimiter: (config) => new RateLimiterRedis({ storeClient, ...config }),
      },
    }).app;
  }

  test('failures counted on one instance refuse the same username and client on another', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < 3; i++)
      expect((await passwordLogin(i % 2 ? a : b, 'alice@example.com', 'guess')).status).toBe(400);
    expectTooMany(await passwordLogin(a, 'alice@example.com', 'wonderland'));
    expectTooMany(await passwordLogin(b, 'alice@example.com', 'wonderland'));
    for (let i = 0; i < 3; i++) expect((await clientCredentials(a, 'reader', 'wrong')).status).toBe(401);
    expectTooMany(await clientCredentials(b, 'reader', 'reader-secret'));
    expect((await clientCredentials(b, 'web-app', 'web-secret')).status).toBe(200);
  });
});

describe('the block survives concurrent attempts at the limit', () => {
  test('a guess refused concurrently with the last allowed one does not cancel the block', async () => {
    const { app } = buildApp('express5', {
      bruteForce: only({ username: { points: 3, duration: 2, blockDuration: 60 } }),
    });
    for (let i = 0; i < 2; i++)
      expectOAuthError(await passwordLogin(app, 'alice@example.com', 'wrong'), 400, 'invalid_grant');
    // The 3rd (allowed, wrong) and a 4th (refused) at once: the counter passes the limit.
    await Promise.all([
      passwordLogin(app, 'alice@example.com', 'wrong'),
      passwordLogin(app, 'alice@example.com', 'wrong'),
    ]);
    await new Promise((r) => setTimeout(r, 2500)); // past the counting window, inside the block
    expectTooMany(await passwordLogin(app, 'alice@example.com', 'wonderland'));
  });
});
