/**
 * Migration 003: a PostgreSQL client may list the device code and token exchange grant types
 * (001's check on tokengate_clients.grants refused them), and running it twice is harmless.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { postgresClientStore } from '../../src/postgres';
import { postgresForTests, testPool, type PgServer } from '../support/postgres';

const server = postgresForTests(__filename);
const describePg = server ? describe : describe.skip;
const MIGRATION = readFileSync(join(__dirname, '../../migrations/postgres/003_device_and_exchange.sql'), 'utf8');

describePg('migration 003 (PostgreSQL)', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = testPool(server as PgServer, 2);
  });
  afterAll(async () => {
    await pool.end();
    server?.stop();
  });

  test('clients may have the device code and token exchange grants once it ran (twice); other grant names are still refused', async () => {
    await pool.query(MIGRATION);
    await pool.query(MIGRATION);
    const clients = postgresClientStore({ pool });
    const grants = [
      'urn:ietf:params:oauth:grant-type:device_code',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'refresh_token',
    ] as const;
    await clients.saveClient({ id: 'tv', grants: [...grants], scopes: ['read'] });
    expect((await clients.findClient('tv'))?.grants).toEqual([...grants]);
    await expect(clients.saveClient({ id: 'odd', grants: ['implicit' as never], scopes: ['read'] })).rejects.toThrow();
    const tables = await pool.query(
      "SELECT 1 FROM information_schema.tables WHERE table_name = 'tokengate_device_authorizations'",
    );
    expect(tables.rowCount).toBe(1);
  });
});
