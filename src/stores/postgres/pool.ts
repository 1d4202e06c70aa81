/**
 * The part of a `pg` pool the PostgreSQL stores use, and how their failures are reported.
 * Declared structurally, so the stores never load `pg` themselves and its types are not
 * needed to compile against `tokengate/postgres`: any `pg.Pool` fits.
 * @packageDocumentation
 */
import { TemporarilyUnavailable } from '../../core/errors';

/** What a query resolves to (a subset of `pg`'s `QueryResult`). */
export interface PgResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** Anything that runs a parameterised query: a `pg.Pool` or a checked-out `pg.PoolClient`. */
export interface PgQueryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<R extends Record<string, any> = any>(text: string, values?: unknown[]): Promise<PgResult<R>>;
}

/** A connection checked out of the pool (`pg.PoolClient`). */
export interface PgPoolClient extends PgQueryable {
  release(destroy?: Error | boolean): void;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** A `pg.Pool`: the stores run their queries on it and check connections out for transactions. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

/** Whether `value` looks like a `pg.Pool`. */
export function isPool(value: unknown): value is PgPool {
  const p = value as Partial<PgPool> | undefined;
  return !!p && typeof p.query === 'function' && typeof p.connect === 'function';
}

/**
 * Whether PostgreSQL text can hold `value`: it cannot hold NUL, and the server rejects a
 * parameter containing one. Such a string can never be a stored id, so lookups answer "not
 * found" instead of failing.
 */
export const storable = (value: string): boolean => !value.includes('\u0000');

// SQLSTATE classes and codes that mean "the database is not reachable right now", and the
// Node errors of a connection that failed or dropped: answered 503 with Retry-After, so
// clients retry instead of seeing a server_error.
const UNAVAILABLE_STATES = /^(08|53|57P0[123])/;
const UNAVAILABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Whether a `pg` error means the database could not be reached (rather than a bad query). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_STATES.test(e.code) || UNAVAILABLE_NODE.has(e.code))) return true;
  return (
    typeof e.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      e.message,
    )
  );
}

/**
 * Run a store operation; a connection failure becomes `temporarily_unavailable` (503,
 * `Retry-After: 1`) with the cause attached for the log, anything else is rethrown as it is.
 */
export async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (!isUnavailable(err)) throw err;
    const error = new TemporarilyUnavailable('The token store is temporarily unavailable; try again shortly.', {
      'Retry-After': '1',
    });
    error.cause = err;
    throw error;
  }
}

/** Run `body` in one transaction on a checked-out connection (READ COMMITTED, the default). */
export async function transaction<T>(pool: PgPool, body: (client: PgQueryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // pg-pool takes its own 'error' listener off a checked-out connection: without ours, a backend
  // that dies mid-transaction (restart, failover, pg_terminate_backend) emits an unhandled
  // 'error' and takes the process down. The failed query rejects on its own; we only record
  // the connection as broken so the pool discards it.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is unusable: make the pool discard it rather than hand it out again.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? false);
  }
}
