/**
 * Fetching a client's `jwks_uri` (RFC 7591 §2, RFC 7523 §3): through the server's SSRF-safe
 * outbound fetch (`src/http/outbound-fetch.ts`), so a client cannot aim the server at itself or
 * its network. That fetch checks addresses where DNS answers and again on the connected socket
 * (no DNS rebinding), follows no redirect, and bounds the time and size of the answer; here
 * only the JWK Set's own rules are added: a 200 with a JSON body.
 * @packageDocumentation
 */
import { OutboundFetchError, type OutboundFetch } from '../http/outbound-fetch';
import type { JwksFetcher } from './client-keys';

/** The default {@link JwksFetcher}: `fetch` (the SSRF-safe outbound fetch), JSON only. */
export function outboundJwksFetcher(fetch: OutboundFetch): JwksFetcher {
  return async (uri) => {
    const res = await fetch(uri, { accept: 'application/jwk-set+json, application/json' });
    if (res.status !== 200) throw new OutboundFetchError(`jwks_uri answered ${res.status}`);
    try {
      return JSON.parse(res.body) as unknown;
    } catch {
      throw new OutboundFetchError('jwks_uri did not answer JSON');
    }
  };
}
