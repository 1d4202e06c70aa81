/**
 * The PostgreSQL {@link ReplayStore} (table from `migrations/postgres/002_replay.sql`).
 * @packageDocumentation
 */
import { nowSeconds } from '../../core/clock';
import { TokengateConfigError } from '../../core/config';
import type { ReplayStore } from '../types';
import { guarded, isPool, storable, type PgPool } from './pool';

/** A {@link ReplayStore} in PostgreSQL, plus expiry cleanup. */
export interface PostgresReplayStore extends ReplayStore {
  /** Delete ids whose time has passed; returns how many. Run it on a schedule, like the token store's `cleanup`. */
  cleanup(options?: { now?: number }): Promise<number>;
}

// One statement: a new id is inserted; an expired one is taken over; a live one conflicts and
// the WHERE leaves it alone, so no row comes back. Concurrent inserts of one id serialise on
// the primary key, and exactly one of them returns a row.
const USE = `
INSERT INTO tokengate_replay AS r (id, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE r.expires_at <= $3
RETURNING r.id`;

/**
 * Single-use ids (DPoP proof and client assertion `jti`s) in PostgreSQL, shared by every
 * instance. When the database cannot answer, `use` rejects with `temporarily_unavailable`: the
 * request is refused, never let through unchecked (fail closed).
 *
 * @example
 * ```ts
 * oauthServer({ ...postgresStores({ pool }), replay: postgresReplayStore({ pool }) }, options);
 * ```
 */
export function postgresReplayStore(options: { pool: PgPool }): PostgresReplayStore {
  const pool = options?.pool;
  if (!isPool(pool))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'postgresReplayStore: options.pool must be a pg Pool (new Pool({ connectionString })).',
    );
  return {
    async use(id, expiresAt) {
      // An id PostgreSQL text cannot hold was never stored; refusing it is the safe answer.
      if (!storable(id)) return false;
      const now = nowSeconds();
      const result = await guarded(() => pool.query(USE, [id, Math.ceil(expiresAt), now]));
      return result.rows.length === 1;
    },
    async cleanup({ now = nowSeconds() } = {}) {
      const result = await guarded(() => pool.query('DELETE FROM tokengate_replay WHERE expires_at <= $1', [now]));
      return result.rowCount ?? 0;
    },
  };
}
