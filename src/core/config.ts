/**
 * Configuration errors and the one set of checkers every option goes through, at start-up
 * only (never on the request path). Each failure is a {@link TokengateConfigError} with a
 * stable `code` a caller can match on, and a message that names the option and says what to
 * change. `docs/configuration-errors.md` lists every code.
 * @packageDocumentation
 */

/**
 * Every configuration error code, with what to change. Codes are stable: new ones may be
 * added, none is renamed or reused.
 */
export const CONFIG_ERROR_CODES = Object.freeze({
  ERR_TOKENGATE_OPTIONS_REQUIRED:
    'Pass an options object (for oauthServer at least { issuer }; for requireToken { issuer, audience }).',
  ERR_TOKENGATE_UNKNOWN_OPTION: 'Remove the option or fix its spelling; the message suggests the nearest known name.',
  ERR_TOKENGATE_ISSUER_REQUIRED: 'Set issuer to the URL of the authorization server, e.g. "https://auth.example.com".',
  ERR_TOKENGATE_URL_INVALID: 'Give an absolute URL such as "https://auth.example.com".',
  ERR_TOKENGATE_ISSUER_HTTPS:
    'Use an https URL; http is allowed only for localhost, 127.0.0.1 and [::1] (RFC 8414 §2).',
  ERR_TOKENGATE_ISSUER_FORM:
    'Remove the query and fragment from the issuer, and use printable ASCII (punycode for an international domain name).',
  ERR_TOKENGATE_NUMBER: 'Give a number in the range the message states (whole numbers where it says so).',
  ERR_TOKENGATE_PATH:
    'Give a path that starts with "/", without query, fragment or spaces, not under /.well-known/, and different from every other endpoint path.',
  ERR_TOKENGATE_REALM: 'Use printable ASCII without double quotes or backslashes for realm.',
  ERR_TOKENGATE_CHOICE: 'Use one of the values the message lists.',
  ERR_TOKENGATE_TYPE: 'Give a value of the type the message states (object, function, boolean, string or array).',
  ERR_TOKENGATE_LOGGER: 'Give a logger with warn(message, detail) and error(message, detail) methods (console fits).',
  ERR_TOKENGATE_KEY:
    'Fix the signing key as the message says: alg, key type and size, privateKey/publicKey/secret, unique kid.',
  ERR_TOKENGATE_NO_SIGNING_KEY:
    'Put a key with a privateKey (or an HS256 secret) in options.keys; verify-only keys cannot sign.',
  ERR_TOKENGATE_SCOPE:
    'Use scope tokens of RFC 6749 §3.3: printable ASCII without spaces, double quotes or backslashes.',
  ERR_TOKENGATE_CORS_ORIGIN:
    'List origins as scheme, host and optional port, without path or trailing slash, e.g. "https://app.example.com".',
  ERR_TOKENGATE_LIMITER:
    'Give a rate-limiter-flexible limiter (or a rule { points, duration, blockDuration }), or false to turn the limit off.',
  ERR_TOKENGATE_STORE:
    'Pass a store that implements the interface the message names (see memoryStores() and the store interfaces).',
  ERR_TOKENGATE_CLIENT: 'Fix the client registration as the message says (unique id, redirect URIs for the code flow).',
  ERR_TOKENGATE_USER: 'Fix the user list as the message says (unique ids and usernames).',
  ERR_TOKENGATE_STORE_OPTION:
    'Fix the store adapter option the message names (a pg Pool, an ioredis client, a prefix or channel name).',
  ERR_TOKENGATE_CONFLICT: 'Give only one of the options the message names.',
  ERR_TOKENGATE_RESOURCE:
    'Give resource URIs that are absolute and have no fragment (RFC 8707 §2), and guard only resources listed in options.resources.',
  ERR_TOKENGATE_REGISTRATION:
    'Say who may register (open, initialAccessToken of at least 16 characters, or policy), and give a client store with registerClient, updateClient and deleteClient.',
  ERR_TOKENGATE_OPENID: 'Fix options.openid as the message says (see docs/openid-connect.md).',
  ERR_TOKENGATE_CLIENT_ASSERTIONS:
    'Fix options.clientAssertions as the message says: asymmetric algorithms, seconds in range, fetchJwks a function (see docs/client-authentication.md).',
  ERR_TOKENGATE_RENAMED_OPTION:
    'Use the option under the new name the message gives; every duration is now in seconds (fractions allowed), so divide a former milliseconds value by 1000.',
  ERR_TOKENGATE_DPOP:
    'Fix options.dpop as the message says: asymmetric algorithms, seconds in range, a nonce secret of 32 bytes or more, origins such as "https://api.example.com" (see docs/dpop.md).',
});

/** A configuration error code: one of {@link CONFIG_ERROR_CODES}. */
export type ConfigErrorCode = keyof typeof CONFIG_ERROR_CODES;

/**
 * A configuration error, thrown at start-up by `oauthServer`, `requireToken` and the store
 * factories. Match on `code`, not on the message.
 *
 * @example
 * ```ts
 * try {
 *   oauthServer(stores, { issuer: 'http://auth.example.com' });
 * } catch (err) {
 *   if (err instanceof TokengateConfigError && err.code === 'ERR_TOKENGATE_ISSUER_HTTPS') ...
 * }
 * ```
 */
export class TokengateConfigError extends Error {
  /** The stable code, e.g. `ERR_TOKENGATE_ISSUER_HTTPS`. */
  readonly code: ConfigErrorCode;

  /**
   * @param code - one of {@link CONFIG_ERROR_CODES}
   * @param message - what is wrong and what to change, starting with the function it came from
   */
  constructor(code: ConfigErrorCode, message: string) {
    super(message);
    this.name = 'TokengateConfigError';
    this.code = code;
  }
}

/** Whether `value` is a {@link TokengateConfigError}. */
export function isConfigError(value: unknown): value is TokengateConfigError {
  return value instanceof TokengateConfigError;
}

/** Throw a {@link TokengateConfigError}. */
export function configError(code: ConfigErrorCode, message: string): never {
  throw new TokengateConfigError(code, message);
}

/** How a number option is bounded. */
export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest allowed value (inclusive). Default 0. */
  min?: number;
  /** `min` itself is not allowed (a positive number when `min` is 0). */
  exclusiveMin?: boolean;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** What the number counts, for the message: `'seconds'`, `'milliseconds'`. */
  unit?: string;
}

function describeRule(rule: NumberRule): string {
  const unit = rule.unit ? ` of ${rule.unit}` : '';
  const min = rule.min ?? 0;
  const kind = rule.integer ? 'whole number' : 'number';
  if (rule.max !== undefined) return `a ${kind}${unit} between ${min} and ${rule.max}`;
  if (min === 0 && rule.exclusiveMin) return `a positive ${kind}${unit}`;
  if (min === 1 && rule.integer) return `a positive whole number${unit}`;
  return rule.integer ? `a whole number${unit}, ${min} or more` : `a number ≥ ${min}${unit}`;
}

/**
 * A number option: `fallback` when absent, else checked against `rule`.
 *
 * @param at - the option's full name for the message, e.g. `oauthServer: options.accessTokenLifetime`
 */
export function checkNumber(at: string, value: unknown, fallback: number, rule: NumberRule): number {
  if (value === undefined) return fallback;
  const min = rule.min ?? 0;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.exclusiveMin ? value > min : value >= min) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) configError('ERR_TOKENGATE_NUMBER', `${at} must be ${describeRule(rule)} (got ${String(value)}).`);
  return value as number;
}

/** Whether a URL's host is the local machine (where plain http is allowed). */
export function isLocalhost(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

/**
 * An https URL (http only for localhost), as an issuer, a JWKS URI or an endpoint must be.
 * With `issuer`, also printable ASCII without quotes and no query or fragment (RFC 8414 §2).
 */
export function checkHttpsUrl(at: string, value: unknown, options: { issuer?: boolean; rfc?: string } = {}): string {
  if (typeof value !== 'string') {
    if (options.issuer)
      configError('ERR_TOKENGATE_ISSUER_REQUIRED', `${at} is required, e.g. "https://auth.example.com".`);
    configError('ERR_TOKENGATE_URL_INVALID', `${at} must be an absolute URL such as "https://auth.example.com".`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    configError(
      'ERR_TOKENGATE_URL_INVALID',
      `${at} must be an absolute URL such as "https://auth.example.com" (got "${value}").`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalhost(url))) {
    configError(
      'ERR_TOKENGATE_ISSUER_HTTPS',
      `${at} must use https${options.rfc ? ` (${options.rfc})` : ''}; http is allowed only for localhost (got "${value}").`,
    );
  }
  if (options.issuer) {
    if (!/^[\x21-\x7e]+$/.test(value) || /["\\]/.test(value)) {
      configError(
        'ERR_TOKENGATE_ISSUER_FORM',
        `${at} must be printable ASCII without quotes (use punycode for an international domain name; got "${value}").`,
      );
    }
    if (url.search || url.hash || value.includes('#') || value.includes('?')) {
      configError('ERR_TOKENGATE_ISSUER_FORM', `${at} must not have a query or fragment (got "${value}").`);
    }
  }
  return value;
}

/**
 * A duration option in seconds (fractions allowed: `0.25`), returned as the whole milliseconds
 * a timer takes (at least 1); `fallbackSeconds` when absent. Every duration option is in
 * seconds, so none says its unit in its name.
 */
export function checkSecondsAsMs(
  at: string,
  value: unknown,
  fallbackSeconds: number,
  rule: { max?: number } = {},
): number {
  const seconds = checkNumber(at, value, fallbackSeconds, { exclusiveMin: true, unit: 'seconds', ...rule });
  return Math.max(1, Math.round(seconds * 1000));
}

/** An option that was renamed, and by how much its former unit divides into seconds (1000 for milliseconds). */
export interface RenamedOption {
  readonly from: string;
  readonly to: string;
  readonly per?: number;
}

/**
 * Refuse options under a former name, naming the new one and, when the unit changed, the
 * value to give it. Checked before {@link checkKnownKeys}, whose "did you mean" would not
 * say that the unit changed too. A refusal rather than a shim: the old name kept working
 * would hide that its number now means something else.
 *
 * @param at - the object's full name, e.g. `redisTokenStore: options`
 */
export function checkRenamed(at: string, value: object, renamed: readonly RenamedOption[]): void {
  for (const { from, to, per } of renamed) {
    if (!Object.prototype.hasOwnProperty.call(value, from)) continue;
    const old = (value as Record<string, unknown>)[from];
    const converted =
      per !== undefined && typeof old === 'number' && Number.isFinite(old)
        ? ` in seconds: ${from}: ${old} is ${to}: ${old / per}`
        : '';
    configError('ERR_TOKENGATE_RENAMED_OPTION', `${at}.${from} is now ${at.replace(/^.*: /, '')}.${to}${converted}.`);
  }
}

/** A logger option: anything with `warn` and `error` methods. */
export function checkLogger<L extends { warn: unknown; error: unknown }>(at: string, logger: L): L {
  if (!logger || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    configError('ERR_TOKENGATE_LOGGER', `${at} must have warn() and error() methods.`);
  }
  return logger;
}

/** A function option (a callback or factory); `fallback` when absent. */
export function checkFunction<F>(at: string, value: unknown, fallback: F, shape: string): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') configError('ERR_TOKENGATE_TYPE', `${at} must be a function ${shape}.`);
  return value as F;
}

/** An object option (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The edit distance between two names (Levenshtein), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known name nearest to `name`, if it is near enough to be a likely typo. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 4)) ? best : undefined;
}

/**
 * Refuse keys that are not options. Every option of this library is security-relevant, so a
 * misspelt one (`bruteforce: false`, `pkce: { requireForall: true }`) must not be silently
 * ignored: the server would run with a setting its operator believes is off or on. Hence
 * an error, not a warning, with the nearest known name.
 *
 * @param at - the object's full name, e.g. `oauthServer: options` or `oauthServer: options.pkce`
 */
export function checkKnownKeys(at: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = nearestName(key, known);
    const hint = near === undefined ? ` Known options: ${known.join(', ')}.` : ` Did you mean "${near}"?`;
    configError('ERR_TOKENGATE_UNKNOWN_OPTION', `${at} has no option "${key.slice(0, 60)}".${hint}`);
  }
}
