import { TokengateConfigError } from '../../core/config';
import { hashPassword, verifyPassword } from '../../core/crypto';
import type { User, UserStore } from '../types';

/** A user as given to {@link memoryStores}: an id, a username and the plain password. */
export interface MemoryUserInput {
  /** Stable user id; becomes the token's `sub`. */
  id: string;
  /** What the user types to sign in (the password grant's `username`). */
  username: string;
  /** The password; hashed with scrypt at construction and then dropped. */
  password: string;
  /** Anything else the app wants on the user object. */
  [key: string]: unknown;
}

interface Entry {
  user: User;
  passwordHash: Promise<string>;
}

/** The in-memory {@link UserStore}, with a helper for tests. */
export interface MemoryUserStore extends UserStore {
  findUser(userId: string): Promise<User | undefined>;
  /** Every user as held, with the scrypt `passwordHash`. For tests, e.g. `tokengate/testing`'s `describeUserStore`. */
  dump(): Promise<(User & { passwordHash: string })[]>;
}

/**
 * An in-memory {@link UserStore}. Passwords are hashed with scrypt at construction (in the
 * background, so start-up is not blocked); an unknown username costs one scrypt like a
 * wrong password, so timing does not reveal which usernames exist.
 */
export function memoryUserStore(users: readonly MemoryUserInput[]): MemoryUserStore {
  // Every entry is checked before any password is hashed: a configuration error leaves no
  // scrypt running in the background.
  const usernames = new Set<string>();
  const ids = new Set<string>();
  for (const { username, id } of users) {
    if (usernames.has(username))
      throw new TokengateConfigError(
        'ERR_TOKENGATE_USER',
        `memoryStores: username "${username}" is listed twice; usernames must be unique.`,
      );
    if (ids.has(id))
      throw new TokengateConfigError(
        'ERR_TOKENGATE_USER',
        `memoryStores: user id "${id}" is listed twice; ids must be unique.`,
      );
    usernames.add(username);
    ids.add(id);
  }
  const byUsername = new Map<string, Entry>();
  const byId = new Map<string, User>();
  for (const { password, username, ...user } of users) {
    const frozen = Object.freeze({ ...user, username }) as User;
    const passwordHash = hashPassword(password);
    passwordHash.catch(() => undefined); // surfaced on first use instead of as an unhandled rejection
    byUsername.set(username, { user: frozen, passwordHash });
    byId.set(user.id, frozen);
  }
  const dummyHash = hashPassword('tokengate-dummy-password');
  dummyHash.catch(() => undefined);
  return {
    async authenticate(username, password) {
      const entry = byUsername.get(username);
      const ok = await verifyPassword(password, await (entry?.passwordHash ?? dummyHash));
      return ok && entry ? entry.user : undefined;
    },
    async findUser(userId) {
      return byId.get(userId);
    },
    async dump() {
      return Promise.all(
        [...byUsername.values()].map(async ({ user, passwordHash }) => ({ ...user, passwordHash: await passwordHash })),
      );
    },
  };
}
