/**
 * The PostgreSQL stores: clients, users and tokens over one `pg` pool.
 * @packageDocumentation
 */
import { postgresClientStore, type PostgresClientStore, type PostgresStoreOptions } from './clients';
import type { PgPool } from './pool';
import { postgresReplayStore, type PostgresReplayStore } from './replay';
import { postgresTokenStore, type PostgresTokenStore, type PostgresTokenStoreOptions } from './tokens';
import { postgresUserStore, type PostgresUserStore } from './users';

export { postgresClientStore, postgresTokenStore, postgresUserStore };
export type { PostgresClientStore, PostgresClientInput, PostgresStoreOptions } from './clients';
export type { PostgresUserStore, PostgresUserInput } from './users';
export type { PostgresTokenStore, PostgresTokenStoreOptions, CleanupResult } from './tokens';
export type { PgPool, PgPoolClient, PgQueryable, PgResult } from './pool';

/**
 * All three stores over one pool, ready for `oauthServer`. Options are those of
 * {@link postgresTokenStore}; the client and user stores only need the pool.
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * import { oauthServer } from 'tokengate';
 * import { postgresStores } from 'tokengate/postgres';
 *
 * const stores = postgresStores({ pool: new Pool({ connectionString: process.env.DATABASE_URL }) });
 * app.use(oauthServer(stores, { issuer: 'https://auth.example.com', keys }));
 * ```
 */
export function postgresStores(options: PostgresTokenStoreOptions): {
  clients: PostgresClientStore;
  users: PostgresUserStore;
  tokens: PostgresTokenStore;
  /** Single-use DPoP proof and client assertion ids (needs `002_replay.sql`). */
  replay: PostgresReplayStore;
} {
  const base: PostgresStoreOptions = { pool: options?.pool };
  return {
    clients: postgresClientStore(base),
    users: postgresUserStore(base),
    tokens: postgresTokenStore(options),
    replay: postgresReplayStore(base as { pool: PgPool }),
  };
}
