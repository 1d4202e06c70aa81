/**
 * `postgresTokenStore`: refresh tokens, authorization codes, opaque access tokens and JWT
 * revocations in PostgreSQL, shared by every instance of the app.
 * @packageDocumentation
 */
import { nowSeconds } from '../../core/clock';
import { checkRenamed, checkSecondsAsMs, TokengateConfigError } from '../../core/config';
import { consoleLogger, type Logger } from '../../core/logging';
import type { ConsumeResult, RevocationEvent, TokenKind, TokenRecord, TokenStore } from '../types';
import { PgRevocationChannel } from './channel';
import { guarded, isPool, storable, transaction, type PgPool } from './pool';

/** Options for {@link postgresTokenStore}. */
export interface PostgresTokenStoreOptions {
  /**
   * A `pg.Pool`. It stays the app's: the store never ends it. Once the first revocation
   * listener registers (each `oauthServer` does), the store keeps one of its connections for
   * `LISTEN`, so size the pool one larger than you otherwise would.
   */
  pool: PgPool;
  /**
   * The NOTIFY channel revocations travel on; stores that share a channel hear each other.
   * Lower-case letters, digits and `_`. Default `tokengate_revocations`.
   */
  channel?: string;
  /**
   * How often, in seconds, the LISTEN connection is pinged. A connection that died silently
   * is noticed within about two heartbeats, and caches are dropped then. Default 2.
   * (Formerly `heartbeatMs`, in milliseconds.)
   */
  heartbeatInterval?: number;
  /** Where connection-state warnings go. Default: `console` with a `[tokengate]` prefix. */
  logger?: Logger;
}

/** How many rows {@link PostgresTokenStore.cleanup} removed. */
export interface CleanupResult {
  tokens: number;
  revocations: number;
  families: number;
}

/** A {@link TokenStore} in PostgreSQL, plus expiry cleanup and shutdown. */
export interface PostgresTokenStore extends TokenStore {
  /**
   * Delete rows whose time has passed: expired tokens, lapsed revocations and families with
   * neither. Deletes in batches of `batchSize` (default 5000) so no lock is held for long.
   * Run it on a schedule, e.g. `setInterval(() => tokens.cleanup().catch(log), 10 * 60_000).unref()`,
   * or run the equivalent SQL from the migration file with pg_cron.
   */
  cleanup(options?: { now?: number; batchSize?: number }): Promise<CleanupResult>;
  /** Stop listening for revocations and give the LISTEN connection back. The pool is left open. Call on shutdown. */
  close(): Promise<void>;
}

interface TokenRow {
  id: string;
  kind: TokenKind;
  family_id: string;
  client_id: string;
  sub: string;
  user_id: string | null;
  scope: string[];
  issued_at: string;
  expires_at: string;
  consumed_at: string | null;
  redirect_uri: string | null;
  code_challenge: string | null;
  code_challenge_method: 'S256' | 'plain' | null;
  extra: Record<string, unknown>;
}

const KNOWN = new Set([
  'kind',
  'id',
  'familyId',
  'clientId',
  'sub',
  'userId',
  'scope',
  'issuedAt',
  'expiresAt',
  'consumedAt',
  'redirectUri',
  'codeChallenge',
  'codeChallengeMethod',
]);

// Replays of a consumed record are counted in its `extra` column under this key (no schema
// change), and taken out again before the record is handed back.
const REUSES = 'tokengate:reuses';

// bigint columns arrive as strings from pg (they may exceed 2^53); Unix seconds never do.
function toRecord(row: TokenRow): TokenRecord {
  const { [REUSES]: _reuses, ...extra } = row.extra;
  const record = {
    ...extra,
    kind: row.kind,
    id: row.id,
    familyId: row.family_id,
    clientId: row.client_id,
    sub: row.sub,
    scope: row.scope,
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
  } as TokenRecord;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.consumed_at !== null) record.consumedAt = Number(row.consumed_at);
  if (row.redirect_uri !== null) record.redirectUri = row.redirect_uri;
  if (row.code_challenge !== null) record.codeChallenge = row.code_challenge;
  if (row.code_challenge_method !== null) record.codeChallengeMethod = row.code_challenge_method;
  return record;
}

// The family row is upserted first: that locks it, so a concurrent family revocation either
// commits before (and this insert sees revoked = true and stores nothing) or waits for this
// transaction and then deletes the new token. RETURNING gives the row as last committed.
const SAVE = `
WITH family AS (
  INSERT INTO tokengate_families AS f (id, expires_at) VALUES ($3, $9)
  ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(f.expires_at, EXCLUDED.expires_at)
  RETURNING f.revoked
)
INSERT INTO tokengate_tokens (id, kind, family_id, client_id, sub, user_id, scope, issued_at, expires_at, consumed_at, redirect_uri, code_challenge, code_challenge_method, extra)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM family WHERE NOT family.revoked`;

// The conditional UPDATE is the atomic step: concurrent callers queue on the row lock, and
// each re-checks "consumed_at IS NULL" on the row as the previous one left it, so exactly
// one of them gets a row back.
const CONSUME = `
UPDATE tokengate_tokens SET consumed_at = $3
WHERE id = $1 AND kind = $2 AND expires_at > $3 AND consumed_at IS NULL
RETURNING *`;

// A replay: the same row lock serialises concurrent replays, so each gets its own count.
const REPLAY = `
UPDATE tokengate_tokens SET extra = jsonb_set(extra, '{${REUSES}}', to_jsonb(COALESCE((extra->>'${REUSES}')::int, 0) + 1))
WHERE id = $1 AND kind = $2 AND expires_at > $3 AND consumed_at IS NOT NULL
RETURNING *`;

const FIND = 'SELECT * FROM tokengate_tokens WHERE id = $1 AND kind = $2 AND expires_at > $3';

function checkChannel(channel: unknown): string {
  if (channel === undefined) return 'tokengate_revocations';
  if (typeof channel !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      `postgresTokenStore: options.channel must be lower-case letters, digits and _ (at most 63, not starting with a digit); got ${String(channel)}.`,
    );
  }
  return channel;
}

/**
 * A {@link TokenStore} in PostgreSQL (tables from `migrations/postgres/001_tokengate.sql`),
 * shared by every instance of the app.
 *
 * - Every query is parameterised; tokens are stored under their SHA-256 only.
 * - `consume` is one conditional `UPDATE … WHERE consumed_at IS NULL RETURNING *`: exactly
 *   one concurrent caller, in any process, gets the row.
 * - A family revocation locks the family's row, marks it revoked and deletes its tokens in
 *   one transaction; `save` takes the same lock, so a refresh racing reuse detection cannot
 *   leave a live token behind.
 * - Revocations are announced with `pg_notify` in the same transaction; every store's
 *   `onRevoke` listeners hear them (this instance's before `revoke` resolves, others' when the
 *   transaction commits). If the LISTEN connection drops, listeners get `{ reset: 'lost' }`
 *   and, once it is back, `{ reset: 'restored' }`.
 * - When PostgreSQL cannot be reached, operations throw `TemporarilyUnavailable` (503,
 *   `Retry-After: 1`); other database errors become the generic `server_error`.
 * - Expired rows stay until {@link PostgresTokenStore.cleanup} (or the SQL in the migration
 *   file) removes them; they are never returned meanwhile.
 *
 * @example
 * ```ts
 * import { Pool } from 'pg';
 * import { postgresTokenStore } from 'tokengate/postgres';
 *
 * const tokens = postgresTokenStore({ pool: new Pool({ connectionString: process.env.DATABASE_URL }) });
 * setInterval(() => tokens.cleanup().catch((err) => console.error(err)), 10 * 60_000).unref();
 * process.on('SIGTERM', () => tokens.close());
 * ```
 */
export function postgresTokenStore(options: PostgresTokenStoreOptions): PostgresTokenStore {
  if (!options || !isPool(options.pool))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'postgresTokenStore: options.pool must be a pg Pool, e.g. postgresTokenStore({ pool: new Pool() }).',
    );
  const { pool } = options;
  checkRenamed('postgresTokenStore: options', options, [{ from: 'heartbeatMs', to: 'heartbeatInterval', per: 1000 }]);
  const heartbeatMs = checkSecondsAsMs('postgresTokenStore: options.heartbeatInterval', options.heartbeatInterval, 2);
  const channelName = checkChannel(options.channel);
  const logger = options.logger ?? consoleLogger;
  const channel = new PgRevocationChannel({ pool, channel: channelName, heartbeatMs, logger });

  async function consumeOnce(kind: TokenKind, id: string): Promise<ConsumeResult | undefined | 'retry'> {
    const now = nowSeconds();
    const won = await pool.query<TokenRow>(CONSUME, [id, kind, now]);
    if (won.rows[0]) return { record: toRecord(won.rows[0]), reused: false };
    const replay = (await pool.query<TokenRow>(REPLAY, [id, kind, now])).rows[0];
    if (replay) return { record: toRecord(replay), reused: true, reuses: Number(replay.extra[REUSES]) };
    const seen = await pool.query<TokenRow>(FIND, [id, kind, now]);
    const row = seen.rows[0];
    if (!row) return undefined;
    // Not consumed, yet the UPDATE did not match: the row changed in between. Ask again.
    return row.consumed_at === null ? 'retry' : { record: toRecord(row), reused: true };
  }

  return {
    async save(record) {
      const extra: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record)) if (!KNOWN.has(key) && value !== undefined) extra[key] = value;
      await guarded(() =>
        pool.query(SAVE, [
          record.id,
          record.kind,
          record.familyId,
          record.clientId,
          record.sub,
          record.userId ?? null,
          [...record.scope],
          record.issuedAt,
          record.expiresAt,
          record.consumedAt ?? null,
          record.redirectUri ?? null,
          record.codeChallenge ?? null,
          record.codeChallengeMethod ?? null,
          JSON.stringify(extra),
        ]),
      );
    },

    async find(kind, id) {
      if (!storable(id)) return undefined;
      const { rows } = await guarded(() => pool.query<TokenRow>(FIND, [id, kind, nowSeconds()]));
      return rows[0] && toRecord(rows[0]);
    },

    async consume(kind, id) {
      if (!storable(id)) return undefined;
      return guarded(async () => {
        for (let attempt = 0; attempt < 3; attempt++) {
          const result = await consumeOnce(kind, id);
          if (result !== 'retry') return result;
        }
        return undefined;
      });
    },

    async revoke({ id, familyId, until }) {
      const ids = [id, familyId].filter((x): x is string => x !== undefined);
      if (ids.length === 0) return;
      const stored = ids.filter(storable).sort(); // sorted: concurrent revokes lock rows in one order
      await guarded(() =>
        transaction(pool, async (tx) => {
          if (familyId !== undefined && storable(familyId)) {
            // Statement 1 takes the family's lock (waiting for any save in flight); statement 2
            // then runs with a fresh snapshot, so it also deletes what that save inserted.
            await tx.query(
              `INSERT INTO tokengate_families AS f (id, expires_at, revoked) VALUES ($1, $2, true)
               ON CONFLICT (id) DO UPDATE SET revoked = true, expires_at = GREATEST(f.expires_at, EXCLUDED.expires_at)`,
              [familyId, until],
            );
            await tx.query('DELETE FROM tokengate_tokens WHERE family_id = $1', [familyId]);
          }
          if (id !== undefined && storable(id)) await tx.query('DELETE FROM tokengate_tokens WHERE id = $1', [id]);
          if (stored.length > 0) {
            await tx.query(
              `INSERT INTO tokengate_revocations AS r (id, until) SELECT unnest($1::text[]), $2
               ON CONFLICT (id) DO UPDATE SET until = GREATEST(r.until, EXCLUDED.until)`,
              [stored, until],
            );
          }
          await tx.query('SELECT pg_notify($1, $2)', [channelName, channel.payload(ids, until)]);
        }),
      );
      channel.deliverLocal(ids, until);
    },

    async isRevoked(ids) {
      const stored = ids.filter(storable);
      if (stored.length === 0) return false;
      const { rows } = await guarded(() =>
        pool.query<{ revoked: boolean }>(
          'SELECT EXISTS (SELECT 1 FROM tokengate_revocations WHERE id = ANY($1::text[]) AND until > $2) AS revoked',
          [stored, nowSeconds()],
        ),
      );
      return rows[0]?.revoked === true;
    },

    onRevoke(listener: (event: RevocationEvent) => void) {
      return channel.add(listener);
    },

    async cleanup(cleanupOptions = {}) {
      const now = cleanupOptions.now ?? nowSeconds();
      const batch = cleanupOptions.batchSize ?? 5000;
      if (!Number.isInteger(batch) || batch <= 0)
        throw new Error('postgresTokenStore.cleanup: batchSize must be a positive whole number.');
      const sweep = async (table: string, column: string): Promise<number> => {
        let total = 0;
        for (;;) {
          // Table and column names are constants of this file, never input; values are parameters.
          const { rowCount } = await guarded(() =>
            pool.query(
              `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${column} <= $1 LIMIT $2) AND ${column} <= $1`,
              [now, batch],
            ),
          );
          total += rowCount ?? 0;
          if ((rowCount ?? 0) < batch) return total;
        }
      };
      return {
        tokens: await sweep('tokengate_tokens', 'expires_at'),
        revocations: await sweep('tokengate_revocations', 'until'),
        families: await sweep('tokengate_families', 'expires_at'),
      };
    },

    close() {
      return channel.close();
    },
  };
}
