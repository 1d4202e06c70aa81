/**
 * `options.deviceAuthorization`: turns on the device authorization grant (RFC 8628).
 * @packageDocumentation
 */
import { checkFunction, checkKnownKeys, checkNumber, configError } from '../core/config';
import type { AttemptLimiter, LimiterConfig } from '../limits/brute-force';
import type { CreateLimiter, DeviceAttemptLimits } from './attempts';

/**
 * Options of the device authorization grant.
 *
 * @example
 * ```ts
 * deviceAuthorization: { verificationUri: '/device' } // the app's own page, see oauth.device
 * ```
 */
export interface DeviceAuthorizationOptions {
  /**
   * The app's verification page (RFC 8628 §3.2 `verification_uri`): an absolute URL, or a
   * path resolved against the issuer. The page uses `oauth.device` to look up, approve or deny.
   */
  verificationUri: string;
  /** Path of the device authorization endpoint, relative to the mount point. Default `/oauth/device_authorization`. */
  path?: string;
  /** Seconds a device code and user code live. Default 600, at most 1800. */
  lifetime?: number;
  /** The minimum polling interval in seconds (§3.2 `interval`). Default 5. */
  interval?: number;
  /** Limits on wrong user codes at the verification page (§5.1). */
  attempts?: DeviceAttemptLimits;
  /**
   * Most device authorization requests one address may make per `lifetime`. Default 30. Each
   * pending request is held until it expires, so without a bound one address could fill the
   * store and refuse every other device.
   */
  requestsPerAddress?: number;
  /**
   * Builds the limiters of these counters (wrong user codes, requests per address), as
   * `bruteForce.createLimiter` does for the brute-force limits. Default: `bruteForce.createLimiter`
   * when given, else in memory (per instance). Give a store-backed limiter (`RateLimiterRedis`)
   * to share the counts between instances, so that N instances do not allow N times the guesses.
   */
  createLimiter?: (config: LimiterConfig) => AttemptLimiter;
}

/** The validated options. */
export interface ResolvedDeviceOptions {
  readonly verificationUri: string;
  readonly path: string;
  readonly lifetime: number;
  readonly interval: number;
  readonly attempts: Readonly<Required<DeviceAttemptLimits>>;
  readonly requestsPerAddress: number;
  /** `undefined`: `bruteForce.createLimiter`, else in memory. */
  readonly createLimiter: CreateLimiter | undefined;
}

const AT = 'oauthServer: options.deviceAuthorization';
const whole = (name: string, value: unknown, fallback: number, max: number): number =>
  checkNumber(`${AT}.${name}`, value, fallback, { integer: true, min: 1, max, unit: 'seconds or counts' });

/** Validate `options.deviceAuthorization` once, at start-up. */
export function resolveDeviceOptions(value: unknown, issuer: string): ResolvedDeviceOptions | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<DeviceAuthorizationOptions> | null;
  if (!v || typeof v !== 'object' || typeof v.verificationUri !== 'string') {
    configError(
      'ERR_TOKENGATE_TYPE',
      `${AT} must be { verificationUri, path?, lifetime?, interval?, attempts?, requestsPerAddress?, createLimiter? }, e.g. { verificationUri: '/device' }.`,
    );
  }
  let verificationUri: string;
  try {
    const base = issuer.endsWith('/') ? issuer : `${issuer}/`;
    const url = new URL(v.verificationUri.startsWith('/') ? v.verificationUri.slice(1) : v.verificationUri, base);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash) throw new Error('scheme');
    verificationUri = url.href;
  } catch {
    configError(
      'ERR_TOKENGATE_URL_INVALID',
      `${AT}.verificationUri must be an http(s) URL or a path (got ${JSON.stringify(v.verificationUri)}).`,
    );
  }
  const path = v.path ?? '/oauth/device_authorization';
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
    configError('ERR_TOKENGATE_PATH', `${AT}.path must be a path starting with "/" (got ${String(path)}).`);
  }
  checkKnownKeys(AT, v, [
    'verificationUri',
    'path',
    'lifetime',
    'interval',
    'attempts',
    'requestsPerAddress',
    'createLimiter',
  ]);
  const a = v.attempts ?? {};
  checkKnownKeys(`${AT}.attempts`, a, ['perAddress', 'overall', 'window']);
  return Object.freeze({
    verificationUri,
    path,
    lifetime: whole('lifetime', v.lifetime, 600, 1800),
    interval: whole('interval', v.interval, 5, 60),
    attempts: Object.freeze({
      perAddress: whole('attempts.perAddress', a.perAddress, 10, 1_000_000),
      overall: whole('attempts.overall', a.overall, 1000, 1_000_000),
      window: whole('attempts.window', a.window, 600, 1_000_000),
    }),
    requestsPerAddress: whole('requestsPerAddress', v.requestsPerAddress, 30, 1_000_000),
    createLimiter: checkFunction<CreateLimiter | undefined>(
      `${AT}.createLimiter`,
      v.createLimiter,
      undefined,
      '(config) => limiter',
    ),
  });
}
