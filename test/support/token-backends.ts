/**
 * The three token stores behind one interface, so a rule about storage runs once per backend:
 * the in-memory store, `redisTokenStore` on a real redis-server and `postgresTokenStore` on a
 * real PostgreSQL (each started by the test file, skipped loudly when not installed, failing
 * under CI), optionally reached through a {@link replyDroppingProxy}.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { memoryDeviceStore, memoryTokenStore, type DeviceStore, type TokenStore } from '../../src';
import { postgresDeviceStore, postgresTokenStore, type PostgresTokenStore } from '../../src/postgres';
import { redisDeviceStore, redisTokenStore, type RedisTokenStore } from '../../src/redis';
import { postgresForTests, testPool, type PgServer } from './postgres';
import { redisServerBinary, startRedis, type TestRedis } from './redis-server';

export type BackendName = 'memory' | 'redis' | 'postgres';
export const BACKENDS: BackendName[] = ['memory', 'redis', 'postgres'];

const silent = { warn: () => undefined, error: () => undefined };

/** One backend, started by {@link useBackend}. */
export interface TokenBackend {
  readonly name: BackendName;
  /** The server's port (Redis, PostgreSQL), to put a proxy in front of it. */
  readonly port: number | undefined;
  /** A new store instance on this backend, connected to `port` (default: the server's own). */
  store(port?: number): Promise<TokenStore>;
  /** A device authorization store (RFC 8628) on this backend. */
  devices(): Promise<DeviceStore>;
  /** Everything the backend holds, as text (Redis keys and values, PostgreSQL rows), to search for raw secrets. */
  dump(): Promise<string>;
}

// The device table comes with migration 003; the test server may have been set up with 001 only.
const MIGRATION_003 = join(__dirname, '../../migrations/postgres/003_device_and_exchange.sql');

/**
 * `describe` once per backend with a started {@link TokenBackend}; a backend whose server is
 * not installed is skipped with a loud warning (a failure under CI, as in the other suites).
 */
export function describeBackends(
  title: string,
  file: string,
  body: (backend: () => TokenBackend) => void,
  names: readonly BackendName[] = BACKENDS,
): void {
  for (const name of names) {
    if (name === 'redis' && redisServerBinary() === undefined) {
      if (process.env.CI === 'true') throw new Error('redis-server is not on PATH; under CI these tests must run.');
      console.warn(`\n*** SKIPPED "${title}" on Redis: no redis-server on PATH. ***\n`);
      continue;
    }
    const pg: PgServer | undefined = name === 'postgres' ? postgresForTests(file) : undefined;
    if (name === 'postgres' && !pg) continue;
    describe(`${title} (${name} token store)`, () => {
      let redis: TestRedis | undefined;
      const closers: (() => Promise<unknown>)[] = [];
      beforeAll(async () => {
        if (name === 'redis') redis = await startRedis();
      });
      afterAll(async () => {
        for (const close of closers.reverse()) await close().catch(() => undefined);
        await redis?.stop();
        pg?.stop();
      });
      let migrated: Promise<unknown> | undefined;
      const pgPool = (): Pool => {
        const pool = testPool(pg as PgServer, 10);
        closers.push(() => pool.end());
        migrated ??= pool.query(readFileSync(MIGRATION_003, 'utf8'));
        return pool;
      };
      const redisClient = (): Redis => {
        const client = new Redis((redis as TestRedis).port, '127.0.0.1', {
          retryStrategy: (times) => Math.min(50 * times, 300),
        });
        client.on('error', () => undefined);
        closers.push(async () => client.disconnect());
        return client;
      };
      const backend: TokenBackend = {
        async devices() {
          if (name === 'memory') return memoryDeviceStore();
          if (name === 'redis') return redisDeviceStore({ client: redisClient() });
          const pool = pgPool();
          await migrated;
          return postgresDeviceStore({ pool });
        },
        async dump() {
          if (name === 'memory') return '';
          if (name === 'redis') {
            const client = redisClient();
            const keys = await client.keys('*');
            const values = await Promise.all(
              keys.map(async (k) =>
                (await client.type(k)) === 'hash'
                  ? JSON.stringify(await client.hgetall(k))
                  : (await client.type(k)) === 'string'
                    ? await client.get(k)
                    : '',
              ),
            );
            return keys.join('\n') + values.join('\n');
          }
          const pool = pgPool();
          await migrated;
          const tables = ['tokengate_tokens', 'tokengate_device_authorizations'];
          return (
            await Promise.all(tables.map(async (t) => JSON.stringify((await pool.query(`SELECT * FROM ${t}`)).rows)))
          ).join('\n');
        },
        name,
        get port() {
          return name === 'redis' ? redis?.port : pg?.config.port;
        },
        async store(port) {
          if (name === 'memory') return memoryTokenStore();
          if (name === 'redis') {
            const client = new Redis(port ?? (redis as TestRedis).port, '127.0.0.1', {
              retryStrategy: (times) => Math.min(50 * times, 300),
            });
            client.on('error', () => undefined);
            const tokens: RedisTokenStore = redisTokenStore({ client, logger: silent });
            closers.push(async () => (await tokens.close(), client.disconnect()));
            await tokens.ready();
            return tokens;
          }
          const pool = testPool(pg as PgServer, 10, port);
          const tokens: PostgresTokenStore = postgresTokenStore({ pool, logger: silent });
          closers.push(async () => (await tokens.close(), await pool.end()));
          return tokens;
        },
      };
      body(() => backend);
    });
  }
}

/**
 * `base` with some of its methods replaced, the others passed through (bound: a store may be a
 * class instance), for tests that make a real store fail or wait at one step.
 */
export function wrapTokenStore(base: TokenStore, replace: Partial<TokenStore>): TokenStore {
  return {
    save: (record) => base.save(record),
    find: (kind, id) => base.find(kind, id),
    consume: (kind, id) => base.consume(kind, id),
    revoke: (target) => base.revoke(target),
    isRevoked: (ids) => base.isRevoked(ids),
    onRevoke: (listener) => base.onRevoke(listener),
    ...replace,
  };
}
