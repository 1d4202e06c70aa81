/**
 * Public keys from the issuer's JWK Set, cached with stale-while-revalidate so that traffic
 * nobody authenticated can never stop a resource server from verifying real tokens:
 *
 * - a key the resource server knows is always served from memory, even past its cache age;
 *   an old set only triggers a refresh in the background (one at a time, retried at most once
 *   per interval while the issuer fails), and is replaced only by a set that parsed;
 * - a token naming an unknown `kid` (how a rotated-in key is found) makes the resource server
 *   refetch at most once per interval (`60 / requestsPerMinute` seconds); unknown `kid`s
 *   arriving while a fetch is in flight wait for that fetch instead of starting another;
 * - once the set is older than its cache age, the next request of any kind refreshes it, so a
 *   flood of made-up `kid`s delays learning a new key by at most one interval, never longer.
 *
 * Fetches go through the bounded {@link fetchJson} (timeout, size limit, no redirects).
 * @packageDocumentation
 */
import type { KeyObject } from 'node:crypto';
import { InvalidToken } from '../core/errors';
import type { Logger } from '../core/logging';
import { fetchJson, type IssuerDiscovery } from './discovery';
import { findKey, parseKeySet, type KeySet } from './jwk-set';
import type { KeySource } from './jwt-validator';

/** Where the keys come from and how often they may be fetched. */
export interface JwksKeySourceConfig {
  /** The JWKS URL; when absent, the `jwks_uri` of the issuer's metadata. */
  jwksUri: string | undefined;
  discovery: IssuerDiscovery;
  timeoutMs: number;
  /** How long a fetched set is fresh (ms); after that it is still used, and refreshed. */
  cacheMaxAgeMs: number;
  /** Most refetches per minute caused by unknown `kid`s (and retries after a failure). */
  requestsPerMinute: number;
  logger: Logger;
  /** The clock (ms), for tests. Default `Date.now`. */
  now?: () => number;
}

const UNAVAILABLE = 'The access token cannot be verified right now.';
const NOT_OURS = 'The access token was not signed by a key of the issuer.';

/** A JWKS URL must be https, or http on a loopback host (development). */
function checkJwksUri(uri: string, source: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`${source} names jwks_uri ${JSON.stringify(uri)}, which is not a URL.`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new Error(`${source} names jwks_uri ${JSON.stringify(uri)}, which is not https.`);
  return uri;
}

/** A key source backed by the issuer's JWKS. */
export function jwksKeySource(config: JwksKeySourceConfig): KeySource {
  const { discovery, timeoutMs, logger, cacheMaxAgeMs } = config;
  const now = config.now ?? Date.now;
  const intervalMs = 60_000 / config.requestsPerMinute;
  const where = config.jwksUri ?? `the jwks_uri of ${discovery.url}`;

  let set: KeySet | undefined;
  let fetchedAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  /** When the last refetch caused by an unknown kid (of a set still fresh) started. */
  let unknownAt = -Infinity;
  /** When the last failed fetch started: the next try waits an interval. */
  let failedAt = -Infinity;
  let limitLoggedAt = -Infinity;
  let unknownLoggedAt = -Infinity;

  async function download(): Promise<unknown> {
    if (config.jwksUri !== undefined) {
      const { status, body } = await fetchJson(config.jwksUri, { timeoutMs });
      if (status !== 200) throw new Error(`${config.jwksUri} answered ${status}.`);
      return body;
    }
    // With no jwks_uri configured, a JWKS that stops answering sends us back to the metadata.
    const metadata = await discovery.get();
    try {
      if (typeof metadata.jwks_uri !== 'string') throw new Error(`${discovery.url} has no jwks_uri.`);
      const uri = checkJwksUri(metadata.jwks_uri, discovery.url);
      const { status, body } = await fetchJson(uri, { timeoutMs });
      if (status !== 200) throw new Error(`${uri} answered ${status}.`);
      return body;
    } catch (err) {
      discovery.invalidate();
      throw err;
    }
  }

  /** Fetch the set (joining a fetch in flight). Never rejects: a failure is logged and the old set kept. */
  function refresh(): Promise<void> {
    if (inFlight === undefined) {
      const startedAt = now();
      inFlight = (async () => {
        try {
          set = parseKeySet(await download(), where);
          fetchedAt = startedAt;
        } catch (err) {
          failedAt = startedAt;
          const kept = set === undefined ? 'no keys yet' : 'the keys fetched before stay in use';
          logger.error(
            `requireToken: could not fetch the signing keys from ${where} (${kept}); next try in ${Math.ceil(intervalMs / 1000)} s.`,
            err,
          );
        } finally {
          inFlight = undefined;
        }
      })();
    }
    return inFlight;
  }

  const since = (at: number): number => now() - at;

  /** Refuse an unknown kid without a fetch; say so once a minute, not on every request of a flood. */
  function refuseUnfetched(): never {
    if (since(limitLoggedAt) >= 60_000) {
      limitLoggedAt = now();
      logger.warn(
        `requireToken: JWKS refetch rate limit (${config.requestsPerMinute}/min) reached for ${where}; tokens with an unknown key id get 401 until the next refetch.`,
      );
    }
    throw new InvalidToken(set === undefined ? UNAVAILABLE : NOT_OURS);
  }

  function lookup(kid: string | undefined, alg: string): KeyObject | undefined {
    if (set === undefined) return undefined;
    const key = findKey(set, kid, alg);
    if (key !== undefined) return key.key;
    const knownKid = kid === undefined ? set.all.length === 1 : set.byKid.has(kid);
    // A published alg pins the key to it (RFC 7517 §4.4): a known kid with another alg is no reason to refetch.
    if (knownKid) throw new InvalidToken('The access token was not signed by the issuer.');
    return undefined;
  }

  return async function jwksKey(kid, alg) {
    const stale = since(fetchedAt) >= cacheMaxAgeMs;
    const retryAllowed = since(failedAt) >= intervalMs;
    const known = lookup(kid, alg);
    if (known !== undefined) {
      // Stale-while-revalidate: answer now with the known key; refresh for the next requests.
      if (stale && retryAllowed) void refresh();
      return known;
    }
    if (inFlight === undefined) {
      // A due set is refreshed whoever asks; a fresh one only once per interval for unknown kids.
      if (!retryAllowed || (!stale && since(unknownAt) < intervalMs)) refuseUnfetched();
      if (!stale) unknownAt = now();
    }
    await refresh();
    if (set === undefined) throw new InvalidToken(UNAVAILABLE);
    const found = lookup(kid, alg);
    if (found !== undefined) return found;
    // Once a minute at most: concurrent made-up kids all wait for the same fetch.
    if (since(unknownLoggedAt) >= 60_000) {
      unknownLoggedAt = now();
      logger.warn(
        `requireToken: a token names key id ${JSON.stringify(kid ?? null)}, which ${where} does not publish; answered 401.`,
      );
    }
    throw new InvalidToken(NOT_OURS);
  };
}
