/**
 * Options of JWT client authentication (private_key_jwt, client_secret_jwt), checked once.
 * @packageDocumentation
 */
import { TokengateConfigError } from '../core/config';
import { createOutboundFetch, type OutboundFetchOptions } from '../http/outbound-fetch';
import { ASYMMETRIC_JWS_ALGORITHMS, type AsymmetricJwsAlgorithm } from '../jose/jws';
import type { JwksFetcher } from './client-keys';
import { outboundJwksFetcher } from './jwks-fetch';

/**
 * How client assertions (RFC 7523) are checked.
 *
 * @example
 * ```ts
 * oauthServer(stores, { issuer, clientAssertions: { algorithms: ['ES256', 'PS256'], maxLifetime: 120 } });
 * ```
 */
export interface ClientAssertionOptions {
  /** Asymmetric algorithms accepted for private_key_jwt. Default ES256, ES384, ES512, RS256, PS256, EdDSA. */
  algorithms?: AsymmetricJwsAlgorithm[];
  /**
   * Longest accepted time (seconds) from now to an assertion's `exp`. Default 3600, the
   * default lifetime of common clients (Authlib); the `jti` is remembered that long, so an
   * assertion is still usable once only. Lower it if all your clients sign short-lived ones.
   */
  maxLifetime?: number;
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Default 5. */
  clockTolerance?: number;
  /**
   * Fetches a client's `jwksUri` document. Default: the SSRF-safe outbound fetch (https only,
   * public addresses only, checked after DNS and on the connected socket, no redirects, bounded
   * size and time), tuned by {@link ClientAssertionOptions.jwksFetchOptions}. Replace it only
   * when your egress needs its own client; the SSRF checks are then yours.
   */
  fetchJwks?: JwksFetcher;
  /**
   * Options of the default `jwksUri` fetch: an allow-list of URLs (`allow`), internal addresses
   * that may be reached after all (`allowAddress`), extra CAs (`ca`), `timeout` (seconds, default 5)
   * and `maxBytes` (default 65 536). Not with `fetchJwks`.
   *
   * @example Only the partners' hosts
   * ```ts
   * clientAssertions: { jwksFetchOptions: { allow: (url) => url.hostname.endsWith('.partner.example') } }
   * ```
   */
  jwksFetchOptions?: OutboundFetchOptions;
  /** Seconds a fetched `jwksUri` set is used before it is fetched again. Default 300. */
  jwksMaxAge?: number;
  /** Least seconds between two refetches of one `jwksUri` caused by an unknown key id (a rotation, or a flood of forged kids). Default 10. */
  jwksRefetchInterval?: number;
}

/** Checked assertion options. */
export interface ResolvedClientAssertions {
  readonly algorithms: readonly AsymmetricJwsAlgorithm[];
  readonly maxLifetime: number;
  readonly clockTolerance: number;
  /** The given `fetchJwks`, or the SSRF-safe outbound fetch built from `jwksFetchOptions`. */
  readonly fetchJwks: JwksFetcher;
  readonly jwksMaxAgeMs: number;
  readonly jwksRefetchIntervalMs: number;
}

const DEFAULT_ALGORITHMS: readonly AsymmetricJwsAlgorithm[] = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'];

function fail(message: string): never {
  throw new TokengateConfigError('ERR_TOKENGATE_CLIENT_ASSERTIONS', `oauthServer: options.clientAssertions.${message}`);
}

/** Validate `options.clientAssertions`. */
export function resolveClientAssertions(options: ClientAssertionOptions | undefined): ResolvedClientAssertions {
  const o = options ?? {};
  const algorithms = o.algorithms ?? [...DEFAULT_ALGORITHMS];
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((a) => (ASYMMETRIC_JWS_ALGORITHMS as readonly string[]).includes(a))
  ) {
    fail(
      `algorithms must be a non-empty list of ${ASYMMETRIC_JWS_ALGORITHMS.join(', ')} (client_secret_jwt's HS256 is chosen per client).`,
    );
  }
  const seconds = (name: string, value: unknown, fallback: number, max: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
      fail(`${name} must be a number of seconds from 0 to ${max} (got ${String(value)}).`);
    return value;
  };
  if (o.fetchJwks !== undefined && typeof o.fetchJwks !== 'function')
    fail('fetchJwks must be a function (url) => Promise<JWK Set>.');
  if (o.fetchJwks !== undefined && o.jwksFetchOptions !== undefined)
    fail('fetchJwks and jwksFetchOptions: give one, not both (jwksFetchOptions tunes the default fetch).');
  return Object.freeze({
    algorithms: Object.freeze([...new Set(algorithms)]),
    maxLifetime: seconds('maxLifetime', o.maxLifetime, 3600, 86_400),
    clockTolerance: seconds('clockTolerance', o.clockTolerance, 5, 300),
    fetchJwks: o.fetchJwks ?? outboundJwksFetcher(createOutboundFetch(o.jwksFetchOptions)),
    jwksMaxAgeMs: seconds('jwksMaxAge', o.jwksMaxAge, 300, 86_400) * 1000,
    jwksRefetchIntervalMs: seconds('jwksRefetchInterval', o.jwksRefetchInterval, 10, 3600) * 1000,
  });
}
