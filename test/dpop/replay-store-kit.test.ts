/**
 * The ReplayStore contract kit (`tokengate/testing` describeReplayStore) run against the
 * memory store, redisReplayStore on a real redis-server and postgresReplayStore on a real
 * PostgreSQL (schema from every migration file, 002_replay.sql included), each shared store
 * with a peer over its own connection, as a second app process would have.
 */
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { memoryReplayStore } from '../../src';
import { postgresReplayStore } from '../../src/postgres';
import { redisReplayStore } from '../../src/redis';
import { describeReplayStore } from '../../src/testing';
import { postgresForTests, testPool, type PgServer } from '../support/postgres';
import { describeWithRedis, startRedis, type TestRedis } from '../support/redis-server';

describeReplayStore('memoryReplayStore', { create: () => memoryReplayStore() });

let redis: Promise<TestRedis> | undefined;
const redisClients: Redis[] = [];
async function redisStore() {
  redis ??= startRedis();
  const client = new Redis((await redis).url);
  redisClients.push(client);
  return redisReplayStore({ client, prefix: 'kit' });
}
describeWithRedis('redisReplayStore', () => {
  describeReplayStore('redisReplayStore', { create: redisStore, peer: redisStore });
});

const server = postgresForTests(__filename);
const pools: Pool[] = [];
function pgStore() {
  const pool = testPool(server as PgServer, 4);
  pools.push(pool);
  return postgresReplayStore({ pool });
}
(server ? describe : describe.skip)('postgresReplayStore', () => {
  describeReplayStore('postgresReplayStore', { create: pgStore, peer: pgStore });

  test('cleanup removes expired ids and keeps live ones', async () => {
    const store = pgStore();
    const now = Math.floor(Date.now() / 1000);
    await store.use('cleanup-old', now - 5);
    await store.use('cleanup-live', now + 60);
    expect(await store.cleanup({ now })).toBeGreaterThanOrEqual(1);
    await expect(store.use('cleanup-live', now + 60)).resolves.toBe(false);
  });
});

test('memoryReplayStore stays bounded: when full of live ids it refuses (503) rather than forget one', async () => {
  const store = memoryReplayStore({ max: 3 });
  const until = Math.floor(Date.now() / 1000) + 60;
  for (const id of ['a', 'b', 'c']) await expect(store.use(id, until)).resolves.toBe(true);
  await expect(store.use('d', until)).rejects.toMatchObject({ error: 'temporarily_unavailable', status: 503 });
  await expect(store.use('a', until)).resolves.toBe(false);
});

afterAll(async () => {
  for (const c of redisClients) c.disconnect();
  await (await redis)?.stop();
  await Promise.all(pools.map((p) => p.end()));
  server?.stop();
});
