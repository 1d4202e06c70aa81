/**
 * `requireToken()` for resource servers in other processes: the same guard, `req.auth` and
 * RFC 6750 behaviour as `oauth.requireToken()`, with tokens checked against the issuer over
 * HTTP (its JWKS or its introspection endpoint) or a shared HS256 secret instead of its stores.
 * @packageDocumentation
 */
import { KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { TokenValidator } from '../bearer/auth-info';
import { TokenCache } from '../bearer/cache';
import { createGuard, type GuardContext, type Middleware, type RequireTokenOptions } from '../bearer/require-token';
import {
  checkHttpsUrl,
  checkKnownKeys,
  checkLogger,
  checkNumber,
  checkRenamed,
  checkSecondsAsMs,
  configError,
  isPlainObject,
  TokengateConfigError,
  type ConfigErrorCode,
} from '../core/config';
import { InvalidToken } from '../core/errors';
import { consoleLogger, type Logger } from '../core/logging';
import { resolveDpop, type DpopOptions } from '../dpop/options';
import { buildResourceMetadata, resourceMetadataMiddleware, resourceMetadataUrl } from '../endpoints/resource-metadata';
import type { Request } from '../http/body';
import { isResourceUri } from '../resources/indicators';
import { memoryReplayStore } from '../stores/memory/replay';
import type { ReplayStore } from '../stores/types';
import { isJwt } from '../tokens/jwt';
import type { SigningAlgorithm } from '../tokens/keys';
import { IssuerDiscovery } from './discovery';
import { introspectionValidator } from './introspection-validator';
import { jwksKeySource } from './jwks-keys';
import { jwtValidator, secretKeySource } from './jwt-validator';

/** How a resource server calls the issuer's introspection endpoint (RFC 7662). */
export interface IntrospectionOptions {
  /** This resource server's client id at the issuer (a client registered with `resourceServer: true`). */
  clientId: string;
  /** Its client secret (sent with HTTP Basic). */
  clientSecret: string;
  /** The endpoint URL. Default: `introspection_endpoint` from the issuer's metadata. */
  endpoint?: string;
  /**
   * Longest time (seconds) an active answer is reused before asking again: the delay before
   * a revocation reaches this resource server. Default 30; 0 asks on every request.
   */
  maxStaleness?: number;
}

/**
 * Options of the standalone {@link requireToken}: how to reach the issuer, plus the
 * per-route options of `oauth.requireToken()` (`scope`, `allowBody`, `allowQuery`, `realm`, `requireDpop`).
 *
 * Which tokens go where: with `secret` or `jwksUri` (or neither option nor `introspection`),
 * JWTs are verified locally; with `introspection`, opaque tokens (and, when there is no
 * `jwksUri` or `secret`, every token) are introspected.
 */
export interface ResourceServerOptions extends RequireTokenOptions {
  /** The issuer identifier, exactly as the authorization server's `issuer` option. */
  issuer: string;
  /**
   * The audience this resource server accepts: the authorization server's `audience` option.
   * Default with `resource`: the resource URI (tokens requested for it, RFC 8707).
   */
  audience?: string | readonly string[];
  /** `resource_name` of the metadata served when `resource` is given (RFC 9728 §2). */
  resourceName?: string;
  /** `scopes_supported` of that metadata. Default: the guard's `scope`. */
  scopesSupported?: string[];
  /** The issuer's JWKS URL. Default: `jwks_uri` from the issuer's metadata (RFC 8414). */
  jwksUri?: string;
  /** The HS256 secret shared with the issuer, instead of a JWKS (at least 32 bytes). */
  secret?: string | Buffer | KeyObject;
  /** Check tokens at the issuer's introspection endpoint. */
  introspection?: IntrospectionOptions;
  /** Algorithms accepted from the JWKS. Default ES256, ES384, RS256, PS256 (never HS256 or `none`). */
  algorithms?: SigningAlgorithm[];
  /** Seconds of clock skew tolerated on `exp`. Default 0. */
  clockTolerance?: number;
  /**
   * Seconds (fractions allowed) each request to the issuer (metadata, JWKS, introspection) may
   * take. Default 5. (Formerly `timeout`, in milliseconds: refused under that name.)
   */
  issuerTimeout?: number;
  /**
   * JWKS caching, stale-while-revalidate: the key set is refreshed once it is `cacheMaxAge`
   * seconds old (default 600), and until a refresh succeeds the keys already known keep
   * verifying tokens. A token with an unknown `kid` causes at most one refetch per
   * `60 / requestsPerMinute` seconds (default 10 per minute: one per 6 s); a failed fetch is
   * retried after the same interval. Responses are limited to 256 KiB and `issuerTimeout`, and no
   * redirect is followed.
   */
  jwks?: { cacheMaxAge?: number; requestsPerMinute?: number };
  /** Most validated tokens kept in the LRU cache. Default 10 000; 0 turns it off. */
  cache?: { max?: number };
  /** Largest body read when `allowBody` is on. Default 16 384 bytes. */
  maxBodyBytes?: number;
  /** Where the causes of 401s from an unreachable issuer go. Default: `console`. */
  logger?: Logger;
  /**
   * DPoP-bound tokens (RFC 9449 §7): how proofs are checked. `origin` defaults to the origins of
   * the `audience` values that are URLs; `replay` (default in memory) must be shared
   * (`redisReplayStore`, `postgresReplayStore`) when several instances serve the API.
   */
  dpop?: DpopOptions & { replay?: ReplayStore };
}

/** The middleware {@link requireToken} returns. */
export interface ResourceGuard extends Middleware {
  /** Another guard with other route options (e.g. another scope), sharing this one's keys and cache. */
  with(options?: RequireTokenOptions): Middleware;
  /**
   * With the `resource` option: a middleware for the root of this host serving the resource's
   * RFC 9728 metadata at `/.well-known/oauth-protected-resource{path}`; every challenge of
   * this guard names it (§5.1). Without `resource`: passes every request on.
   */
  readonly metadata: (req: Request, res: ServerResponse, next: (err?: unknown) => void) => void;
  /** The metadata document's URL, with the `resource` option. */
  readonly metadataUrl: string | undefined;
}

const ASYMMETRIC: readonly SigningAlgorithm[] = ['ES256', 'ES384', 'RS256', 'PS256'];

const AT = 'requireToken: options';

/** Every key of {@link ResourceServerOptions}; anything else is refused at start-up. */
const OPTION_NAMES = [
  'issuer',
  'audience',
  'jwksUri',
  'secret',
  'algorithms',
  'introspection',
  'clockTolerance',
  'issuerTimeout',
  'jwks',
  'cache',
  'maxBodyBytes',
  'logger',
  'scope',
  'allowBody',
  'allowQuery',
  'realm',
  'resource',
  'resourceName',
  'scopesSupported',
  'requireDpop',
  'dpop',
] as const;
type Unlisted = Exclude<keyof ResourceServerOptions, (typeof OPTION_NAMES)[number]>;
const everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOptionListed;

function fail(code: ConfigErrorCode, message: string): never {
  throw new TokengateConfigError(code, `${AT}.${message}`);
}

const seconds = (name: string, value: unknown, fallback: number, allowZero = false): number =>
  checkNumber(`${AT}.${name}`, value, fallback, { exclusiveMin: !allowZero });

function checkAudience(audience: unknown): readonly string[] {
  if (typeof audience === 'string' && audience !== '') return [audience];
  if (Array.isArray(audience) && audience.length > 0 && audience.every((a) => typeof a === 'string' && a !== ''))
    return [...(audience as string[])];
  fail(
    'ERR_TOKENGATE_TYPE',
    'audience is required: the `audience` option of the authorization server (by default its issuer), or give `resource`.',
  );
}

function checkSecret(secret: ResourceServerOptions['secret']): void {
  const size =
    secret instanceof KeyObject
      ? (secret.symmetricKeySize ?? 0)
      : typeof secret === 'string' || Buffer.isBuffer(secret)
        ? Buffer.byteLength(secret)
        : -1;
  if (size < 0) fail('ERR_TOKENGATE_TYPE', 'secret must be a string, Buffer or secret KeyObject.');
  if (size < 32)
    fail('ERR_TOKENGATE_KEY', 'secret must be at least 32 bytes (the HS256 key of the authorization server).');
}

/**
 * A guard for an API in another process than the authorization server. It accepts what
 * `oauth.requireToken()` accepts, sets the same `req.auth`, and answers with the same
 * RFC 6750 challenges; when the issuer cannot be reached it answers 401 (never 500) and
 * logs why.
 *
 * @example
 * ```ts
 * import { getAuth, requireToken } from 'tokengate';
 *
 * // JWT access tokens, keys from the issuer's JWKS (found through its RFC 8414 metadata):
 * const auth = requireToken({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
 * app.get('/api/me', auth, (req, res) => res.json({ sub: getAuth(req).sub }));
 * app.post('/api/items', auth.with({ scope: 'write' }), createItem);
 *
 * // Opaque tokens (or seeing revocations within 30 s), through introspection:
 * const introspected = requireToken({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   introspection: { clientId: 'orders-api', clientSecret: process.env.ORDERS_API_SECRET! },
 * });
 * ```
 */
export function requireToken(options: ResourceServerOptions): ResourceGuard {
  if (!isPlainObject(options))
    configError(
      'ERR_TOKENGATE_OPTIONS_REQUIRED',
      'requireToken(options): options with at least { issuer, audience } are required.',
    );
  checkRenamed(AT, options, [{ from: 'timeout', to: 'issuerTimeout', per: 1000 }]);
  checkKnownKeys(AT, options, OPTION_NAMES);
  const issuer = checkHttpsUrl(`${AT}.issuer`, options.issuer, { issuer: true });
  const resource = options.resource;
  if (resource !== undefined && (typeof resource !== 'string' || !isResourceUri(resource)))
    fail(
      'ERR_TOKENGATE_RESOURCE',
      `resource must be an absolute URI without a fragment (RFC 8707 §2; got ${JSON.stringify(resource)}).`,
    );
  const audience = checkAudience(options.audience ?? resource);
  const logger = checkLogger(`${AT}.logger`, options.logger ?? consoleLogger);
  if (options.jwksUri !== undefined && options.secret !== undefined)
    fail('ERR_TOKENGATE_CONFLICT', 'jwksUri and options.secret: give jwksUri or secret, not both.');
  if (options.jwksUri !== undefined) checkHttpsUrl(`${AT}.jwksUri`, options.jwksUri);
  if (options.secret !== undefined) checkSecret(options.secret);
  const timeoutMs = checkSecondsAsMs(`${AT}.issuerTimeout`, options.issuerTimeout, 5);
  const clockTolerance = seconds('clockTolerance', options.clockTolerance, 0, true);
  const algorithms = options.algorithms ?? [...ASYMMETRIC];
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every((a) => ASYMMETRIC.includes(a))) {
    fail(
      'ERR_TOKENGATE_CHOICE',
      `algorithms must be a non-empty list of ${ASYMMETRIC.join(', ')}; for HS256 give \`secret\` instead.`,
    );
  }
  const discovery = new IssuerDiscovery(issuer, timeoutMs);

  const introspection = options.introspection;
  let introspect: TokenValidator | undefined;
  let maxStaleness = Infinity;
  if (introspection !== undefined) {
    if (
      !introspection ||
      typeof introspection.clientId !== 'string' ||
      typeof introspection.clientSecret !== 'string'
    ) {
      fail(
        'ERR_TOKENGATE_TYPE',
        'introspection needs { clientId, clientSecret }: the credentials of a client registered with resourceServer: true.',
      );
    }
    if (introspection.endpoint !== undefined) checkHttpsUrl(`${AT}.introspection.endpoint`, introspection.endpoint);
    maxStaleness = seconds('introspection.maxStaleness', introspection.maxStaleness, 30, true);
    introspect = introspectionValidator({
      issuer,
      audience,
      clientId: introspection.clientId,
      clientSecret: introspection.clientSecret,
      endpoint: introspection.endpoint,
      discovery,
      timeoutMs,
      logger,
    });
  }

  let verifyJwt: TokenValidator | undefined;
  if (options.secret !== undefined) {
    verifyJwt = jwtValidator({
      issuer,
      audience,
      clockTolerance,
      algorithms: ['HS256'],
      keys: secretKeySource(options.secret),
    });
  } else if (options.jwksUri !== undefined || introspect === undefined) {
    const keys = jwksKeySource({
      jwksUri: options.jwksUri,
      discovery,
      timeoutMs,
      cacheMaxAgeMs: seconds('jwks.cacheMaxAge', options.jwks?.cacheMaxAge, 600) * 1000,
      requestsPerMinute: seconds('jwks.requestsPerMinute', options.jwks?.requestsPerMinute, 10),
      logger,
    });
    verifyJwt = jwtValidator({ issuer, audience, clockTolerance, algorithms, keys });
  }

  const validate: TokenValidator = async (token) => {
    if (verifyJwt !== undefined && isJwt(token)) return verifyJwt(token);
    if (introspect !== undefined) return introspect(token);
    throw new InvalidToken('The access token is not a JWT this resource server can verify.');
  };

  const cacheMax = checkNumber(`${AT}.cache.max`, options.cache?.max, 10_000, { integer: true });
  const dpop = resolveDpop(
    'requireToken',
    options.dpop,
    audience.filter((a) => /^https?:\/\//.test(a)),
  );
  const replay = options.dpop?.replay ?? memoryReplayStore();
  if (typeof replay?.use !== 'function')
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE',
      'requireToken: dpop.replay must implement use(id, expiresAt); see the ReplayStore interface.',
    );
  const context: GuardContext = {
    dpop: Object.freeze({ ...dpop, replay }),
    validate,
    // Introspected answers are reused for at most maxStaleness; verified JWTs until their exp.
    cache: new TokenCache(cacheMax, maxStaleness),
    realm: audience[0] as string,
    maxBodyBytes: seconds('maxBodyBytes', options.maxBodyBytes, 16 * 1024),
    logger,
  };
  const { scope, allowBody, allowQuery, realm } = options;
  let metadataUrl: string | undefined;
  let metadata: ResourceGuard['metadata'] = (_req, _res, next) => next();
  if (resource !== undefined) {
    metadataUrl = resourceMetadataUrl(resource);
    const scopes =
      options.scopesSupported ??
      (scope === undefined ? [] : typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [...scope]);
    const bearerMethods = ['header', ...(allowBody ? ['body'] : []), ...(allowQuery ? ['query'] : [])];
    metadata = resourceMetadataMiddleware(
      buildResourceMetadata({ resource, issuer, scopes, name: options.resourceName, bearerMethods }),
      logger,
    );
  }
  const guard = createGuard(
    context,
    { scope, allowBody, allowQuery, realm, resource, requireDpop: options.requireDpop },
    metadataUrl,
  ) as ResourceGuard;
  Object.defineProperties(guard, {
    with: {
      value: (routeOptions?: RequireTokenOptions) => createGuard(context, { resource, ...routeOptions }, metadataUrl),
    },
    metadata: { value: metadata },
    metadataUrl: { value: metadataUrl },
  });
  return guard;
}
