/**
 * The LRU cache of validated tokens. Keyed by a hash of the token (the raw token is not
 * kept), each entry lives until the token's `exp` (or a shorter `maxAge`), and a revocation
 * heard from the token store removes the token on its next use.
 *
 * A shared store may report that it can no longer hear other processes' revocations
 * (`reset: 'lost'`). The cache then stops trusting itself: it drops every entry (or, with
 * `staleIfUnavailable`, keeps serving the entries it has for that many seconds) and caches
 * nothing new, so each request is checked against the store, which answers or fails with 503.
 * On `reset: 'restored'` it drops everything (revocations may have been missed) and resumes.
 * @packageDocumentation
 */
import * as nodeCrypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RevocationEvent } from '../stores/types';
import { RevokedIds } from '../tokens/revoked-ids';
import type { ValidatedToken } from './auth-info';

const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'binary') => string }).hash;

/**
 * The cache key of a token: its SHA-256 as a 32-character binary string. Never the token
 * itself (a heap dump holds no usable token), and not base64 either: the key is kept per
 * entry, and the binary form is the smallest string V8 can hold it in.
 */
export function cacheKey(token: string): string {
  return oneShotHash
    ? oneShotHash('sha256', token, 'binary')
    : nodeCrypto.createHash('sha256').update(token).digest('binary');
}

/** A bounded cache of validated tokens that honours expiry and revocation. */
export class TokenCache {
  // The entries are the validated tokens themselves, with no wrapper object: a token is stale
  // at its own `expiresAt`, and a finite `maxAge` is lru-cache's ttl. (A wrapper holding a
  // stale-at time cost ~60 bytes per cached token; see the cache memory figure in bench/.)
  private readonly lru: LRUCache<string, ValidatedToken> | undefined;
  private readonly staleMs: number;
  // Bumped by every reset: a validation that started before a reset must not be cached after it.
  private epoch = 0;
  // While the store cannot hear revocations: nothing new is cached, and what is cached is
  // served until `servableUntil` (ms) at most.
  private lost = false;
  private servableUntil = 0;

  /**
   * @param max - most entries; 0 disables caching
   * @param maxAgeSeconds - longest any entry is served; `Infinity` for "until exp"
   * @param staleIfUnavailableSeconds - how long entries keep being served after the store
   *   reports `reset: 'lost'`; 0 (default) drops them at once
   * @param revoked - where heard revocations are kept (ids until their `until`); checked on
   *   every hit, so a revoked family is caught without an index from family to cache keys. A
   *   server shares it with its token validation (see {@link RevokedIds}).
   */
  constructor(
    max: number,
    maxAgeSeconds: number,
    staleIfUnavailableSeconds = 0,
    private readonly revoked: RevokedIds = new RevokedIds(),
  ) {
    const maxAgeMs = maxAgeSeconds * 1000;
    // lru-cache wants a whole number of ms; a maxAge of 0 means nothing is ever served, so
    // nothing is kept.
    const ttl = Number.isFinite(maxAgeMs) ? { ttl: Math.ceil(maxAgeMs) } : {};
    this.lru = max > 0 && maxAgeMs > 0 ? new LRUCache<string, ValidatedToken>({ max, ...ttl }) : undefined;
    this.staleMs = staleIfUnavailableSeconds * 1000;
  }

  /** Whether anything is ever cached (false for `max: 0` or `maxAge: 0`): guards skip the key. */
  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /**
   * The current epoch: pass it to {@link TokenCache.set} for a token whose validation starts
   * now, so a result that straddles a reset is not cached.
   */
  get generation(): number {
    return this.epoch;
  }

  /** The cached token for this key, if still valid; expired or revoked entries are dropped. */
  get(key: string): ValidatedToken | undefined {
    const token = this.lru?.get(key);
    if (token === undefined) return undefined;
    if (this.lost && Date.now() >= this.servableUntil) {
      this.lru?.clear();
      return undefined;
    }
    if (token.expiresAt * 1000 <= Date.now() || this.revoked.has(token.revocationIds)) {
      this.lru?.delete(key);
      return undefined;
    }
    return token;
  }

  /**
   * Remember a freshly validated token. With `generation` (read before validating), a token
   * whose validation straddled a reset is not kept.
   */
  set(key: string, token: ValidatedToken, generation = this.epoch): void {
    if (!this.lru || this.lost || generation !== this.epoch) return;
    this.lru.set(key, token);
  }

  /** Take note of a revocation or a reset (from the token store's listener). */
  revoke(event: RevocationEvent): void {
    if (event.reset !== undefined) this.reset(event.reset);
    this.revoked.note(event);
  }

  /** Forget everything, e.g. after missing revocation messages. */
  clear(): void {
    this.lru?.clear();
  }

  private reset(kind: 'lost' | 'restored'): void {
    this.epoch++;
    if (kind === 'restored') {
      this.lost = false;
      this.clear();
    } else if (!this.lost) {
      this.lost = true;
      this.servableUntil = Date.now() + this.staleMs;
      if (this.staleMs === 0) this.clear();
    }
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.lru?.size ?? 0;
  }
}
