/**
 * `tokengate/postgres`: the reference PostgreSQL stores for clients, users and tokens. Needs
 * the `pg` package (an optional peer dependency: install it yourself) and the schema in
 * `migrations/postgres/001_tokengate.sql` (also at `tokengate/postgres/migration.sql`).
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
 * @module tokengate/postgres
 * @packageDocumentation
 */
export { postgresReplayStore, type PostgresReplayStore } from './stores/postgres/replay';
export {
  postgresStores,
  postgresClientStore,
  postgresUserStore,
  postgresTokenStore,
  type PostgresClientStore,
  type PostgresClientInput,
  type PostgresStoreOptions,
  type PostgresUserStore,
  type PostgresUserInput,
  type PostgresTokenStore,
  type PostgresTokenStoreOptions,
  type CleanupResult,
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  type PgResult,
} from './stores/postgres';
export { postgresDeviceStore, type PostgresDeviceStore } from './device/postgres-store';
