/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a `client_id`
 * that is an https URL names a JSON document of client metadata, fetched (SSRF-safe, see
 * `src/http/outbound-fetch.ts`), validated and cached, instead of a registration.
 * @packageDocumentation
 */
import { LRUCache } from 'lru-cache';
import { nowSeconds } from '../core/clock';
import { checkRenamed, configError } from '../core/config';
import type { Logger } from '../core/logging';
import { createOutboundFetch, type OutboundFetch, type OutboundFetchOptions } from '../http/outbound-fetch';
import { validateMetadata } from '../registration/metadata';
import type { Client, ClientStore } from '../stores/types';

/** `options.clientIdMetadataDocuments`: `true` for the defaults, or these. */
export interface ClientIdMetadataDocumentOptions extends OutboundFetchOptions {
  /** Shortest time (seconds) a document, or a failure to get one, is kept, whatever its headers say. Default 60. */
  minCacheSeconds?: number;
  /** Longest time (seconds) a document is kept, whatever its headers say. Default 86 400. */
  maxCacheSeconds?: number;
  /** Most documents kept. Default 1000. */
  maxDocuments?: number;
}

/** Resolved options. */
export interface ResolvedMetadataDocuments {
  readonly fetch: OutboundFetch;
  readonly minMs: number;
  readonly maxMs: number;
  readonly max: number;
}

/** Validate the option once, at start-up; `undefined` when off. */
export function resolveMetadataDocuments(value: unknown): ResolvedMetadataDocuments | undefined {
  if (value === undefined || value === false) return undefined;
  const o = (value === true ? {} : value) as ClientIdMetadataDocumentOptions;
  if (!o || typeof o !== 'object')
    configError(
      'ERR_TOKENGATE_TYPE',
      'oauthServer: options.clientIdMetadataDocuments must be true or an options object.',
    );
  checkRenamed('oauthServer: options.clientIdMetadataDocuments', o, [{ from: 'timeoutMs', to: 'timeout', per: 1000 }]);
  const min = o.minCacheSeconds ?? 60;
  const max = o.maxCacheSeconds ?? 86_400;
  const count = o.maxDocuments ?? 1000;
  if (!(min >= 0) || !(max >= min) || !Number.isInteger(count) || count <= 0) {
    configError(
      'ERR_TOKENGATE_NUMBER',
      'oauthServer: options.clientIdMetadataDocuments: need 0 <= minCacheSeconds <= maxCacheSeconds and a positive whole maxDocuments.',
    );
  }
  return Object.freeze({ fetch: createOutboundFetch(o), minMs: min * 1000, maxMs: max * 1000, max: count });
}

/**
 * Whether `id` may be a client ID metadata document URL: https, with a path, without
 * fragment, credentials or dot segments (draft §3).
 */
export function isMetadataDocumentUrl(id: string): boolean {
  if (!id.startsWith('https://') || id.length > 2048 || !/^[\x21-\x7e]+$/.test(id) || id.includes('#')) return false;
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return false;
  }
  if (url.username || url.password || url.pathname === '/' || url.href !== id) return false;
  return !id
    .split('?')[0]!
    .split('/')
    .some((segment) => segment === '.' || segment === '..');
}

/** Seconds a response may be cached for, from `Cache-Control` (max-age, no-store, no-cache). */
function freshness(headers: Readonly<Record<string, string | undefined>>): number {
  const cc = (headers['cache-control'] ?? '').toLowerCase();
  if (/\b(no-store|no-cache)\b/.test(cc)) return 0;
  const maxAge = /\bmax-age=(\d+)/.exec(cc);
  return maxAge ? Number(maxAge[1]) : 0;
}

/**
 * A client store that also answers for client ID metadata document URLs. Everything else
 * (and every write) goes to `inner`. A document that cannot be fetched or does not validate
 * makes the client unknown; why is logged.
 */
export function withMetadataDocuments(
  inner: ClientStore,
  docs: ResolvedMetadataDocuments,
  scopes: readonly string[],
  logger: Logger,
): ClientStore {
  // Documents and failures alike, so a bad URL is not fetched again on every request.
  const cache = new LRUCache<string, { client: Client | undefined }>({ max: docs.max, ttlAutopurge: false });
  const inflight = new Map<string, Promise<Client | undefined>>();

  async function load(url: string): Promise<Client | undefined> {
    let ttlMs = docs.minMs;
    let client: Client | undefined;
    try {
      const res = await docs.fetch(url, { accept: 'application/json' });
      if (res.status !== 200) throw new Error(`answered ${res.status}`);
      ttlMs = Math.min(docs.maxMs, Math.max(docs.minMs, freshness(res.headers) * 1000));
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        throw new Error('is not JSON');
      }
      const doc = body as Record<string, unknown>;
      if (!doc || typeof doc !== 'object' || doc.client_id !== url)
        throw new Error('does not name itself as client_id');
      // No shared secret can be in a public document: the client is public.
      const method = doc.token_endpoint_auth_method ?? 'none';
      if (method !== 'none') throw new Error('asks for a token endpoint auth method other than none');
      const valid = validateMetadata({ ...doc, token_endpoint_auth_method: 'none' }, { scopes });
      client = {
        id: url,
        grants: valid.grants,
        scopes: valid.scopes,
        redirectUris: valid.metadata.redirect_uris,
        registration: { metadata: valid.metadata, issuedAt: nowSeconds() },
      };
    } catch (err) {
      logger.warn(`client ID metadata document ${url} was not usable: ${(err as Error).message}`);
    }
    cache.set(url, { client }, { ttl: Math.max(1, ttlMs) });
    return client;
  }

  const store: ClientStore = {
    async findClient(clientId) {
      if (!isMetadataDocumentUrl(clientId)) return inner.findClient(clientId);
      const hit = cache.get(clientId);
      if (hit !== undefined) return hit.client;
      let pending = inflight.get(clientId);
      if (pending === undefined) {
        // Bounded like the cache: concurrent fetches of distinct URLs beyond it wait for none.
        if (inflight.size >= docs.max) return undefined;
        pending = load(clientId).finally(() => inflight.delete(clientId));
        inflight.set(clientId, pending);
      }
      return pending;
    },
  };
  if (inner.registerClient) store.registerClient = inner.registerClient.bind(inner);
  if (inner.updateClient) store.updateClient = inner.updateClient.bind(inner);
  if (inner.deleteClient) store.deleteClient = inner.deleteClient.bind(inner);
  return store;
}
