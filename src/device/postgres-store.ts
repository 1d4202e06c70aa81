/**
 * `postgresDeviceStore`: pending device authorizations (RFC 8628) in PostgreSQL (table from
 * `migrations/postgres/003_device_and_exchange.sql`). Each change is one conditional
 * statement, atomic under the row lock.
 * @packageDocumentation
 */
import { guarded, isPool, storable, type PgPool } from '../stores/postgres/pool';
import { DEVICE_RECORD_GRACE, type DeviceAuthorization, type DeviceStore } from './types';

interface Row {
  id: string;
  user_code: string | null;
  client_id: string;
  scope: string[];
  resources: string[] | null;
  expires_at: string;
  poll_interval: number;
  status: DeviceAuthorization['status'];
  user_id: string | null;
  last_polled_at: string | null;
  slow?: boolean;
}

function toRecord(row: Row): DeviceAuthorization {
  const record: DeviceAuthorization = {
    id: row.id,
    clientId: row.client_id,
    scope: row.scope,
    expiresAt: Number(row.expires_at),
    interval: row.poll_interval,
    status: row.status,
  };
  if (row.user_code !== null) record.userCode = row.user_code;
  if (row.resources !== null) record.resources = row.resources;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.last_polled_at !== null) record.lastPolledAt = Number(row.last_polled_at);
  return record;
}

// The old interval is read under the row lock in the same statement, so concurrent polls
// queue and each sees the previous one's time.
const POLL = `
WITH old AS (SELECT id, poll_interval, last_polled_at FROM tokengate_device_authorizations WHERE id = $1 FOR UPDATE)
UPDATE tokengate_device_authorizations d
SET poll_interval = CASE WHEN old.last_polled_at IS NOT NULL AND $2 - old.last_polled_at < old.poll_interval * 1000 THEN old.poll_interval + 5 ELSE old.poll_interval END,
    last_polled_at = $2
FROM old WHERE d.id = old.id
RETURNING d.*, (d.poll_interval > old.poll_interval) AS slow`;

/** A {@link DeviceStore} in PostgreSQL, plus cleanup of expired rows. */
export interface PostgresDeviceStore extends DeviceStore {
  /** Delete requests more than {@link DEVICE_RECORD_GRACE} seconds past expiry; returns how many. */
  cleanup(now?: number): Promise<number>;
}

/**
 * A {@link DeviceStore} on a `pg.Pool`.
 *
 * @example
 * ```ts
 * const devices = postgresDeviceStore({ pool });
 * setInterval(() => devices.cleanup().catch(console.error), 10 * 60_000).unref();
 * ```
 */
export function postgresDeviceStore(options: { pool: PgPool }): PostgresDeviceStore {
  if (!options || !isPool(options.pool)) throw new Error('postgresDeviceStore: options.pool must be a pg Pool.');
  const { pool } = options;
  return {
    async create(r) {
      await guarded(() =>
        pool.query(
          `INSERT INTO tokengate_device_authorizations (id, user_code, client_id, scope, resources, expires_at, poll_interval, status, user_id, last_polled_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            r.id,
            r.userCode ?? null,
            r.clientId,
            [...r.scope],
            r.resources ? [...r.resources] : null,
            r.expiresAt,
            r.interval,
            r.status,
            r.userId ?? null,
            r.lastPolledAt ?? null,
          ],
        ),
      );
    },
    async findByUserCode(code, now) {
      if (!storable(code)) return undefined;
      const { rows } = await guarded(() =>
        pool.query<Row>(
          "SELECT * FROM tokengate_device_authorizations WHERE user_code = $1 AND status = 'pending' AND expires_at > $2",
          [code, now],
        ),
      );
      return rows[0] && toRecord(rows[0]);
    },
    async decide(code, decision, now) {
      if (!storable(code)) return undefined;
      const denied = decision === 'denied';
      const { rows } = await guarded(() =>
        pool.query<Row>(
          `UPDATE tokengate_device_authorizations SET status = $2, user_id = $3, scope = COALESCE($4, scope), user_code = NULL
           WHERE user_code = $1 AND status = 'pending' AND expires_at > $5 RETURNING *`,
          [
            code,
            denied ? 'denied' : 'approved',
            denied ? null : decision.userId,
            denied ? null : [...decision.scope],
            now,
          ],
        ),
      );
      return rows[0] && toRecord(rows[0]);
    },
    async poll(id, nowMs) {
      if (!storable(id)) return undefined;
      const { rows } = await guarded(() => pool.query<Row>(POLL, [id, nowMs]));
      return rows[0] && { record: toRecord(rows[0]), slowDown: rows[0].slow === true };
    },
    async consume(id) {
      if (!storable(id)) return undefined;
      const { rows } = await guarded(() =>
        pool.query<Row>(
          "DELETE FROM tokengate_device_authorizations WHERE id = $1 AND status <> 'pending' RETURNING *",
          [id],
        ),
      );
      return rows[0] && toRecord(rows[0]);
    },
    async cleanup(now = Math.floor(Date.now() / 1000)) {
      const { rowCount } = await guarded(() =>
        pool.query('DELETE FROM tokengate_device_authorizations WHERE expires_at + $2 <= $1', [
          now,
          DEVICE_RECORD_GRACE,
        ]),
      );
      return rowCount ?? 0;
    },
  };
}
