/**
 * The LRU cache of validated tokens. Keyed by a hash of the token (the raw token is not
 * kept), each entry lives until the token's `exp` (or a shorter `maxAge`), and a revocation
 * heard from the token store removes the token on its next use.
 * @packageDocumentation
 */
import { LRUCache } from 'lru-cache';
import type { RevocationEvent } from '../stores/types';
import type { ValidatedToken } from './auth-info';

interface Entry {
  token: ValidatedToken;
  /** When this entry stops being served (ms since the epoch). */
  staleAt: number;
}

const PRUNE_AT = 1024;

/** A bounded cache of validated tokens that honours expiry and revocation. */
export class TokenCache {
  private readonly lru: LRUCache<string, Entry> | undefined;
  private readonly maxAgeMs: number;
  // Revoked ids (jti, record id, family id) until their `until` (ms). Checked on every hit, so a
  // revoked family is caught without an index from family to cache keys.
  private readonly revoked = new Map<string, number>();

  /**
   * @param max - most entries; 0 disables caching
   * @param maxAgeSeconds - longest any entry is served; `Infinity` for "until exp"
   */
  constructor(max: number, maxAgeSeconds: number) {
    this.lru = max > 0 ? new LRUCache<string, Entry>({ max }) : undefined;
    this.maxAgeMs = maxAgeSeconds * 1000;
  }

  /** The cached token for this key, if still valid; expired or revoked entries are dropped. */
  get(key: string): ValidatedToken | undefined {
    const entry = this.lru?.get(key);
    if (entry === undefined) return undefined;
    if (entry.staleAt <= Date.now() || (this.revoked.size !== 0 && this.isRevoked(entry.token))) {
      this.lru?.delete(key);
      return undefined;
    }
    return entry.token;
  }

  /** Remember a freshly validated token. */
  set(key: string, token: ValidatedToken): void {
    if (!this.lru) return;
    const staleAt = Math.min(token.expiresAt * 1000, Date.now() + this.maxAgeMs);
    this.lru.set(key, { token, staleAt });
  }

  /** Take note of a revocation (from the token store's listener). */
  revoke(event: RevocationEvent): void {
    const until = event.until * 1000;
    for (const id of event.ids) this.revoked.set(id, Math.max(until, this.revoked.get(id) ?? 0));
    if (this.revoked.size >= PRUNE_AT) this.prune();
  }

  /** Forget everything, e.g. after missing revocation messages. */
  clear(): void {
    this.lru?.clear();
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.lru?.size ?? 0;
  }

  private isRevoked(token: ValidatedToken): boolean {
    for (const id of token.revocationIds) if (this.revoked.has(id)) return true;
    return false;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
  }
}
