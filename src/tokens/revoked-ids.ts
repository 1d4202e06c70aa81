/**
 * The revocations this server instance has heard (its own, and other instances' through a
 * shared store's `onRevoke`), each kept until its `until` — the latest expiry of a token that
 * can carry the id. A JWT access token is checked against this list as well as against the
 * store, on every validation: a store that loses its data (Redis restarted without
 * persistence, restored from an old snapshot, failed over to a lagging replica) cannot bring a
 * revoked token back on an instance that heard the revocation.
 * @packageDocumentation
 */
import type { RevocationEvent } from '../stores/types';

const PRUNE_AT = 1024;

/** Revoked ids (jti, record id, family id) with their `until` (ms). */
export class RevokedIds {
  private readonly until = new Map<string, number>();
  private pruneAt = PRUNE_AT;

  /** Take note of a revocation event (a `reset` carries no ids and changes nothing here). */
  note(event: RevocationEvent): void {
    const until = event.until * 1000;
    if (until <= Date.now()) return;
    for (const id of event.ids) this.until.set(id, Math.max(until, this.until.get(id) ?? 0));
    if (this.until.size >= this.pruneAt) this.prune();
  }

  /** Whether any of `ids` was heard revoked and that revocation still holds. */
  has(ids: readonly string[]): boolean {
    if (this.until.size === 0) return false;
    for (const id of ids) {
      const until = this.until.get(id);
      if (until !== undefined && until > Date.now()) return true;
    }
    return false;
  }

  /** Number of ids held (expired ones included until the next prune). */
  get size(): number {
    return this.until.size;
  }

  // Amortised: the next prune waits until the map has doubled from what this one left, so a
  // burst of revocations costs O(1) per event rather than a full scan each.
  private prune(): void {
    const now = Date.now();
    for (const [id, until] of this.until) if (until <= now) this.until.delete(id);
    this.pruneAt = Math.max(PRUNE_AT, this.until.size * 2);
  }
}
