/**
 * `postgresClientStore`: registered clients in `tokengate_clients`.
 * @packageDocumentation
 */
import { TokengateConfigError } from '../../core/config';
import { hashClientSecret } from '../../core/crypto';
import type { MemoryClientInput } from '../memory/clients';
import type { Client, ClientStore } from '../types';
import { guarded, isPool, storable, type PgPool } from './pool';

/** A client to register: a {@link Client} with its plain `secret` (hashed before it is stored), as for `memoryStores`. */
export type PostgresClientInput = MemoryClientInput;

/** Options for {@link postgresClientStore}. */
export interface PostgresStoreOptions {
  /** A `pg.Pool` (or anything with the same `query` and `connect`). It stays the app's: the store never ends it. */
  pool: PgPool;
}

/** A {@link ClientStore} in PostgreSQL, plus registration for the app's admin code and scripts. */
export interface PostgresClientStore extends ClientStore {
  /**
   * Register a client, or replace the one with this id. The secret is hashed with
   * {@link hashClientSecret} here; the plain value is not kept. Fields without a column of
   * their own (e.g. `resourceServer`) are kept in `metadata` and returned as they are.
   */
  saveClient(client: PostgresClientInput): Promise<void>;
  /** Remove a client; `true` if it existed. Its tokens stay until they expire or are revoked. */
  deleteClient(clientId: string): Promise<boolean>;
  /** Dynamic registration (RFC 7591): insert a client whose secret is already hashed; rejects when the id exists. */
  registerClient(client: Client): Promise<void>;
  /** RFC 7592 update: replace an existing client (secret already hashed); rejects when there is none. */
  updateClient(client: Client): Promise<void>;
}

// Columns of a Client that has its secret hashed already (registration); other fields,
// `registration` included, go to `metadata`.
const HASHED_COLUMNS = new Set([
  'id',
  'secretHash',
  'grants',
  'scopes',
  'defaultScopes',
  'redirectUris',
  'accessTokenLifetime',
  'refreshTokenLifetime',
]);

function rowValues(c: Client): unknown[] {
  const metadata: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(c)) if (!HASHED_COLUMNS.has(k) && value !== undefined) metadata[k] = value;
  return [
    c.id,
    c.secretHash ?? null,
    [...c.grants],
    [...c.scopes],
    c.defaultScopes === undefined ? null : [...c.defaultScopes],
    c.redirectUris === undefined ? null : [...c.redirectUris],
    c.accessTokenLifetime ?? null,
    c.refreshTokenLifetime ?? null,
    JSON.stringify(metadata),
  ];
}

interface ClientRow {
  id: string;
  secret_hash: string | null;
  grants: string[];
  scopes: string[];
  default_scopes: string[] | null;
  redirect_uris: string[] | null;
  access_token_lifetime: number | null;
  refresh_token_lifetime: number | null;
  metadata: Record<string, unknown>;
}

function toClient(row: ClientRow): Client {
  const client = { ...row.metadata, id: row.id, grants: row.grants, scopes: row.scopes } as Client;
  if (row.secret_hash !== null) client.secretHash = row.secret_hash;
  if (row.default_scopes !== null) client.defaultScopes = row.default_scopes;
  if (row.redirect_uris !== null) client.redirectUris = row.redirect_uris;
  if (row.access_token_lifetime !== null) client.accessTokenLifetime = row.access_token_lifetime;
  if (row.refresh_token_lifetime !== null) client.refreshTokenLifetime = row.refresh_token_lifetime;
  return client;
}

function checkInput(c: PostgresClientInput): void {
  const ok =
    c &&
    typeof c.id === 'string' &&
    c.id !== '' &&
    storable(c.id) &&
    (c.secret === undefined || (typeof c.secret === 'string' && c.secret !== '')) &&
    Array.isArray(c.grants) &&
    Array.isArray(c.scopes);
  if (!ok)
    throw new Error(
      'postgresClientStore.saveClient: a client needs a non-empty id (no NUL), grants and scopes arrays, and a non-empty secret unless it is public.',
    );
}

/**
 * A {@link ClientStore} in PostgreSQL (table `tokengate_clients` from the migration). Lookups
 * are one indexed, parameterised query; ids compare exactly (the column's default collation
 * is deterministic).
 *
 * @example
 * ```ts
 * const clients = postgresClientStore({ pool });
 * await clients.saveClient({ id: 'web-app', secret: process.env.WEB_APP_SECRET, grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: ['https://app.example/cb'] });
 * ```
 */
export function postgresClientStore(options: PostgresStoreOptions): PostgresClientStore {
  if (!options || !isPool(options.pool))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'postgresClientStore: options.pool must be a pg Pool, e.g. postgresClientStore({ pool: new Pool() }).',
    );
  const { pool } = options;
  return {
    async findClient(clientId) {
      if (!storable(clientId)) return undefined;
      const { rows } = await guarded(() =>
        pool.query<ClientRow>('SELECT * FROM tokengate_clients WHERE id = $1', [clientId]),
      );
      return rows[0] && toClient(rows[0]);
    },

    async saveClient(input) {
      checkInput(input);
      // The row of the client as the server reads it: the plain secret replaced by its hash.
      const { secret, ...fields } = input;
      const client = { ...fields, ...(secret !== undefined && { secretHash: hashClientSecret(secret) }) } as Client;
      await guarded(() =>
        pool.query(
          `INSERT INTO tokengate_clients (id, secret_hash, grants, scopes, default_scopes, redirect_uris, access_token_lifetime, refresh_token_lifetime, metadata)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, grants = EXCLUDED.grants, scopes = EXCLUDED.scopes,
             default_scopes = EXCLUDED.default_scopes, redirect_uris = EXCLUDED.redirect_uris,
             access_token_lifetime = EXCLUDED.access_token_lifetime, refresh_token_lifetime = EXCLUDED.refresh_token_lifetime,
             metadata = EXCLUDED.metadata, updated_at = now()`,
          rowValues(client),
        ),
      );
    },

    async registerClient(c) {
      if (!c || typeof c.id !== 'string' || c.id === '' || !storable(c.id))
        throw new Error('postgresClientStore.registerClient: a client needs a non-empty id without NUL.');
      const { rowCount } = await guarded(() =>
        pool.query(
          `INSERT INTO tokengate_clients (id, secret_hash, grants, scopes, default_scopes, redirect_uris, access_token_lifetime, refresh_token_lifetime, metadata)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
          rowValues(c),
        ),
      );
      if ((rowCount ?? 0) === 0)
        throw new Error('postgresClientStore.registerClient: a client with this id already exists.');
    },

    async updateClient(c) {
      if (!c || typeof c.id !== 'string' || !storable(c.id))
        throw new Error('postgresClientStore.updateClient: there is no client with this id.');
      const { rowCount } = await guarded(() =>
        pool.query(
          `UPDATE tokengate_clients SET secret_hash = $2, grants = $3, scopes = $4, default_scopes = $5, redirect_uris = $6,
             access_token_lifetime = $7, refresh_token_lifetime = $8, metadata = $9, updated_at = now() WHERE id = $1`,
          rowValues(c),
        ),
      );
      if ((rowCount ?? 0) === 0) throw new Error('postgresClientStore.updateClient: there is no client with this id.');
    },

    async deleteClient(clientId) {
      if (!storable(clientId)) return false;
      const { rowCount } = await guarded(() => pool.query('DELETE FROM tokengate_clients WHERE id = $1', [clientId]));
      return (rowCount ?? 0) > 0;
    },
  };
}
