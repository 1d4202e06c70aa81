/**
 * The device flow's counters shared between instances (RFC 8628 §5.1): two servers on one real
 * redis-server, their limiters built by `RateLimiterRedis` (through `bruteForce.createLimiter`,
 * or `deviceAuthorization.createLimiter` of their own), and one Redis device store. Wrong user
 * codes, the overall budget and device authorization requests per address are counted once for
 * both, so two instances do not allow twice the guesses; with Redis down, attempts are refused.
 */
import type { IncomingMessage } from 'node:http';
import Redis from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import request from 'supertest';
import { memoryStores, type OAuthServer, type ServerOptions } from '../../src';
import { redisDeviceStore } from '../../src/redis';
import { describeWithRedis, startRedis, type TestRedis } from '../support/redis-server';
import { buildApp, CLIENTS, USERS } from '../support/spine';

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const ENDPOINT = '/oauth/device_authorization';
const ALICE = { id: 'user-alice' };

/** A request as the verification page's API sees it, from this address. */
const from = (address: string): IncomingMessage =>
  ({ headers: { 'x-test-address': address }, socket: { remoteAddress: address } }) as unknown as IncomingMessage;

describeWithRedis('device flow counters shared by two instances on one Redis (RFC 8628 §5.1)', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  // Every test starts from empty counters (the limiters' key prefixes are fixed).
  beforeEach(async () => {
    await client().flushall();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });

  function client(): Redis {
    const c = new Redis(redis.url, { retryStrategy: () => 100, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  /** One instance: its own Redis connection, the shared device store and counters. */
  function instance(
    device: Partial<NonNullable<ServerOptions['deviceAuthorization']>>,
    server: Partial<ServerOptions> = {},
  ): { app: Parameters<typeof request>[0]; oauth: OAuthServer } {
    const storeClient = client();
    const stores = {
      ...memoryStores({
        clients: [...CLIENTS, { id: 'tv', grants: [DEVICE], scopes: ['read'] }],
        users: USERS,
      }),
      devices: redisDeviceStore({ client: storeClient }),
    };
    return buildApp(
      'express5',
      {
        deviceAuthorization: { verificationUri: '/device', ...device },
        bruteForce: {
          createLimiter: (config) => new RateLimiterRedis({ storeClient, ...config }),
          remoteAddress: (req) => String(req.headers['x-test-address']),
        },
        ...server,
      },
      stores,
    );
  }
  const userCode = async (app: Parameters<typeof request>[0], address = '10.50.0.1'): Promise<string> =>
    (await request(app).post(ENDPOINT).set('X-Test-Address', address).type('form').send({ client_id: 'tv' })).body
      .user_code as string;

  test('wrong codes counted at A refuse the address at B, and the other way round; other addresses are not affected', async () => {
    const a = instance({ attempts: { perAddress: 3 } });
    const b = instance({ attempts: { perAddress: 3 } });
    const code = await userCode(a.app);
    expect(await a.oauth.device!.lookup(from('10.1.0.1'), 'BBBB-BBBB')).toBeUndefined();
    expect(await b.oauth.device!.lookup(from('10.1.0.1'), 'BBBB-BBBC')).toBeUndefined();
    expect(await a.oauth.device!.lookup(from('10.1.0.1'), 'BBBB-BBBD')).toBeUndefined();
    // Three in all: refused at both, even with the right code.
    for (const { oauth } of [a, b])
      await expect(oauth.device!.lookup(from('10.1.0.1'), code)).rejects.toMatchObject({
        status: 429,
        error: 'temporarily_unavailable',
      });
    // A right code hands its attempt back: an address that looks up its own code many times is never refused.
    for (let i = 0; i < 5; i++)
      expect(await (i % 2 ? a : b).oauth.device!.lookup(from('10.1.0.2'), code)).toMatchObject({
        client: { id: 'tv' },
      });
    expect(await b.oauth.device!.approve(from('10.1.0.2'), code, ALICE)).toBe(true);
  });

  test('the overall budget is shared: failures spread over both instances refuse every address that failed, never one that did not', async () => {
    const a = instance({ attempts: { perAddress: 10, overall: 4 } });
    const b = instance({ attempts: { perAddress: 10, overall: 4 } });
    const code = await userCode(b.app);
    for (const [server, address] of [
      [a, '10.2.0.1'],
      [b, '10.2.0.2'],
      [a, '10.2.0.3'],
      [b, '10.2.0.4'],
    ] as const)
      expect(await server.oauth.device!.lookup(from(address), 'CCCC-CCCC')).toBeUndefined();
    await expect(b.oauth.device!.lookup(from('10.2.0.1'), code)).rejects.toMatchObject({ status: 429 });
    await expect(a.oauth.device!.lookup(from('10.2.0.4'), code)).rejects.toMatchObject({ status: 429 });
    expect(await a.oauth.device!.lookup(from('10.2.0.9'), code)).toMatchObject({ client: { id: 'tv' } });
  });

  test('device authorization requests per address are counted once for both instances', async () => {
    const a = instance({ requestsPerAddress: 2 });
    const b = instance({ requestsPerAddress: 2 });
    const start = (app: Parameters<typeof request>[0], address: string) =>
      request(app).post(ENDPOINT).set('X-Test-Address', address).type('form').send({ client_id: 'tv' });
    expect((await start(a.app, '10.3.0.1')).status).toBe(200);
    expect((await start(b.app, '10.3.0.1')).status).toBe(200);
    const refused = await start(a.app, '10.3.0.1');
    expect({ status: refused.status, error: refused.body.error }).toEqual({
      status: 429,
      error: 'temporarily_unavailable',
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await start(b.app, '10.3.0.2')).status).toBe(200);
  });

  test('deviceAuthorization.createLimiter shares the counters on its own, with the brute-force limits off', async () => {
    const own = () => {
      const storeClient = client();
      return instance(
        {
          attempts: { perAddress: 2 },
          createLimiter: (config) => new RateLimiterRedis({ storeClient, ...config }),
        },
        { bruteForce: false },
      );
    };
    const a = own();
    const b = own();
    expect(await a.oauth.device!.lookup(from('10.4.0.1'), 'DDDD-DDDD')).toBeUndefined();
    expect(await b.oauth.device!.lookup(from('10.4.0.1'), 'DDDD-DDDF')).toBeUndefined();
    await expect(a.oauth.device!.lookup(from('10.4.0.1'), 'DDDD-DDDG')).rejects.toMatchObject({ status: 429 });
  });

  test('with Redis down, the verification page is refused with 503 (fail closed), never let through uncounted', async () => {
    // Its own redis-server, killed for good (the client does not try to reconnect).
    const own = await startRedis();
    const storeClient = new Redis(own.url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
    storeClient.on('error', () => undefined);
    try {
      const { oauth } = buildApp(
        'express5',
        {
          deviceAuthorization: {
            verificationUri: '/device',
            createLimiter: (config) => new RateLimiterRedis({ storeClient, ...config }),
          },
        },
        memoryStores({ clients: [{ id: 'tv', grants: [DEVICE], scopes: ['read'] }], users: USERS }),
      );
      expect(await oauth.device!.lookup(from('10.5.0.1'), 'FFFF-FFFF')).toBeUndefined();
      await own.kill();
      await expect(oauth.device!.lookup(from('10.5.0.1'), 'FFFF-FFFG')).rejects.toMatchObject({
        status: 503,
        error: 'temporarily_unavailable',
      });
    } finally {
      // Its connection is already closed: ioredis would hold a 2 s timer for a close that already happened.
      if (storeClient.status !== 'end') storeClient.disconnect();
      await own.stop();
    }
  });
});
