/**
 * The store contract kit (`tokengate/testing`) run against redisTokenStore on a real
 * redis-server, with a second store instance (its own connections) as the peer, the way a
 * second app process would create it. Redis-specific behaviour is in redis-store.test.ts (same folder).
 */
import Redis from 'ioredis';
import { redisClientStore, redisTokenStore, type RedisClientStore, type RedisTokenStore } from '../../src/redis';
import { describeClientStore, describeTokenStore } from '../../src/testing';
import { describeWithRedis, startRedis, type TestRedis } from '../support/redis-server';

const PREFIX = 'kit';
let redis: Promise<TestRedis> | undefined;
const clients: Redis[] = [];
const stores: RedisTokenStore[] = [];

async function store(): Promise<RedisTokenStore> {
  redis ??= startRedis();
  const client = new Redis((await redis).url);
  clients.push(client);
  const s = redisTokenStore({ client, prefix: PREFIX, logger: { warn: () => undefined, error: () => undefined } });
  stores.push(s);
  await s.ready();
  return s;
}

// Every key and value of the store, as Redis holds them.
async function dump(): Promise<[string, unknown][]> {
  const c = clients[0] as Redis;
  const keys = await c.keys(`{${PREFIX}}:*`);
  return Promise.all(
    keys.map(async (key): Promise<[string, unknown]> => {
      const type = await c.type(key);
      if (type === 'hash') return [key, await c.hgetall(key)];
      if (type === 'set') return [key, await c.smembers(key)];
      return [key, await c.get(key)];
    }),
  );
}

afterAll(async () => {
  for (const s of stores) await s.close();
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  if (redis) await (await redis).stop();
});

describeTokenStore('redisTokenStore', {
  create: store,
  peer: store,
  dump,
  describe: describeWithRedis,
  concurrency: 100,
});

// redisClientStore: the ClientStore contract, registration writes included (RFC 7591/7592).
const clientStores: RedisClientStore[] = [];
afterAll(() => clientStores.forEach((s) => s.close()));
describeClientStore('redisClientStore', {
  create: async (fixtures) => {
    redis ??= startRedis();
    const client = new Redis((await redis).url);
    clients.push(client);
    const s = redisClientStore({ client, prefix: PREFIX });
    clientStores.push(s);
    for (const c of fixtures) await s.saveClient(c);
    return s;
  },
  dump: async () => {
    const c = clients[0] as Redis;
    const keys = await c.keys(`${PREFIX}:c:*`);
    return Promise.all(keys.map(async (key) => [key, await c.get(key)]));
  },
  describe: describeWithRedis,
});
