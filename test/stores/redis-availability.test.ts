/**
 * oauthServer on redisTokenStore, under Express 4, Express 5 and Connect: the whole flow on
 * Redis, and what clients see when Redis goes away: 503 `temporarily_unavailable` JSON (never
 * a hang, a crash or an internal message), requireToken's failure policy (reject by default,
 * `cache.staleIfUnavailable` to keep serving cached tokens for a bounded time), and recovery.
 */
import { generateKeyPairSync } from 'node:crypto';
import Redis from 'ioredis';
import request from 'supertest';
import { memoryStores, type KeyInput } from '../../src';
import { redisTokenStore, type RedisTokenStore } from '../../src/redis';
import { describeWithRedis, startRedis, waitFor, type TestRedis } from '../support/redis-server';
import { nowSeconds } from '../support/seconds';
import { basic, buildApp, CLIENTS, FRAMEWORKS, USERS, type TestApp } from '../support/spine';

const TOKEN = '/oauth/token';
const KEYS: KeyInput[] = [
  { kid: 'k1', alg: 'ES256', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
];

describeWithRedis('oauthServer on Redis: availability', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const stores: RedisTokenStore[] = [];

  function redisStore(options: { subscriber?: Redis } = {}): RedisTokenStore {
    const client = new Redis(redis.url, { retryStrategy: (times) => Math.min(50 * times, 300) });
    client.on('error', () => undefined);
    clients.push(client);
    const tokens = redisTokenStore({ client, logger: { warn: () => undefined, error: () => undefined }, ...options });
    stores.push(tokens);
    return tokens;
  }

  function app(
    framework: (typeof FRAMEWORKS)[number],
    options: Parameters<typeof buildApp>[1] = {},
    tokens = redisStore(),
  ): TestApp {
    const { clients: c, users } = memoryStores({ clients: CLIENTS, users: USERS });
    return buildApp(framework, { keys: KEYS, ...options }, { clients: c, users, tokens });
  }

  async function password(target: TestApp['app']): Promise<request.Response> {
    return request(target)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read' });
  }

  async function live(tokens: RedisTokenStore): Promise<void> {
    let restored = false;
    tokens.onRevoke((e) => (restored ||= e.reset === 'restored'));
    await waitFor('the revocation channel', async () => restored, 10_000);
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await Promise.all(
      clients.map((c) =>
        c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.status !== 'end' && c.disconnect(),
      ),
    );
    await redis?.stop();
  });

  describe.each(FRAMEWORKS)('under %s', (framework) => {
    test('password grant, requireToken, refresh rotation and revocation (RFC 7009) all run on Redis', async () => {
      const tokens = redisStore();
      const { app: a } = app(framework, {}, tokens);
      await live(tokens);
      const issued = await password(a);
      expect(issued.status).toBe(200);
      const bearer = `Bearer ${issued.body.access_token}`;
      expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(200);
      const refreshed = await request(a)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
      expect(refreshed.status).toBe(200);
      const replay = await request(a)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
      expect(replay.body.error).toBe('invalid_grant');
      // The replay revoked the family: the cached access token is refused at once.
      expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(401);

      const again = await password(a);
      const fresh = `Bearer ${again.body.access_token}`;
      expect((await request(a).get('/api/me').set('Authorization', fresh)).status).toBe(200);
      const revoked = await request(a)
        .post('/oauth/revoke')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ token: again.body.refresh_token });
      expect(revoked.status).toBe(200);
      expect((await request(a).get('/api/me').set('Authorization', fresh)).status).toBe(401);
    });

    test('Redis down: token requests get 503 temporarily_unavailable JSON quickly, cached tokens are refused (default policy), all recovers', async () => {
      const tokens = redisStore();
      const { app: a, logger } = app(framework, {}, tokens);
      await live(tokens);
      const issued = await password(a);
      const bearer = `Bearer ${issued.body.access_token}`;
      expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(200); // cached now

      await redis.kill();
      try {
        const started = Date.now();
        const token = await password(a);
        const refresh = await request(a)
          .post(TOKEN)
          .set('Authorization', basic('web-app', 'web-secret'))
          .type('form')
          .send({ grant_type: 'refresh_token', refresh_token: issued.body.refresh_token });
        const elapsed = Date.now() - started;
        for (const res of [token, refresh]) {
          expect(res.status).toBe(503);
          expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
          expect(res.body.error_description).not.toMatch(/redis|ECONN|connection/i);
          expect(res.headers['cache-control']).toBe('no-store');
          expect(res.headers['retry-after']).toBe('1');
        }
        expect(elapsed).toBeLessThan(2000);
        // The channel is down, so the cache is dropped and the check goes to Redis: 503.
        await waitFor(
          'the cache to be dropped',
          async () => (await request(a).get('/api/me').set('Authorization', bearer)).status === 503,
        );
        const guarded = await request(a).get('/api/me').set('Authorization', bearer);
        expect(guarded.body.error).toBe('temporarily_unavailable');
        expect(logger.lines.some((l) => l.level === 'error' && l.detail instanceof Error)).toBe(true);
      } finally {
        // Bring Redis back whatever happened above, so the next tests find it running.
        await redis.restart();
      }
      // Redis came back empty: the JWT is still valid (not revoked), new grants work.
      await waitFor(
        '/api/me to answer 200',
        async () => (await request(a).get('/api/me').set('Authorization', bearer)).status === 200,
        10_000,
      );
      await waitFor('the token endpoint to answer 200', async () => (await password(a)).status === 200, 10_000);
    });

    test('cache.staleIfUnavailable: cached tokens keep being served for that long after the channel is lost, then 503', async () => {
      const tokens = redisStore();
      const { app: a } = app(framework, { cache: { staleIfUnavailable: 1 } }, tokens);
      await live(tokens);
      const issued = await password(a);
      const bearer = `Bearer ${issued.body.access_token}`;
      expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(200);
      await redis.kill();
      try {
        const lostAt = Date.now();
        expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(200);
        const refusedAfter = await waitFor(
          'the grace period to end',
          async () => (await request(a).get('/api/me').set('Authorization', bearer)).status === 503,
          5000,
        );
        expect(Date.now() - lostAt).toBeGreaterThanOrEqual(500); // 1 s after the loss, which came just before lostAt
        expect(refusedAfter).toBeLessThan(3000);
        // A token never seen before is not served from anywhere: 503.
        const other = await password(a).catch(() => undefined);
        expect(other?.status).toBe(503);
      } finally {
        await redis.restart();
      }
      await waitFor(
        'recovery',
        async () => (await request(a).get('/api/me').set('Authorization', bearer)).status === 200,
        10_000,
      );
    });
  });

  test('cache.staleIfUnavailable must be a whole number of seconds', () => {
    expect(() => app('express5', { cache: { staleIfUnavailable: -1 } })).toThrow(
      /cache.staleIfUnavailable must be a positive whole number/,
    );
    expect(() => app('express5', { cache: { staleIfUnavailable: 1.5 } })).toThrow(/cache.staleIfUnavailable/);
    expect(() => app('express5', { cache: { staleIfUnavailable: 0 } })).not.toThrow();
  });

  test('while the revocation channel is lost nothing is cached, so a revocation made elsewhere is seen on the next request', async () => {
    const subscriber = new Redis(redis.url, { retryStrategy: () => null });
    subscriber.on('error', () => undefined);
    clients.push(subscriber);
    const tokens = redisStore({ subscriber });
    const { app: a } = app('express5', {}, tokens);
    const other = redisStore();
    await live(tokens);
    const issued = await password(a);
    const bearer = `Bearer ${issued.body.access_token}`;
    subscriber.disconnect(); // no reconnect: the channel stays lost
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(200);
    const fid = JSON.parse(Buffer.from(issued.body.access_token.split('.')[1], 'base64url').toString()).fid as string;
    await other.revoke({ familyId: fid, until: nowSeconds() + 3600 });
    expect((await request(a).get('/api/me').set('Authorization', bearer)).status).toBe(401);
  });
});
