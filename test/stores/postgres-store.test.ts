/**
 * The PostgreSQL reference adapter (`tokengate/postgres`) against a real server started by
 * this file: the whole contract kit (with a second instance on its own pool, as another
 * process would have), then what is particular to this adapter: cleanup of expired rows,
 * registration, the LISTEN connection dropping and coming back, and an unreachable database.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import { hashToken, verifyClientSecret } from '../../src/core/crypto';
import { TemporarilyUnavailable } from '../../src/core/errors';
import {
  postgresClientStore,
  postgresStores,
  postgresTokenStore,
  postgresUserStore,
  type PostgresTokenStore,
} from '../../src/postgres';
import { transaction } from '../../src/stores/postgres/pool';
import type { RevocationEvent } from '../../src/stores/types';
import { describeClientStore, describeTokenStore, describeUserStore } from '../../src/testing';
import { MIGRATION, postgresForTests, testPool, type PgServer } from '../support/postgres';
import { nowSeconds as now } from '../support/seconds';

const server = postgresForTests(__filename);
const describePg = server ? describe : describe.skip;

const pools: Pool[] = [];
const stores: PostgresTokenStore[] = [];
function pool(max = 10): Pool {
  const p = testPool(server as PgServer, max);
  pools.push(p);
  return p;
}
function tokenStore(p: Pool = pool(), heartbeatInterval?: number): PostgresTokenStore {
  const store = postgresTokenStore({
    pool: p,
    heartbeatInterval,
    logger: { warn: () => undefined, error: () => undefined },
  });
  stores.push(store);
  return store;
}
const rows = async (p: Pool, ...tables: string[]): Promise<unknown[]> => {
  const out: unknown[] = [];
  for (const t of tables) out.push(...(await p.query(`SELECT * FROM ${t}`)).rows);
  return out;
};

afterAll(async () => {
  for (const s of stores) await s.close();
  for (const p of pools) await p.end();
  server?.stop();
});

const main = server ? pool() : (undefined as unknown as Pool);
const TOKEN_TABLES = ['tokengate_tokens', 'tokengate_revocations', 'tokengate_families'];

describeTokenStore('postgresTokenStore', {
  create: () => tokenStore(main),
  peer: () => tokenStore(pool()),
  dump: () => rows(main, ...TOKEN_TABLES),
  describe: describePg,
});

describeClientStore('postgresClientStore', {
  create: async (fixtures) => {
    const clients = postgresClientStore({ pool: main });
    for (const c of fixtures) await clients.saveClient(c);
    return clients;
  },
  dump: () => rows(main, 'tokengate_clients'),
  describe: describePg,
});

describeUserStore('postgresUserStore', {
  create: async (fixtures) => {
    const users = postgresUserStore({ pool: main });
    for (const u of fixtures) await users.saveUser(u);
    return users;
  },
  dump: () => rows(main, 'tokengate_users'),
  describe: describePg,
});

describePg('postgresTokenStore: expired rows and the cleanup job', () => {
  test('cleanup() deletes expired tokens, lapsed revocations and finished families in batches, and keeps the rest', async () => {
    const store = tokenStore(main);
    const t = now();
    const base = { clientId: 'c', sub: 's', scope: ['read'], issuedAt: t - 100 };
    const expired = Array.from({ length: 5 }, (_, i) => ({
      ...base,
      kind: 'refresh_token' as const,
      id: hashToken(`cleanup-old-${i}-${t}`),
      familyId: `cleanup-old-${t}-${i}`,
      expiresAt: t - 10,
    }));
    const live = {
      ...base,
      kind: 'refresh_token' as const,
      id: hashToken(`cleanup-live-${t}`),
      familyId: `cleanup-live-${t}`,
      expiresAt: t + 600,
    };
    for (const r of [...expired, live]) await store.save(r);
    await store.revoke({ id: `cleanup-jti-old-${t}`, until: t - 5 });
    await store.revoke({ id: `cleanup-jti-live-${t}`, until: t + 600 });

    const removed = await store.cleanup({ batchSize: 2 });
    expect(removed.tokens).toBeGreaterThanOrEqual(5);
    expect(removed.revocations).toBeGreaterThanOrEqual(1);
    expect(removed.families).toBeGreaterThanOrEqual(5);
    const ids = (
      await main.query('SELECT id FROM tokengate_tokens WHERE id = ANY($1)', [[...expired, live].map((r) => r.id)])
    ).rows.map((r) => r.id);
    expect(ids).toEqual([live.id]);
    expect(
      (await main.query('SELECT id FROM tokengate_revocations WHERE id LIKE $1', [`cleanup-jti-%-${t}`])).rows.map(
        (r) => r.id,
      ),
    ).toEqual([`cleanup-jti-live-${t}`]);
    expect(
      (await main.query('SELECT count(*)::int AS n FROM tokengate_families WHERE expires_at <= $1', [now()])).rows[0].n,
    ).toBe(0);
    await expect(store.find('refresh_token', live.id)).resolves.toMatchObject({ id: live.id });
    await expect(store.isRevoked([`cleanup-jti-live-${t}`])).resolves.toBe(true);
  });

  test('the cleanup SQL documented in the migration file runs as written', async () => {
    const sql = readFileSync(MIGRATION, 'utf8')
      .split('\n')
      .filter((line) => /^--\s+DELETE FROM tokengate_/.test(line))
      .map((line) => line.replace(/^--\s+/, ''));
    expect(sql).toHaveLength(3);
    for (const statement of sql) await expect(main.query(statement)).resolves.toBeDefined();
  });

  test('the migration is idempotent: running it again on a live schema changes nothing', async () => {
    await expect(main.query(readFileSync(MIGRATION, 'utf8'))).resolves.toBeDefined();
  });
});

describePg('postgresClientStore / postgresUserStore: registration', () => {
  test('saveClient keeps extra fields (resourceServer) in metadata, replaces on the same id, and never stores the secret', async () => {
    const clients = postgresClientStore({ pool: main });
    await clients.saveClient({
      id: 'reg-api',
      secret: 'first-secret',
      grants: ['client_credentials'],
      scopes: ['read'],
      resourceServer: true,
    });
    await clients.saveClient({
      id: 'reg-api',
      secret: 'second-secret',
      grants: ['client_credentials'],
      scopes: ['read', 'write'],
      resourceServer: true,
    });
    const found = await clients.findClient('reg-api');
    expect(found).toMatchObject({ id: 'reg-api', scopes: ['read', 'write'], resourceServer: true });
    expect(verifyClientSecret('second-secret', found?.secretHash)).toBe(true);
    expect(verifyClientSecret('first-secret', found?.secretHash)).toBe(false);
    expect(JSON.stringify(await rows(main, 'tokengate_clients'))).not.toContain('second-secret');
    await expect(clients.deleteClient('reg-api')).resolves.toBe(true);
    await expect(clients.findClient('reg-api')).resolves.toBeUndefined();
    await expect(clients.deleteClient('reg-api')).resolves.toBe(false);
  });

  test('saveClient and saveUser refuse bad input with a message; the schema refuses unknown grants', async () => {
    const clients = postgresClientStore({ pool: main });
    await expect(clients.saveClient({ id: '', grants: [], scopes: [] })).rejects.toThrow(/non-empty id/);
    await expect(clients.saveClient({ id: 'x', secret: '', grants: [], scopes: [] })).rejects.toThrow(
      /non-empty secret/,
    );
    await expect(clients.saveClient({ id: 'bad-grant', grants: ['implicit' as never], scopes: [] })).rejects.toThrow(
      /check constraint/,
    );
    const users = postgresUserStore({ pool: main });
    await expect(users.saveUser({ id: 'u', username: '', password: 'p' })).rejects.toThrow(/username must be/);
    await expect(users.saveUser({ id: 'u', username: 'u', password: '' })).rejects.toThrow(/password must be/);
  });

  test('saveUser replaces the password and profile; a username taken by another user is refused; deleteUser removes', async () => {
    const users = postgresUserStore({ pool: main });
    await users.saveUser({ id: 'reg-carol', username: 'carol@example.com', password: 'old-password', name: 'Carol' });
    await users.saveUser({
      id: 'reg-carol',
      username: 'carol@example.com',
      password: 'new-password',
      name: 'Carol C.',
    });
    await expect(users.authenticate('carol@example.com', 'old-password')).resolves.toBeUndefined();
    await expect(users.authenticate('carol@example.com', 'new-password')).resolves.toEqual({
      id: 'reg-carol',
      username: 'carol@example.com',
      name: 'Carol C.',
    });
    await expect(users.saveUser({ id: 'reg-other', username: 'carol@example.com', password: 'x' })).rejects.toThrow(
      /unique/,
    );
    await expect(users.deleteUser('reg-carol')).resolves.toBe(true);
    await expect(users.findUser('reg-carol')).resolves.toBeUndefined();
  });
});

describePg('postgresTokenStore: the revocation channel', () => {
  test('a dropped LISTEN connection tells listeners "lost", comes back by itself with "restored", and hears revocations again', async () => {
    const listening = tokenStore(pool(3), 0.2);
    const other = tokenStore(main);
    const events: RevocationEvent[] = [];
    listening.onRevoke((e) => events.push(e));
    const waitFor = async (test: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!test() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(test()).toBe(true);
    };
    await waitFor(() => events.some((e) => e.reset === 'restored'));
    expect(events[0]).toEqual({ ids: [], until: 0, reset: 'lost' });

    const killed = await main.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' OR query = 'SELECT 1'",
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    await waitFor(() => events.filter((e) => e.reset === 'lost').length === 2);
    await waitFor(() => events.filter((e) => e.reset === 'restored').length === 2);

    await other.revoke({ id: 'channel-after-restore', until: now() + 60 });
    await waitFor(() => events.some((e) => e.ids.includes('channel-after-restore')));
  });

  test('options are checked at construction with messages that say what to change', () => {
    expect(() => postgresTokenStore({ pool: undefined as never })).toThrow(/options.pool must be a pg Pool/);
    expect(() => postgresTokenStore({ pool: main, channel: 'Bad-Name; DROP' })).toThrow(
      /options.channel must be lower-case/,
    );
    expect(() => postgresTokenStore({ pool: main, heartbeatInterval: 0 })).toThrow(
      /heartbeatInterval must be a positive number of seconds/,
    );
    expect(() => postgresStores({ pool: {} as never })).toThrow(/pg Pool/);
  });
});

describePg('PostgreSQL stores when the database cannot be reached', () => {
  test('operations fail with temporarily_unavailable (503, Retry-After), not a crash or a generic error', async () => {
    const dead = new Pool({ host: '127.0.0.1', port: 1, user: 'x', database: 'x', connectionTimeoutMillis: 500 });
    pools.push(dead);
    const stores = postgresStores({ pool: dead, logger: { warn: () => undefined, error: () => undefined } });
    for (const op of [
      () => stores.tokens.find('refresh_token', hashToken('x')),
      () => stores.tokens.consume('refresh_token', hashToken('x')),
      () => stores.tokens.isRevoked(['x']),
      () => stores.tokens.revoke({ id: 'x', until: now() + 60 }),
      () => stores.clients.findClient('x'),
      () => stores.users.findUser('x'),
    ]) {
      const err = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TemporarilyUnavailable);
      expect(err).toMatchObject({ status: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '1' } });
    }
    await stores.tokens.close();
  });
});

describePg('a connection that dies inside a transaction', () => {
  test('rejects the store call and does not take the process down (pg-pool leaves checked-out clients without an error listener)', async () => {
    const p = pool(2);
    const killer = pool(1);
    await expect(
      transaction(p, async (client) => {
        const {
          rows: [row],
        } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await killer.query('SELECT pg_terminate_backend($1)', [row?.pid]);
        await new Promise((r) => setTimeout(r, 200)); // the connection's 'error' event arrives now
        await client.query('SELECT 1');
      }),
    ).rejects.toThrow();
    expect((await p.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
  });
});
