/**
 * The public keys of private_key_jwt clients: inline `jwks`, or `jwksUri` fetched through the
 * SSRF-safe outbound fetch, cached, and refetched (rate-limited) when an assertion names a key
 * id the cached set lacks, so a client can rotate its keys.
 * @packageDocumentation
 */
import { LRUCache } from 'lru-cache';
import type { Client } from '../stores/types';

/** A JWK as a client publishes it. */
export type PublicJwk = Readonly<Record<string, unknown>>;

/** Fetches a client's JWK Set document; rejects on any failure (network, status, size, SSRF refusal). */
export type JwksFetcher = (url: string) => Promise<unknown>;

/** Where the keys of a client come from. */
export interface ClientKeySource {
  /**
   * The client's keys. `refresh`: the cached set did not have the key an assertion names, so
   * fetch again (at most once per `minRefetchMs` per URI). Rejects when a `jwksUri` cannot be
   * fetched and nothing is cached.
   */
  keysOf(client: Client, refresh: boolean): Promise<readonly PublicJwk[]>;
}

interface Entry {
  keys: readonly PublicJwk[];
  fetchedAt: number;
}

function keysIn(document: unknown): readonly PublicJwk[] {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('the document is not a JWK Set (RFC 7517 §5): no "keys" array');
  return Object.freeze(keys.filter((k): k is PublicJwk => k !== null && typeof k === 'object' && !Array.isArray(k)));
}

/**
 * A key source over `fetcher`, caching each `jwksUri` for `maxAgeMs` (default 5 minutes) in a
 * bounded LRU; at most one refetch per URI per `minRefetchMs` (default 60 s), and concurrent
 * requests share one fetch.
 */
export function clientKeySource(
  fetcher: JwksFetcher,
  options: { maxAgeMs?: number; minRefetchMs?: number; max?: number } = {},
): ClientKeySource {
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const minRefetchMs = options.minRefetchMs ?? 60_000;
  const cache = new LRUCache<string, Entry>({ max: options.max ?? 1000 });
  const inFlight = new Map<string, Promise<Entry>>();

  function fetchKeys(uri: string): Promise<Entry> {
    let pending = inFlight.get(uri);
    if (pending === undefined) {
      pending = fetcher(uri)
        .then((document) => {
          const entry = { keys: keysIn(document), fetchedAt: Date.now() };
          cache.set(uri, entry);
          return entry;
        })
        .finally(() => inFlight.delete(uri));
      inFlight.set(uri, pending);
    }
    return pending;
  }

  return {
    async keysOf(client, refresh) {
      if (client.jwks !== undefined) return keysIn(client.jwks);
      const uri = client.jwksUri;
      if (uri === undefined) return [];
      const cached = cache.get(uri);
      const age = cached === undefined ? Infinity : Date.now() - cached.fetchedAt;
      if (cached !== undefined && age < maxAgeMs && !(refresh && age >= minRefetchMs)) return cached.keys;
      try {
        return (await fetchKeys(uri)).keys;
      } catch (err) {
        // A stale set beats none while the client's server is down; without one, the caller fails.
        if (cached !== undefined) return cached.keys;
        throw err;
      }
    },
  };
}
