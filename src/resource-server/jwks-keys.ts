/**
 * Public keys from the issuer's JWK Set, through `jwks-rsa`: keys are cached per `kid`, an
 * unknown `kid` triggers a refetch (that is how a rotated-in key is found), and refetches are
 * rate-limited so a flood of made-up `kid`s cannot turn into a flood of requests to the issuer.
 * @packageDocumentation
 */
import jwksRsa from 'jwks-rsa';
import { InvalidToken } from '../core/errors';
import type { Logger } from '../core/logging';
import { fetchJson, type IssuerDiscovery } from './discovery';
import type { KeySource } from './jwt-validator';

/** Where the keys come from and how often they may be fetched. */
export interface JwksKeySourceConfig {
  /** The JWKS URL; when absent, the `jwks_uri` of the issuer's metadata. */
  jwksUri: string | undefined;
  discovery: IssuerDiscovery;
  timeoutMs: number;
  /** How long a fetched key is trusted without refetching (ms). */
  cacheMaxAgeMs: number;
  /** Most JWKS fetches per minute, whatever the number of unknown `kid`s. */
  requestsPerMinute: number;
  logger: Logger;
}

const UNAVAILABLE = 'The access token cannot be verified right now.';

/** A key source backed by the issuer's JWKS. */
export function jwksKeySource(config: JwksKeySourceConfig): KeySource {
  const { discovery, timeoutMs, logger } = config;
  const where = config.jwksUri ?? `the jwks_uri of ${discovery.url}`;

  // With no jwks_uri configured, discovery runs inside the fetch, so it shares the cache and
  // the rate limit; a JWKS that stops answering sends us back to the metadata next time.
  async function discoverAndFetch(): Promise<{ keys: unknown }> {
    const metadata = await discovery.get();
    if (typeof metadata.jwks_uri !== 'string') throw new Error(`${discovery.url} has no jwks_uri.`);
    try {
      const { status, body } = await fetchJson(metadata.jwks_uri, { timeoutMs });
      if (status !== 200) throw new Error(`${metadata.jwks_uri} answered ${status}.`);
      return body as { keys: unknown };
    } catch (err) {
      discovery.invalidate();
      throw err;
    }
  }

  const client = new jwksRsa.JwksClient({
    ...(config.jwksUri !== undefined ? { jwksUri: config.jwksUri } : { fetcher: discoverAndFetch }),
    cache: true,
    cacheMaxEntries: 16,
    cacheMaxAge: config.cacheMaxAgeMs,
    rateLimit: true,
    jwksRequestsPerMinute: config.requestsPerMinute,
    timeout: timeoutMs,
  });

  // A flood of unknown kids hits the rate limit on every request; say so once a minute, not each time.
  let rateLimitLoggedAt = 0;

  return async function jwksKey(kid, alg) {
    let signingKey: jwksRsa.SigningKey;
    try {
      signingKey = await client.getSigningKey(kid);
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'SigningKeyNotFoundError') {
        logger.warn(`requireToken: a token names key id ${JSON.stringify(kid ?? null)}, which ${where} does not publish; answered 401.`);
        throw new InvalidToken('The access token was not signed by a key of the issuer.');
      }
      if (name === 'JwksRateLimitError') {
        if (Date.now() - rateLimitLoggedAt > 60_000) {
          rateLimitLoggedAt = Date.now();
          logger.warn(`requireToken: JWKS refetch rate limit (${config.requestsPerMinute}/min) reached for ${where}; tokens with an unknown key id get 401 until it recovers.`);
        }
        throw new InvalidToken(UNAVAILABLE);
      }
      logger.error(`requireToken: could not fetch the signing keys from ${where}; answered 401 invalid_token.`, err);
      throw new InvalidToken(UNAVAILABLE);
    }
    // A published alg pins the key to it (RFC 7517 §4.4); without one, jsonwebtoken still
    // refuses an alg that does not fit the key's type.
    if (signingKey.alg !== undefined && signingKey.alg !== alg) throw new InvalidToken('The access token was not signed by the issuer.');
    return signingKey.getPublicKey();
  };
}
