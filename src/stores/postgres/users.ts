/**
 * `postgresUserStore`: users for the password grant in `tokengate_users`.
 * @packageDocumentation
 */
import { TokengateConfigError } from '../../core/config';
import { hashPassword, randomToken, verifyPassword } from '../../core/crypto';
import type { MemoryUserInput } from '../memory/users';
import type { User, UserStore } from '../types';
import type { PostgresStoreOptions } from './clients';
import { guarded, isPool, storable } from './pool';

/** A user to register: id, username, plain password (hashed with scrypt before it is stored) and any profile fields. */
export type PostgresUserInput = MemoryUserInput;

/** A {@link UserStore} in PostgreSQL, plus registration for the app's sign-up and admin code. */
export interface PostgresUserStore extends UserStore {
  /** The user with this id (profile fields included), or `undefined`. */
  findUser(userId: string): Promise<User | undefined>;
  /**
   * Register a user, or replace the one with this id (a new password, username or profile).
   * The password is hashed with scrypt ({@link hashPassword}) here; the plain value is not
   * kept. Every field besides `id`, `username` and `password` is kept as the user's profile.
   * A username taken by another user rejects (unique constraint).
   */
  saveUser(user: PostgresUserInput): Promise<void>;
  /** Remove a user; `true` if it existed. Their refresh tokens then fail (`findUser` is checked on refresh). */
  deleteUser(userId: string): Promise<boolean>;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  profile: Record<string, unknown>;
}

const toUser = (row: UserRow): User => ({ ...row.profile, id: row.id, username: row.username });

/**
 * A {@link UserStore} in PostgreSQL (table `tokengate_users` from the migration). Passwords
 * are verified with async scrypt off the event loop, and an unknown username is verified
 * against a dummy hash, so it costs the same as a wrong password.
 *
 * @example
 * ```ts
 * const users = postgresUserStore({ pool });
 * await users.saveUser({ id: 'user-alice', username: 'alice@example.com', password: 'wonderland', name: 'Alice' });
 * ```
 */
export function postgresUserStore(options: PostgresStoreOptions): PostgresUserStore {
  if (!options || !isPool(options.pool))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE_OPTION',
      'postgresUserStore: options.pool must be a pg Pool, e.g. postgresUserStore({ pool: new Pool() }).',
    );
  const { pool } = options;
  let dummyHash: Promise<string> | undefined;

  return {
    async authenticate(username, password) {
      const row = storable(username)
        ? (
            await guarded(() =>
              pool.query<UserRow>(
                'SELECT id, username, password_hash, profile FROM tokengate_users WHERE username = $1',
                [username],
              ),
            )
          ).rows[0]
        : undefined;
      const ok = await verifyPassword(
        password,
        row?.password_hash ?? (await (dummyHash ??= hashPassword(randomToken()))),
      );
      return ok && row ? toUser(row) : undefined;
    },

    async findUser(userId) {
      if (!storable(userId)) return undefined;
      const { rows } = await guarded(() =>
        pool.query<UserRow>('SELECT id, username, profile FROM tokengate_users WHERE id = $1', [userId]),
      );
      return rows[0] && toUser(rows[0]);
    },

    async saveUser(input) {
      const { id, username, password, ...profile } = input ?? ({} as PostgresUserInput);
      for (const [name, value] of [
        ['id', id],
        ['username', username],
      ] as const) {
        if (typeof value !== 'string' || value === '' || !storable(value))
          throw new Error(`postgresUserStore.saveUser: ${name} must be a non-empty string without NUL.`);
      }
      if (typeof password !== 'string' || password === '')
        throw new Error('postgresUserStore.saveUser: password must be a non-empty string.');
      const passwordHash = await hashPassword(password);
      await guarded(() =>
        pool.query(
          `INSERT INTO tokengate_users (id, username, password_hash, profile) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, password_hash = EXCLUDED.password_hash,
             profile = EXCLUDED.profile, updated_at = now()`,
          [id, username, passwordHash, JSON.stringify(profile)],
        ),
      );
    },

    async deleteUser(userId) {
      if (!storable(userId)) return false;
      const { rowCount } = await guarded(() => pool.query('DELETE FROM tokengate_users WHERE id = $1', [userId]));
      return (rowCount ?? 0) > 0;
    },
  };
}
