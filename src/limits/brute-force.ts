/**
 * Brute-force limits at the token endpoint: failed attempts are counted per username
 * (password grant), per client id (client authentication) and per remote address, in
 * `rate-limiter-flexible` limiters (in memory by default; any of its store-backed limiters,
 * such as `RateLimiterRedis`, to share the counts between instances). Past a limit the
 * request is refused with 429 before any credential is checked.
 *
 * Only failures count: a success never resets a counter (its own or anyone else's), so an
 * attacker cannot clear the count for a victim's username, a client or an address by
 * interleaving logins that work. Counts age out with the window.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { ClientAuthHooks } from '../clients/authenticate';
import { InvalidGrant, TemporarilyUnavailable, TooManyRequests } from '../core/errors';
import type { Logger } from '../core/logging';
import { hashToken } from '../core/crypto';
import { addressKey, defaultRemoteAddress, type RemoteAddressFn } from './remote-address';
import { checkKnownKeys, TokengateConfigError } from '../core/config';

/** What a limiter answers: `rate-limiter-flexible`'s `RateLimiterRes`. */
export interface LimiterResult {
  /** Points consumed in the current window (or block). */
  readonly consumedPoints: number;
  /** Milliseconds until the window (or block) ends; -1 for never. */
  readonly msBeforeNext: number;
}

/**
 * The part of a `rate-limiter-flexible` limiter that tokengate uses. Every limiter of that
 * library fits (`RateLimiterMemory`, `RateLimiterRedis`, `RateLimiterPostgres`, ...): its
 * `points` is the number of failures allowed per `duration` seconds, and `blockDuration`
 * (when > 0) how long the key is refused once they are used up (else until the window ends).
 */
export interface AttemptLimiter {
  readonly points: number;
  readonly duration: number;
  readonly blockDuration: number;
  consume(key: string, points?: number): Promise<LimiterResult>;
  get(key: string): Promise<LimiterResult | null>;
  penalty(key: string, points?: number): Promise<LimiterResult>;
  reward(key: string, points?: number): Promise<LimiterResult>;
  block(key: string, secDuration: number): Promise<LimiterResult>;
  delete(key: string): Promise<boolean>;
}

/** A limit tokengate builds itself (with `createLimiter`, or in memory). */
export interface LimitRule {
  /** Failed attempts allowed per window. */
  points?: number;
  /** Window length in seconds, counted from the first failure. */
  duration?: number;
  /** Seconds a key stays refused from the failure that used up its points; 0: until the window ends. Default: `duration`. */
  blockDuration?: number;
}

/** What `createLimiter` is asked to build: the options of any `rate-limiter-flexible` limiter. */
export interface LimiterConfig {
  keyPrefix: string;
  points: number;
  duration: number;
  blockDuration: number;
}

/**
 * `options.bruteForce`. Each limit is a {@link LimitRule} (built in memory, or by
 * `createLimiter`), a limiter instance of your own, or `false` to turn it off.
 *
 * @example Shared between instances through Redis
 * ```ts
 * import Redis from 'ioredis';
 * import { RateLimiterRedis, RateLimiterMemory } from 'rate-limiter-flexible';
 * const redis = new Redis();
 * oauthServer(stores, {
 *   issuer,
 *   bruteForce: {
 *     // Keeps counting in memory (per instance) while Redis is unreachable.
 *     createLimiter: (config) => new RateLimiterRedis({ storeClient: redis, insuranceLimiter: new RateLimiterMemory(config), ...config }),
 *     username: { points: 5 },
 *   },
 * });
 * ```
 */
export interface BruteForceOptions {
  /** Failed password-grant logins per username. Default: 10 per 15 minutes, then refused for 15 minutes. */
  username?: LimitRule | AttemptLimiter | false;
  /** Failed client authentications per client id. Default: 30 per 15 minutes, then refused for 15 minutes. */
  clientId?: LimitRule | AttemptLimiter | false;
  /** Failed client authentications and password logins per remote address. Default: 100 per 15 minutes, then refused for 15 minutes. */
  address?: LimitRule | AttemptLimiter | false;
  /** Builds the limiter for each limit given as a rule. Default: `new RateLimiterMemory(config)`. */
  createLimiter?: (config: LimiterConfig) => AttemptLimiter;
  /** The client's address. Default: Express's `req.ip` (follows `trust proxy`), else the socket's peer address. */
  remoteAddress?: RemoteAddressFn;
}

/** The defaults of {@link BruteForceOptions}, per limit. */
export const BRUTE_FORCE_DEFAULTS = Object.freeze({
  username: Object.freeze({ points: 10, duration: 900, blockDuration: 900 }),
  clientId: Object.freeze({ points: 30, duration: 900, blockDuration: 900 }),
  address: Object.freeze({ points: 100, duration: 900, blockDuration: 900 }),
});

type Kind = keyof typeof BRUTE_FORCE_DEFAULTS;

interface Limit {
  readonly limiter: AttemptLimiter;
  /** Seconds to refuse a key once its points are used up; 0: until its window ends. */
  readonly blockSeconds: number;
}

function isLimiter(value: unknown): value is AttemptLimiter {
  const v = value as Partial<Record<keyof AttemptLimiter, unknown>> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    (['consume', 'get', 'penalty', 'reward', 'block', 'delete'] as const).every((m) => typeof v[m] === 'function') &&
    typeof v.points === 'number'
  );
}

function seconds(name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TokengateConfigError('ERR_TOKENGATE_NUMBER', `oauthServer: options.bruteForce.${name} must be a whole number${allowZero ? ' ≥ 0' : ' > 0'} (got ${String(value)}).`);
  }
  return value;
}

function resolveLimit(kind: Kind, value: unknown, create: (config: LimiterConfig) => AttemptLimiter): Limit | undefined {
  if (value === false) return undefined;
  if (isLimiter(value)) {
    const block = value.blockDuration > 0 ? value.blockDuration : 0;
    return { limiter: value, blockSeconds: block };
  }
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new TokengateConfigError('ERR_TOKENGATE_LIMITER', 
      `oauthServer: options.bruteForce.${kind} must be { points?, duration?, blockDuration? }, a rate-limiter-flexible limiter, or false (got ${String(value)}).`,
    );
  }
  const rule = (value ?? {}) as LimitRule;
  checkKnownKeys(`oauthServer: options.bruteForce.${kind}`, rule, ['points', 'duration', 'blockDuration']);
  const defaults = BRUTE_FORCE_DEFAULTS[kind];
  const points = seconds(`${kind}.points`, rule.points, defaults.points, false);
  const duration = seconds(`${kind}.duration`, rule.duration, defaults.duration, false);
  const blockDuration = seconds(`${kind}.blockDuration`, rule.blockDuration, rule.duration ?? defaults.blockDuration, true);
  // blockDuration 0 in the limiter itself: blocks are set explicitly, from the failure that used up the points.
  const limiter = create({ keyPrefix: `tokengate:${kind}`, points, duration, blockDuration: 0 });
  if (!isLimiter(limiter)) throw new TokengateConfigError('ERR_TOKENGATE_LIMITER', `oauthServer: options.bruteForce.createLimiter must return a rate-limiter-flexible limiter (for ${kind}).`);
  return { limiter, blockSeconds: blockDuration };
}

// Usernames and client ids are hashed: fixed-length keys, and no e-mail addresses in Redis.
// (SHA-256, base64url: hashToken's one-shot hash, on every token request.)
function hashedKey(value: string): string {
  return hashToken(value);
}

/** Usernames differing only in case or Unicode form count as one: the stricter reading. */
function usernameKey(username: string): string {
  return hashedKey(username.normalize('NFKC').toLowerCase());
}

function isLimiterResult(value: unknown): value is LimiterResult {
  return !(value instanceof Error) && typeof (value as LimiterResult | null)?.msBeforeNext === 'number';
}

function refused(res: LimiterResult, limit: Limit): TooManyRequests {
  const ms = res.msBeforeNext >= 0 ? res.msBeforeNext : (limit.blockSeconds || limit.limiter.duration) * 1000;
  return new TooManyRequests(ms / 1000);
}

// A limiter whose store fails refuses the attempt (fails closed); the cause goes to the logger.
function unavailable(cause: unknown): TemporarilyUnavailable {
  return Object.assign(new TemporarilyUnavailable(), { cause });
}

async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw unavailable(err);
  }
}

async function refuseIfUsedUp(limit: Limit | undefined, key: string): Promise<void> {
  if (!limit) return;
  const res = await call(() => limit.limiter.get(key));
  if (res && res.consumedPoints >= limit.limiter.points) throw refused(res, limit);
}

async function countFailure(limit: Limit | undefined, key: string, alreadyCounted = false): Promise<void> {
  if (!limit) return;
  const res = alreadyCounted ? await call(() => limit.limiter.get(key)) : await call(() => limit.limiter.penalty(key, 1));
  // The failure that uses up the points starts the block. `>=`, not `===`: an attempt refused
  // concurrently also adds to the count, which must not let the failure that reached the limit
  // skip the block (blocking again is harmless).
  if (res && res.consumedPoints >= limit.limiter.points && limit.blockSeconds > 0) {
    await call(() => limit.limiter.block(key, limit.blockSeconds));
  }
}

/**
 * One request's view of the limits. Client authentication reports to it through
 * {@link ClientAuthHooks}; the token endpoint runs the password grant through
 * {@link Attempt.password}.
 */
export class Attempt implements ClientAuthHooks {
  private readonly address: string;

  constructor(
    private readonly guard: BruteForceGuard,
    req: IncomingMessage,
  ) {
    this.address = addressKey(guard.remoteAddress(req));
  }

  /** Refuse the request if its address has used up its failures. */
  async admit(): Promise<void> {
    await refuseIfUsedUp(this.guard.limits.address, this.address);
  }

  /** Refuse the request if the client id it names has used up its failures. */
  async claimed(clientId: string): Promise<void> {
    await refuseIfUsedUp(this.guard.limits.clientId, hashedKey(clientId));
  }

  /** Count a failed client authentication against the client id (if one was named) and the address. */
  async failed(clientId: string | undefined): Promise<void> {
    if (clientId !== undefined) await countFailure(this.guard.limits.clientId, hashedKey(clientId));
    await countFailure(this.guard.limits.address, this.address);
  }

  /**
   * Run a password check for `username`. The attempt is reserved on the username's counter
   * before the check and handed back unless the check fails with `invalid_grant`, so that
   * concurrent guesses (also across instances on a shared store) cannot overshoot the limit.
   */
  async password<T>(username: string | undefined, check: () => Promise<T>): Promise<T> {
    const limit = this.guard.limits.username;
    if (!limit || username === undefined || username === '') return this.countInvalidGrant(check);
    const key = usernameKey(username);
    try {
      await limit.limiter.consume(key, 1);
    } catch (rejection) {
      throw isLimiterResult(rejection) ? refused(rejection, limit) : unavailable(rejection);
    }
    let failed = false;
    try {
      return await this.countInvalidGrant(check, () => {
        failed = true;
        return countFailure(limit, key, true);
      });
    } finally {
      if (!failed) {
        await limit.limiter.reward(key, 1).catch((err: unknown) => this.guard.logger.error('brute-force limit: could not hand back a reserved attempt', err));
      }
    }
  }

  private async countInvalidGrant<T>(check: () => Promise<T>, onFailure?: () => Promise<void>): Promise<T> {
    try {
      return await check();
    } catch (err) {
      if (err instanceof InvalidGrant) {
        await onFailure?.();
        await countFailure(this.guard.limits.address, this.address);
      }
      throw err;
    }
  }
}

/** Which counters {@link BruteForceGuard.reset} clears. */
export interface ResetTarget {
  username?: string;
  clientId?: string;
  address?: string;
}

/** The brute-force limits of one server, built once from {@link BruteForceOptions}. */
export class BruteForceGuard {
  /** @internal */
  readonly limits: Readonly<Partial<Record<Kind, Limit>>>;
  /** @internal */
  readonly remoteAddress: RemoteAddressFn;
  /** @internal */
  readonly logger: Logger;

  constructor(options: BruteForceOptions, logger: Logger) {
    const create = options.createLimiter ?? ((config: LimiterConfig) => new RateLimiterMemory(config) as unknown as AttemptLimiter);
    if (typeof create !== 'function') throw new TokengateConfigError('ERR_TOKENGATE_TYPE', 'oauthServer: options.bruteForce.createLimiter must be a function (config) => limiter.');
    const remote = options.remoteAddress ?? defaultRemoteAddress;
    if (typeof remote !== 'function') throw new TokengateConfigError('ERR_TOKENGATE_TYPE', 'oauthServer: options.bruteForce.remoteAddress must be a function (req) => address.');
    const limits: Partial<Record<Kind, Limit>> = {};
    for (const kind of Object.keys(BRUTE_FORCE_DEFAULTS) as Kind[]) {
      const limit = resolveLimit(kind, options[kind], create);
      if (limit) limits[kind] = limit;
    }
    this.limits = Object.freeze(limits);
    this.remoteAddress = remote;
    this.logger = logger;
  }

  /** The limits as seen by one request. */
  attempt(req: IncomingMessage): Attempt {
    return new Attempt(this, req);
  }

  /** Forget the failures counted for a username, a client id and/or an address (e.g. after support verified the user). */
  async reset(target: ResetTarget): Promise<void> {
    const { username, clientId, address } = this.limits;
    await Promise.all([
      target.username !== undefined && username?.limiter.delete(usernameKey(target.username)),
      target.clientId !== undefined && clientId?.limiter.delete(hashedKey(target.clientId)),
      target.address !== undefined && address?.limiter.delete(addressKey(target.address)),
    ]);
  }
}

/** Validate `options.bruteForce` once, at start-up; `undefined` when turned off. */
export function resolveBruteForce(value: unknown, logger: Logger): BruteForceGuard | undefined {
  if (value === false) return undefined;
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new TokengateConfigError('ERR_TOKENGATE_TYPE', 'oauthServer: options.bruteForce must be an object such as { username: { points: 10, duration: 900 } }, or false to turn the limits off.');
  }
  checkKnownKeys('oauthServer: options.bruteForce', value ?? {}, ['username', 'clientId', 'address', 'createLimiter', 'remoteAddress']);
  return new BruteForceGuard((value ?? {}) as BruteForceOptions, logger);
}
