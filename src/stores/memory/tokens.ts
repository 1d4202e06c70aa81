import type { RevocationEvent, TokenRecord, TokenStore } from '../types';
import { nowSeconds } from '../../clock';

/** Options for {@link memoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** How often (ms) to sweep a slice of expired records away. Default 1000. */
  sweepIntervalMs?: number;
  /** How many entries one sweep looks at. Default 10 000, so a sweep never blocks for long. */
  sweepBatch?: number;
}


/** The in-memory {@link TokenStore}, with two helpers for tests and monitoring. */
export interface MemoryTokenStore extends TokenStore {
  /** How many records are held (expired ones included until swept). */
  size(): number;
  /**
   * A copy of everything held: the records (under their hashed ids) and the revoked ids with
   * their `until`. For tests, e.g. the `dump` of `tokengate/testing`'s `describeTokenStore`.
   */
  dump(): { records: TokenRecord[]; revoked: [string, number][] };
}

/**
 * An in-process {@link TokenStore}. Every operation runs to completion within one tick, which
 * is what makes `consume` atomic here; revocation listeners are called synchronously, so a
 * `requireToken` cache sees a revocation before `revoke` resolves.
 *
 * Expired records are dropped lazily on access and by a background sweep that looks at a
 * bounded slice of entries at a time (its timer is `unref`'d and never keeps the process up).
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): MemoryTokenStore {
  const records = new Map<string, TokenRecord>();
  const families = new Map<string, Set<string>>();
  const denied = new Map<string, number>();
  const listeners = new Set<(event: RevocationEvent) => void>();

  function remove(id: string): void {
    const record = records.get(id);
    if (!record) return;
    records.delete(id);
    const members = families.get(record.familyId);
    if (members) {
      members.delete(id);
      if (members.size === 0) families.delete(record.familyId);
    }
  }

  function live(id: string): TokenRecord | undefined {
    const record = records.get(id);
    if (record && record.expiresAt <= nowSeconds()) {
      remove(id);
      return undefined;
    }
    return record;
  }

  // Round-robin sweep: each tick continues where the last stopped, so 1M records cost many
  // short slices instead of one long pause.
  let recordCursor: Iterator<[string, TokenRecord]> | undefined;
  let deniedCursor: Iterator<[string, number]> | undefined;
  function sweep(batch: number): void {
    const now = nowSeconds();
    recordCursor ??= records.entries();
    for (let i = 0; i < batch; i++) {
      const next = recordCursor.next();
      if (next.done) {
        recordCursor = undefined;
        break;
      }
      if (next.value[1].expiresAt <= now) remove(next.value[0]);
    }
    deniedCursor ??= denied.entries();
    for (let i = 0; i < batch; i++) {
      const next = deniedCursor.next();
      if (next.done) {
        deniedCursor = undefined;
        break;
      }
      if (next.value[1] <= now) denied.delete(next.value[0]);
    }
  }
  const batch = options.sweepBatch ?? 10_000;
  const timer = setInterval(() => sweep(batch), options.sweepIntervalMs ?? 1000);
  timer.unref();

  return {
    async save(record) {
      if (records.has(record.id)) throw new Error('memoryTokenStore.save: a record with this id already exists.');
      // A refresh that raced its family's revocation (reuse detected meanwhile) must not
      // leave a live token behind: the record is born revoked, so it is not kept.
      if (denied.has(record.familyId)) return;
      const stored: TokenRecord = { ...record, scope: Object.freeze([...record.scope]) as string[] };
      if (record.resources !== undefined) stored.resources = Object.freeze([...record.resources]) as string[];
      records.set(record.id, Object.freeze(stored));
      let members = families.get(record.familyId);
      if (!members) families.set(record.familyId, (members = new Set()));
      members.add(record.id);
    },

    async find(kind, id) {
      const record = live(id);
      return record && record.kind === kind ? record : undefined;
    },

    async consume(kind, id) {
      const record = live(id);
      if (!record || record.kind !== kind) return undefined;
      if (record.consumedAt !== undefined) return { record, reused: true };
      const consumed = Object.freeze({ ...record, consumedAt: nowSeconds() });
      records.set(id, consumed);
      return { record: consumed, reused: false };
    },

    async revoke({ id, familyId, until }) {
      const ids: string[] = [];
      if (id !== undefined) {
        remove(id);
        denied.set(id, Math.max(until, denied.get(id) ?? 0));
        ids.push(id);
      }
      if (familyId !== undefined) {
        for (const member of families.get(familyId) ?? []) remove(member);
        denied.set(familyId, Math.max(until, denied.get(familyId) ?? 0));
        ids.push(familyId);
      }
      if (ids.length === 0) return;
      const event: RevocationEvent = { ids, until };
      for (const listener of listeners) listener(event);
    },

    async isRevoked(ids) {
      const now = nowSeconds();
      for (const id of ids) {
        const until = denied.get(id);
        if (until !== undefined && until > now) return true;
      }
      return false;
    },

    onRevoke(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    size() {
      return records.size;
    },

    dump() {
      return { records: [...records.values()].map((r) => ({ ...r, scope: [...r.scope] })), revoked: [...denied.entries()] };
    },
  };
}
