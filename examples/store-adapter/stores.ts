// A minimal store adapter: all three stores over a Map "database". Swap each Map operation for
// your database's; the comments say what the real one must do. Checked by tokengate/testing.
import { randomBytes } from 'node:crypto';
import { hashClientSecret, hashPassword, verifyPassword } from '../../src';
import type { Client, ClientStore, RevocationEvent, TokenRecord, TokenStore, User, UserStore } from '../../src';

export type Db = {
  clients: Map<string, Client>;
  users: Map<string, User & { passwordHash: string }>;
  tokens: Map<string, TokenRecord>;
  revoked: Map<string, number>;
};
export const newDb = (): Db => ({ clients: new Map(), users: new Map(), tokens: new Map(), revoked: new Map() });
const now = () => Math.floor(Date.now() / 1000);

export function myClientStore(db: Db): ClientStore {
  return {
    // Exact-match lookup; undefined (never a throw, never null fields) when absent.
    async findClient(id) {
      return db.clients.get(id);
    },
  };
}

export function myUserStore(db: Db): UserStore {
  const dummy = hashPassword(randomBytes(32).toString('base64url')); // unknown users cost one scrypt too
  return {
    async authenticate(username, password) {
      const row = [...db.users.values()].find((u) => u.username === username); // SELECT … WHERE username = $1
      const ok = await verifyPassword(password, row?.passwordHash ?? (await dummy));
      if (!ok || !row) return undefined;
      const { passwordHash, ...user } = row;
      return user;
    },
    async findUser(id) {
      const row = db.users.get(id);
      if (!row) return undefined;
      const { passwordHash, ...user } = row;
      return user;
    },
  };
}

export function myTokenStore(db: Db): TokenStore {
  const listeners = new Set<(e: RevocationEvent) => void>();
  const live = (kind: string, id: string) => {
    const r = db.tokens.get(id); // SELECT … WHERE id = $1 AND kind = $2 AND expires_at > $now
    return r && r.kind === kind && r.expiresAt > now() ? r : undefined;
  };
  return {
    async save(record) {
      if (db.tokens.has(record.id)) throw new Error('duplicate token id'); // a primary key does this
      if (db.revoked.has(record.familyId)) return; // family revoked meanwhile: keep nothing (atomically!)
      db.tokens.set(record.id, { ...record, scope: [...record.scope] }); // a copy, as a row is
    },
    async find(kind, id) {
      return live(kind, id);
    },
    async consume(kind, id) {
      // One atomic step: UPDATE … SET consumed_at = $now WHERE id = $1 AND consumed_at IS NULL RETURNING *.
      // Here nothing awaits between the check and the write, which makes it atomic in one process.
      const r = live(kind, id);
      if (!r) return undefined;
      if (r.consumedAt !== undefined) return { record: r, reused: true };
      const consumed = { ...r, consumedAt: now() };
      db.tokens.set(id, consumed);
      return { record: consumed, reused: false };
    },
    async revoke({ id, familyId, until }) {
      const ids = [id, familyId].filter((x): x is string => x !== undefined);
      for (const [key, r] of db.tokens) if (key === id || r.familyId === familyId) db.tokens.delete(key);
      for (const x of ids) db.revoked.set(x, Math.max(until, db.revoked.get(x) ?? 0)); // never shorten
      for (const listener of listeners) listener({ ids, until }); // before revoke resolves
    },
    async isRevoked(ids) {
      return ids.some((x) => (db.revoked.get(x) ?? 0) > now());
    },
    onRevoke(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

// How the app registers clients and users: secrets and passwords are hashed before storage.
export async function register(
  db: Db,
  input: {
    clients?: readonly (Omit<Client, 'secretHash'> & { secret?: string })[];
    users?: readonly { id: string; username: string; password: string }[];
  },
): Promise<void> {
  for (const { secret, ...client } of input.clients ?? [])
    db.clients.set(client.id, secret === undefined ? client : { ...client, secretHash: hashClientSecret(secret) });
  for (const { password, ...user } of input.users ?? [])
    db.users.set(user.id, { ...user, passwordHash: await hashPassword(password) });
}
