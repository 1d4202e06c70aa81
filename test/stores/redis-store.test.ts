/**
 * redisTokenStore against a real redis-server: the TokenStore contract, atomicity across
 * clients, TTLs and hashed keys, revocation fan-out between store instances, the reset events
 * when the subscription drops, and bounded failure when Redis is down or frozen.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { hashToken } from '../../src/core/crypto';
import { TemporarilyUnavailable } from '../../src/core/errors';
import { redisTokenStore, type RedisTokenStore } from '../../src/redis';
import type { RevocationEvent, TokenRecord } from '../../src/stores/types';
import { recordMeasurement } from '../support/measurements';
import { describeWithRedis, startRedis, waitFor, type TestRedis } from '../support/redis-server';
import { nowSeconds as now } from '../support/seconds';
import { recordingLogger } from '../support/spine';

const fastRetry = { retryStrategy: (times: number) => Math.min(50 * times, 300), maxRetriesPerRequest: 1 };

function record(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    kind: 'refresh_token',
    id: hashToken(randomBytes(32).toString('base64url')),
    familyId: randomBytes(16).toString('base64url'),
    clientId: 'web-app',
    sub: 'user-alice',
    userId: 'user-alice',
    scope: ['read', 'write'],
    issuedAt: now(),
    expiresAt: now() + 3600,
    ...overrides,
  };
}

describeWithRedis('redisTokenStore (real redis-server)', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const stores: RedisTokenStore[] = [];

  function client(): Redis {
    const c = new Redis(redis.url, fastRetry);
    c.on('error', () => undefined); // connection errors are expected in the outage tests
    clients.push(c);
    return c;
  }
  function store(options: Partial<Parameters<typeof redisTokenStore>[0]> = {}): RedisTokenStore {
    const s = redisTokenStore({ client: client(), logger: recordingLogger(), ...options });
    stores.push(s);
    return s;
  }
  async function live(s: RedisTokenStore): Promise<RevocationEvent[]> {
    const events: RevocationEvent[] = [];
    s.onRevoke((event) => events.push(event));
    await waitFor('the subscription', () => events.some((e) => e.reset === 'restored'));
    return events;
  }

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    // Let connections still reconnecting after the outage tests settle, so all close cleanly.
    await Promise.all(stores.map((s) => s.ready(5000).catch(() => undefined)));
    for (const s of stores) await s.close();
    await Promise.all(
      clients.map((c) =>
        c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.status !== 'end' && c.disconnect(),
      ),
    );
    await redis?.stop();
  });

  describe('records', () => {
    test('save then find returns the record with every field; another kind or an unknown id is undefined', async () => {
      const s = store();
      const r = record({
        redirectUri: 'https://app.example.com/cb',
        codeChallenge: 'abc',
        codeChallengeMethod: 'S256',
        kind: 'authorization_code',
      });
      await s.save(r);
      expect(await s.find('authorization_code', r.id)).toEqual(r);
      expect(await s.find('refresh_token', r.id)).toBeUndefined();
      expect(await s.find('authorization_code', hashToken('unknown'))).toBeUndefined();
    });

    test('a duplicate id is refused, never overwritten', async () => {
      const s = store();
      const r = record();
      await s.save(r);
      await expect(s.save({ ...r, sub: 'mallory' })).rejects.toThrow(/DUPLICATE/);
      expect((await s.find('refresh_token', r.id))?.sub).toBe('user-alice');
    });

    test("expiry follows the app's clock, not Redis's: a record whose expiresAt has come is absent though its key lives on", async () => {
      const s = store();
      const soon = now() + 1;
      const r = record({ expiresAt: soon });
      await s.save(r);
      expect(await client().exists(`{tokengate}:r:${r.id}`)).toBe(1);
      const spy = jest.spyOn(Date, 'now').mockReturnValue((soon + 1) * 1000); // the app's clock is past it
      try {
        expect(await s.find('refresh_token', r.id)).toBeUndefined();
        expect(await s.consume('refresh_token', r.id)).toBeUndefined();
        await s.revoke({ id: 'short-jti', until: soon });
      } finally {
        spy.mockRestore();
      }
      expect(await client().exists(`{tokengate}:r:${r.id}`)).toBe(1); // garbage, collected by its TTL
      expect(await s.isRevoked(['short-jti'])).toBe(false); // until had passed by the app's clock
    });

    test('an expired record is absent', async () => {
      const s = store();
      const r = record({ expiresAt: now() - 1 });
      await s.save(r);
      expect(await s.find('refresh_token', r.id)).toBeUndefined();
      expect(await s.consume('refresh_token', r.id)).toBeUndefined();
    });

    test('every key has a TTL: a record its expiresAt, a family its longest member, a deny entry its until (each 5 s late for clock skew)', async () => {
      const s = store();
      const c = client();
      const short = record({ expiresAt: now() + 100 });
      const long = record({ familyId: short.familyId, expiresAt: now() + 5000 });
      await s.save(long);
      await s.save(short);
      const until = now() + 300;
      await s.revoke({ id: hashToken('some-jti'), until });
      expect(await c.pexpiretime(`{tokengate}:r:${short.id}`)).toBe(short.expiresAt * 1000 + 5000);
      expect(await c.pexpiretime(`{tokengate}:f:${short.familyId}`)).toBe(long.expiresAt * 1000 + 5000);
      expect(await c.pexpiretime(`{tokengate}:d:${hashToken('some-jti')}`)).toBe(until * 1000 + 5000);
      const keys = await c.keys('*');
      for (const key of keys) expect(await c.pttl(key)).toBeGreaterThan(0);
    });

    test('keys hold hashes, never the raw token', async () => {
      const s = store({ prefix: 'hash-check' });
      const c = client();
      const raw = randomBytes(32).toString('base64url');
      await s.save(record({ id: hashToken(raw) }));
      const keys = await c.keys('{hash-check}:*');
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toContain(raw);
        const values =
          (await c.type(key)) === 'hash'
            ? Object.values(await c.hgetall(key))
            : (await c.type(key)) === 'set'
              ? await c.smembers(key)
              : [];
        for (const value of values) expect(value).not.toContain(raw);
      }
    });

    test('prefixes keep token sets apart', async () => {
      const a = store({ prefix: 'tenant-a' });
      const b = store({ prefix: 'tenant-b' });
      const r = record();
      await a.save(r);
      expect(await a.find('refresh_token', r.id)).toEqual(r);
      expect(await b.find('refresh_token', r.id)).toBeUndefined();
    });
  });

  describe('single use', () => {
    test('the first consume wins, later ones are reuse; find then shows consumedAt', async () => {
      const s = store();
      const r = record();
      await s.save(r);
      const first = await s.consume('refresh_token', r.id);
      expect(first?.reused).toBe(false);
      expect(first?.record.consumedAt).toBeGreaterThanOrEqual(r.issuedAt);
      const second = await s.consume('refresh_token', r.id);
      expect(second?.reused).toBe(true);
      expect(second?.record.consumedAt).toBe(first?.record.consumedAt);
      expect((await s.find('refresh_token', r.id))?.consumedAt).toBe(first?.record.consumedAt);
      expect(await s.consume('authorization_code', r.id)).toBeUndefined();
    });

    test('100 concurrent consumes over four connections and two stores: exactly one reused=false', async () => {
      const a = store();
      const b = store();
      const r = record();
      await a.save(r);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).consume('refresh_token', r.id)),
      );
      expect(results.filter((x) => x?.reused === false)).toHaveLength(1);
      expect(results.filter((x) => x?.reused === true)).toHaveLength(99);
    });
  });

  describe('revocation', () => {
    test('revoking an id removes its record and denies it until `until`, not after', async () => {
      const s = store();
      const r = record({ kind: 'access_token' });
      await s.save(r);
      await s.revoke({ id: r.id, until: now() + 60 });
      expect(await s.find('access_token', r.id)).toBeUndefined();
      expect(await s.isRevoked([hashToken('other'), r.id])).toBe(true);
      await s.revoke({ id: 'lapsed-jti', until: now() - 1 });
      expect(await s.isRevoked(['lapsed-jti'])).toBe(false);
      expect(await s.isRevoked([])).toBe(false);
    });

    test('revoking a family removes every member at once (RFC 9700 §4.14) and denies the family id', async () => {
      const s = store();
      const familyId = randomBytes(16).toString('base64url');
      const members = Array.from({ length: 50 }, (_, i) =>
        record({ familyId, kind: i % 2 ? 'refresh_token' : 'access_token' }),
      );
      await Promise.all(members.map((m) => s.save(m)));
      await s.revoke({ familyId, until: now() + 60 });
      for (const m of members) expect(await s.find(m.kind, m.id)).toBeUndefined();
      expect(await s.isRevoked([familyId])).toBe(true);
      expect(await client().exists(`{tokengate}:f:${familyId}`)).toBe(0);
    });

    test('a record saved into a revoked family is born revoked (a refresh racing the revocation)', async () => {
      const s = store();
      const familyId = randomBytes(16).toString('base64url');
      await s.revoke({ familyId, until: now() + 60 });
      const late = record({ familyId });
      await s.save(late);
      expect(await s.find('refresh_token', late.id)).toBeUndefined();
    });

    test('a later revocation with an earlier `until` does not shorten the deny entry', async () => {
      const s = store();
      await s.revoke({ id: 'jti-x', until: now() + 600 });
      await s.revoke({ id: 'jti-x', until: now() + 5 });
      expect(await client().pttl('{tokengate}:d:jti-x')).toBeGreaterThan(500_000);
      expect(await s.isRevoked(['jti-x'])).toBe(true);
    });

    test("this store's listeners hear its revocation before revoke resolves, once; another store's within a round trip", async () => {
      const a = store();
      const b = store();
      const heardA = await live(a);
      const heardB = await live(b);
      const familyId = randomBytes(16).toString('base64url');
      const until = now() + 60;
      const pending = a.revoke({ familyId, until });
      await pending;
      expect(heardA.filter((e) => !e.reset)).toEqual([{ ids: [familyId], until }]);
      const ms = await waitFor('the other store to hear it', () => heardB.some((e) => e.ids.includes(familyId)));
      expect(heardB.filter((e) => !e.reset)).toEqual([{ ids: [familyId], until }]);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the echo to A must not come twice
      expect(heardA.filter((e) => !e.reset)).toHaveLength(1);
      recordMeasurement('redis-store', `revocation reached another store instance in ${ms} ms`);
    });

    test('a malformed message on the channel is ignored with a warning; a throwing listener does not stop the others', async () => {
      const logger = recordingLogger();
      const s = store({ logger });
      const heard: RevocationEvent[] = [];
      s.onRevoke(() => {
        throw new Error('listener bug');
      });
      s.onRevoke((e) => heard.push(e));
      await waitFor('the subscription', () => heard.some((e) => e.reset === 'restored'));
      await client().publish('{tokengate}:revoked', 'not json');
      await client().publish('{tokengate}:revoked', JSON.stringify({ ids: ['x'], until: now() + 5 }));
      await waitFor('the good message', () => heard.some((e) => e.ids.includes('x')));
      expect(logger.lines.some((l) => /malformed/.test(l.message))).toBe(true);
      expect(logger.lines.some((l) => /listener threw/.test(l.message))).toBe(true);
    });
  });

  describe('subscription resets', () => {
    test("a listener hears 'lost' until the subscription is confirmed, then 'restored'", async () => {
      const s = store();
      const events: RevocationEvent[] = [];
      s.onRevoke((e) => events.push(e));
      await waitFor('restored', () => events.some((e) => e.reset === 'restored'));
      expect(events.map((e) => e.reset)).toEqual(['lost', 'restored']);
      expect(events[0]).toEqual({ ids: [], until: 0, reset: 'lost' });
    });

    test("the subscriber connection killed by the server: 'lost', then 'restored' after ioredis reconnects", async () => {
      const logger = recordingLogger();
      const s = store({ logger });
      const events = await live(s);
      events.length = 0;
      await client().call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor('lost', () => events.some((e) => e.reset === 'lost'));
      await waitFor('restored', () => events.some((e) => e.reset === 'restored'));
      expect(events.map((e) => e.reset)).toEqual(['lost', 'restored']);
      expect(logger.lines.map((l) => l.message).join('\n')).toMatch(
        /revocation channel lost[\s\S]*revocation channel is back/,
      );
      // and it hears revocations again
      const peer = store();
      await peer.revoke({ id: 'after-reconnect', until: now() + 5 });
      await waitFor('a revocation after the reconnect', () => events.some((e) => e.ids.includes('after-reconnect')));
    });
  });

  describe('options', () => {
    test('bad options say what to change', () => {
      expect(() => redisTokenStore({} as never)).toThrow(/options.client must be an ioredis client/);
      const c = client();
      expect(() => redisTokenStore({ client: c, prefix: 'a{b}' })).toThrow(/prefix must be letters/);
      expect(() => redisTokenStore({ client: c, timeout: 0 })).toThrow(/timeout must be a positive number of seconds/);
      expect(() => redisTokenStore({ client: c, subscriber: c })).toThrow(/second ioredis client/);
    });
  });

  // Last: these take the server down.
  describe('Redis unavailable', () => {
    test('frozen server: operations fail with TemporarilyUnavailable within timeout, the heartbeat reports lost, and all recovers', async () => {
      const s = store({ timeout: 0.3, heartbeatInterval: 0.2 });
      const events = await live(s);
      const r = record();
      await s.save(r);
      redis.freeze();
      try {
        const started = Date.now();
        const err = await s.find('refresh_token', r.id).catch((e: unknown) => e);
        const elapsed = Date.now() - started;
        expect(err).toBeInstanceOf(TemporarilyUnavailable);
        expect((err as TemporarilyUnavailable).status).toBe(503);
        expect(elapsed).toBeLessThan(2000); // bounded by timeout (0.3 s), generously
        await waitFor('the heartbeat to report lost', () => events.some((e) => e.reset === 'lost'), 5000);
      } finally {
        redis.thaw();
      }
      await waitFor(
        'recovery',
        async () => (await s.find('refresh_token', r.id).catch(() => undefined)) !== undefined,
        10_000,
      );
      await waitFor('restored', () => events.some((e) => e.reset === 'restored'), 10_000);
    });

    test('a consume that reaches Redis after the caller gave up changes nothing, so the retry is not a replay', async () => {
      const s = store({ timeout: 0.3 });
      const r = record();
      await s.save(r);
      await waitFor('the clock offset', async () => (await s.find('refresh_token', r.id)) !== undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      redis.freeze();
      let err: unknown;
      try {
        err = await s.consume('refresh_token', r.id).catch((e: unknown) => e);
        await new Promise((resolve) => setTimeout(resolve, 400)); // past the script's deadline
      } finally {
        redis.thaw();
      }
      expect(err).toBeInstanceOf(TemporarilyUnavailable);
      await waitFor(
        'Redis to answer again',
        async () => (await s.find('refresh_token', r.id).catch(() => undefined)) !== undefined,
        10_000,
      );
      const found = await s.find('refresh_token', r.id);
      expect(found?.consumedAt).toBeUndefined();
      expect((await s.consume('refresh_token', r.id))?.reused).toBe(false);
    });

    test('an operation waiting for a reply when the connection drops fails at once, not after timeout', async () => {
      // ioredis's defaults: it would hold the command for 20 reconnect attempts.
      const c = new Redis(redis.url, { retryStrategy: fastRetry.retryStrategy });
      c.on('error', () => undefined);
      clients.push(c);
      const s = store({ client: c, timeout: 10 });
      await s.ready();
      redis.freeze();
      const started = Date.now();
      const pending = s.find('refresh_token', 'x').catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await redis.kill(); // the kernel closes the frozen server's sockets
      const err = await pending;
      expect(err).toBeInstanceOf(TemporarilyUnavailable);
      expect(Date.now() - started).toBeLessThan(5000);
      await redis.restart();
      await waitFor('recovery', async () => (await s.isRevoked(['x']).catch(() => undefined)) === false, 10_000);
    });

    test('killed server: operations fail at once while reconnecting; restart: everything works again, subscription included', async () => {
      const s = store();
      const events = await live(s);
      await redis.kill();
      await waitFor('lost', () => events.some((e) => e.reset === 'lost'));
      const started = Date.now();
      const errors = await Promise.all([
        s.save(record()).catch((e: unknown) => e),
        s.find('refresh_token', 'x').catch((e: unknown) => e),
        s.consume('refresh_token', 'x').catch((e: unknown) => e),
        s.revoke({ id: 'x', until: now() + 5 }).catch((e: unknown) => e),
        s.isRevoked(['x']).catch((e: unknown) => e),
      ]);
      const elapsed = Date.now() - started;
      for (const err of errors) expect(err).toBeInstanceOf(TemporarilyUnavailable);
      expect(elapsed).toBeLessThan(1000);
      recordMeasurement('redis-store', `with Redis down, five store operations failed in ${elapsed} ms`);
      events.length = 0;
      await redis.restart();
      const recovered = await waitFor(
        'commands to work again',
        async () => (await s.isRevoked(['x']).catch(() => undefined)) === false,
        10_000,
      );
      await waitFor('restored', () => events.some((e) => e.reset === 'restored'), 10_000);
      recordMeasurement('redis-store', `store recovered ${recovered} ms after redis-server restarted`);
      const r = record();
      await s.save(r);
      expect((await s.consume('refresh_token', r.id))?.reused).toBe(false);
    });
  });
});
