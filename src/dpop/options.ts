/**
 * DPoP options (RFC 9449), shared by `oauthServer` and the standalone `requireToken`, checked
 * once at start-up.
 * @packageDocumentation
 */
import { KeyObject } from 'node:crypto';
import { TokengateConfigError } from '../core/config';
import { ASYMMETRIC_JWS_ALGORITHMS, type AsymmetricJwsAlgorithm } from '../jose/jws';
import { NonceSource } from './nonce';

/** The `alg`s accepted in DPoP proofs by default: the common asymmetric ones. */
export const DEFAULT_DPOP_ALGORITHMS: readonly AsymmetricJwsAlgorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'PS256',
  'EdDSA',
];

/**
 * DPoP (RFC 9449) settings. Proofs are always accepted; these options tune how they are checked.
 *
 * @example
 * ```ts
 * oauthServer(stores, {
 *   issuer: 'https://auth.example.com',
 *   dpop: { nonce: { secret: process.env.DPOP_NONCE_SECRET }, origin: ['https://api.example.com'] },
 * });
 * ```
 */
export interface DpopOptions {
  /** Accepted proof algorithms (asymmetric only). Default ES256, ES384, ES512, RS256, PS256, EdDSA. */
  algorithms?: AsymmetricJwsAlgorithm[];
  /** Seconds a proof is accepted after its `iat` (RFC 9449 §11.1). Default 60, at most 600. */
  proofLifetime?: number;
  /** Seconds a proof's `iat` may be ahead of this server's clock. Default 5. */
  clockTolerance?: number;
  /**
   * Require server-provided nonces (RFC 9449 §8, §9). `secret` (32 bytes or more) must be the
   * same on every instance: nonces are an HMAC of it and the time window, with no shared state.
   * Without a secret, a random one is used (one instance only). `lifetime`: seconds each nonce
   * is current (default 300; it is accepted for one more window).
   */
  nonce?: { secret?: string | Buffer | KeyObject; lifetime?: number };
  /**
   * Public origin(s) of the resources guarded by `requireToken` (`https://api.example.com`):
   * the proof's `htu` must be one of them plus the request path. Default: the issuer's origin
   * (for `oauthServer`) or the audience's origins (standalone `requireToken`). The `Host`
   * header is never trusted for this.
   */
  origin?: string | string[];
  /**
   * Also accept the origin a trusted reverse proxy reports (`X-Forwarded-Proto` and
   * `X-Forwarded-Host`), but only for a request Express's `trust proxy` setting says came
   * through a trusted proxy. Default false. Needs Express.
   */
  trustProxy?: boolean;
}

/** DPoP settings after validation. */
export interface ResolvedDpop {
  readonly algorithms: readonly AsymmetricJwsAlgorithm[];
  readonly proofLifetime: number;
  readonly clockTolerance: number;
  readonly nonce: NonceSource | undefined;
  readonly origins: ReadonlySet<string>;
  readonly trustProxy: boolean;
}

function fail(where: string, message: string): never {
  throw new TokengateConfigError('ERR_TOKENGATE_DPOP', `${where}: options.dpop.${message}`);
}

function checkOrigin(where: string, value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin === 'null') {
    fail(where, `origin must be origins such as "https://api.example.com" (got ${JSON.stringify(value)}).`);
  }
  return url.origin;
}

function seconds(where: string, name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
    fail(where, `${name} must be a number of seconds from 0 to ${max} (got ${String(value)}).`);
  return value;
}

/**
 * Validate DPoP options. `where` names the caller in messages; `defaultOrigins` are used when
 * `origin` is not given.
 */
export function resolveDpop(
  where: string,
  options: DpopOptions | undefined,
  defaultOrigins: readonly string[],
): ResolvedDpop {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) fail(where, 'must be an object such as { nonce: { secret } }.');
  const algorithms = o.algorithms ?? [...DEFAULT_DPOP_ALGORITHMS];
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    !algorithms.every((a) => (ASYMMETRIC_JWS_ALGORITHMS as readonly string[]).includes(a))
  ) {
    fail(
      where,
      `algorithms must be a non-empty list of ${ASYMMETRIC_JWS_ALGORITHMS.join(', ')} (DPoP keys are asymmetric, RFC 9449 §4.3).`,
    );
  }
  let nonce: NonceSource | undefined;
  if (o.nonce !== undefined) {
    const { secret, lifetime } = o.nonce ?? {};
    let key: Buffer | undefined;
    if (secret !== undefined) {
      key =
        secret instanceof KeyObject
          ? secret.export()
          : typeof secret === 'string' || Buffer.isBuffer(secret)
            ? Buffer.from(secret)
            : undefined;
      if (key === undefined || key.length < 32)
        fail(where, 'nonce.secret must be at least 32 bytes, the same on every instance.');
    }
    const window = seconds(where, 'nonce.lifetime', lifetime, 300, 86_400);
    if (window < 1) fail(where, 'nonce.lifetime must be at least 1 second.');
    nonce = new NonceSource(key, window);
  }
  const given = o.origin === undefined ? defaultOrigins : typeof o.origin === 'string' ? [o.origin] : o.origin;
  if (!Array.isArray(given)) fail(where, 'origin must be a string or an array of strings.');
  if (o.trustProxy !== undefined && typeof o.trustProxy !== 'boolean') fail(where, 'trustProxy must be true or false.');
  return Object.freeze({
    algorithms: Object.freeze([...new Set(algorithms)]),
    proofLifetime: seconds(where, 'proofLifetime', o.proofLifetime, 60, 600),
    clockTolerance: seconds(where, 'clockTolerance', o.clockTolerance, 5, 300),
    nonce,
    origins: new Set(given.map((g) => checkOrigin(where, g))),
    trustProxy: o.trustProxy === true,
  });
}
