/**
 * Brute-force limits on credential checks (client secrets, resource-owner passwords), built so
 * that an attacker's failures cost the attacker, not the user or client they target (OWASP
 * Credential Stuffing / Authentication cheat sheets; issue #11). The model, in
 * docs/security-limits.md:
 *
 * - Failures are counted per (identifier, address) (`username`, `clientId`) and per address
 *   (`address`), in `rate-limiter-flexible` limiters (in memory by default; any store-backed
 *   limiter, e.g. `RateLimiterRedis`, to share the counts between instances). Past a limit
 *   that address is refused with 429 for that identifier (or for everything).
 * - Nothing an address does blocks another address. Against distributed guessing, the
 *   failures of an identifier from all addresses are also counted, and past a threshold every
 *   check of that identifier is slowed by a progressive delay (`slowdown`), never refused.
 * - The attempt is reserved on its counters before the credential is checked and handed back
 *   unless the check fails, so a concurrent burst cannot overshoot a limit (at most `points`
 *   checks run), and requests that never reach a check (malformed, invalid scope) leave no
 *   entry. A public client has no secret: nothing is counted for it.
 * - A success never resets a counter (its own or anyone else's); counts age out with the window.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  checkFunction,
  checkKnownKeys,
  checkNumber,
  checkRenamed,
  isPlainObject,
  TokengateConfigError,
} from '../core/config';
import { hashToken } from '../core/crypto';
import { TemporarilyUnavailable, TooManyRequests } from '../core/errors';
import type { Logger } from '../core/logging';
import { addressKey, defaultRemoteAddress, type RemoteAddressFn } from './remote-address';

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
 * The global, per-identifier slow-down: once an identifier (a username, a client id) has
 * failed `after` times within `duration` seconds from any addresses, each further check of it
 * waits `step` seconds more per failure beyond `after`, up to `maxDelay`. It never refuses: a
 * user whose username is being guessed from elsewhere still signs in, at most `maxDelay` later.
 */
export interface SlowdownRule {
  /** Failures (from all addresses) before checks are slowed. */
  after?: number;
  /** Seconds added per failure beyond `after` (fractions allowed: `0.25`). (Formerly `stepMs`, in milliseconds.) */
  step?: number;
  /** The longest delay, in seconds. (Formerly `maxMs`, in milliseconds.) */
  maxDelay?: number;
  /** Window in seconds over which failures are counted, from the first. */
  duration?: number;
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
  /** Failed password-grant logins per (username, address). Default: 10 per 15 minutes, then that address is refused that username for 15 minutes. */
  username?: LimitRule | AttemptLimiter | false;
  /** Failed client authentications per (client id, address); public clients are never counted. Default: 30 per 15 minutes, then refused for 15 minutes. */
  clientId?: LimitRule | AttemptLimiter | false;
  /** Failed client authentications and password logins per address. Default: 100 per 15 minutes, then refused for 15 minutes. */
  address?: LimitRule | AttemptLimiter | false;
  /**
   * The global per-identifier slow-down against guessing spread over many addresses (see
   * {@link SlowdownRule}); `false` turns both off. Default for usernames: after 10 failures,
   * +250 ms per failure beyond, at most 5 s, over a 15-minute window. Off for client ids unless
   * given (`slowdown: { clientId: {} }` for the defaults: after 30 failures, the same steps).
   */
  slowdown?: { username?: SlowdownRule | false; clientId?: SlowdownRule | false } | false;
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

/** The defaults of the slow-down ({@link SlowdownRule}), per identifier kind. */
export const SLOWDOWN_DEFAULTS = Object.freeze({
  username: Object.freeze({ after: 10, step: 0.25, maxDelay: 5, duration: 900 }),
  clientId: Object.freeze({ after: 30, step: 0.25, maxDelay: 5, duration: 900 }),
});

// Off by default for client ids: client secrets are 256-bit random (guessing them is not the
// threat, availability is), and a delay on a client slows every token and introspection call
// of an API that uses it. Turn it on (`slowdown: { clientId: {} }`) for human-chosen secrets.
const SLOWDOWN_ON_BY_DEFAULT: Readonly<Record<Identifier, boolean>> = { username: true, clientId: false };

type Kind = keyof typeof BRUTE_FORCE_DEFAULTS;
/** A brute-force limit's name: `username` and `clientId` count per identifier and address. */
export type LimitName = Kind;
type Identifier = keyof typeof SLOWDOWN_DEFAULTS;

const AT = 'oauthServer: options.bruteForce';

interface Limit {
  readonly limiter: AttemptLimiter;
  /** Seconds to refuse a key once its points are used up; 0: until its window ends. */
  readonly blockSeconds: number;
}

interface Slowdown {
  /** Counts failures per identifier over the window (points: effectively unbounded). */
  readonly limiter: AttemptLimiter;
  readonly after: number;
  readonly stepMs: number;
  readonly maxMs: number;
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

const whole = (name: string, value: unknown, fallback: number, min: number): number =>
  checkNumber(`${AT}.${name}`, value, fallback, { integer: true, min });
// A delay in seconds (0 allowed: no delay), as the milliseconds a timer takes.
const milliseconds = (name: string, value: unknown, fallbackSeconds: number): number =>
  Math.round(checkNumber(`${AT}.${name}`, value, fallbackSeconds, { unit: 'seconds' }) * 1000);

function build(create: (config: LimiterConfig) => AttemptLimiter, config: LimiterConfig, kind: string): AttemptLimiter {
  const limiter = create(config);
  if (!isLimiter(limiter))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_LIMITER',
      `${AT}.createLimiter must return a rate-limiter-flexible limiter (for ${kind}).`,
    );
  return limiter;
}

function resolveLimit(
  kind: Kind,
  value: unknown,
  create: (config: LimiterConfig) => AttemptLimiter,
): Limit | undefined {
  if (value === false) return undefined;
  if (isLimiter(value)) return { limiter: value, blockSeconds: value.blockDuration > 0 ? value.blockDuration : 0 };
  if (value !== undefined && !isPlainObject(value)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_LIMITER',
      `${AT}.${kind} must be { points?, duration?, blockDuration? }, a rate-limiter-flexible limiter, or false (got ${String(value)}).`,
    );
  }
  const rule = (value ?? {}) as LimitRule;
  checkKnownKeys(`${AT}.${kind}`, rule, ['points', 'duration', 'blockDuration']);
  const defaults = BRUTE_FORCE_DEFAULTS[kind];
  const points = whole(`${kind}.points`, rule.points, defaults.points, 1);
  const duration = whole(`${kind}.duration`, rule.duration, defaults.duration, 1);
  const blockDuration = whole(`${kind}.blockDuration`, rule.blockDuration, rule.duration ?? defaults.blockDuration, 0);
  // blockDuration 0 in the limiter itself: blocks are set explicitly, from the failure that used up the points.
  return {
    limiter: build(create, { keyPrefix: `tokengate:${kind}`, points, duration, blockDuration: 0 }, kind),
    blockSeconds: blockDuration,
  };
}

function resolveSlowdown(
  kind: Identifier,
  value: unknown,
  create: (config: LimiterConfig) => AttemptLimiter,
): Slowdown | undefined {
  if (value === false) return undefined;
  if (value !== undefined && !isPlainObject(value))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_TYPE',
      `${AT}.slowdown.${kind} must be { after?, step?, maxDelay?, duration? } or false.`,
    );
  const rule = (value ?? {}) as SlowdownRule;
  checkRenamed(`${AT}.slowdown.${kind}`, rule, [
    { from: 'stepMs', to: 'step', per: 1000 },
    { from: 'maxMs', to: 'maxDelay', per: 1000 },
  ]);
  checkKnownKeys(`${AT}.slowdown.${kind}`, rule, ['after', 'step', 'maxDelay', 'duration']);
  const d = SLOWDOWN_DEFAULTS[kind];
  const duration = whole(`slowdown.${kind}.duration`, rule.duration, d.duration, 1);
  return {
    limiter: build(
      create,
      { keyPrefix: `tokengate:${kind}-failures`, points: 2 ** 31 - 1, duration, blockDuration: 0 },
      `slowdown.${kind}`,
    ),
    after: whole(`slowdown.${kind}.after`, rule.after, d.after, 0),
    stepMs: milliseconds(`slowdown.${kind}.step`, rule.step, d.step),
    maxMs: milliseconds(`slowdown.${kind}.maxDelay`, rule.maxDelay, d.maxDelay),
  };
}

// Usernames and client ids are hashed: fixed-length keys, and no e-mail addresses in Redis.
const hashedKey = (value: string): string => hashToken(value);

/** Usernames differing only in case or Unicode form count as one: the stricter reading. */
const usernameKey = (username: string): string => hashedKey(username.normalize('NFKC').toLowerCase());

const identifierKey = (kind: Identifier, id: string): string => (kind === 'username' ? usernameKey(id) : hashedKey(id));

/** Whether a limiter's rejection is a refusal (its `RateLimiterRes`) rather than a store failure. */
export function isLimiterResult(value: unknown): value is LimiterResult {
  return !(value instanceof Error) && typeof (value as LimiterResult | null)?.msBeforeNext === 'number';
}

// Which limit refused a request, for `limit.reached` events (the answer does not say).
const refusals = new WeakMap<TooManyRequests, LimitName>();

/** The brute-force limit that refused with `err`: `address`, `clientId` or `username`; undefined for any other error. */
export function refusedBy(err: unknown): LimitName | undefined {
  return err instanceof TooManyRequests ? refusals.get(err) : undefined;
}

function refused(res: LimiterResult, limit: Limit, name: LimitName): TooManyRequests {
  const ms = res.msBeforeNext >= 0 ? res.msBeforeNext : (limit.blockSeconds || limit.limiter.duration) * 1000;
  const err = new TooManyRequests(ms / 1000);
  refusals.set(err, name);
  return err;
}

/** A limiter whose store fails refuses the attempt (fails closed): 503, the cause kept for the logger. */
export function unavailable(cause: unknown): TemporarilyUnavailable {
  return Object.assign(new TemporarilyUnavailable(), { cause });
}

/** Run a limiter operation; a store failure becomes {@link unavailable}. */
export async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw unavailable(err);
  }
}

/** One counter an attempt holds a point on until it is settled. */
interface Held {
  readonly limit: Limit;
  readonly key: string;
  /** The count after this attempt's reservation. */
  readonly consumed: number;
}

/**
 * An attempt reserved on its counters: settle it once the credential check is done. A failure
 * keeps the points (and starts the block of a counter it used up); anything else hands them
 * back, and a counter back at zero is deleted, so successes leave no entries behind.
 */
export class Reservation {
  private settled = false;

  /** @internal */
  constructor(
    private readonly held: readonly Held[],
    private readonly slowdown: { readonly limit: Slowdown; readonly key: string } | undefined,
    private readonly logger: Logger,
  ) {}

  /** The credential was wrong: keep the points, count the identifier's global failure. */
  async failed(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const { slowdown } = this;
    await Promise.all([
      ...this.held.map(async ({ limit, key, consumed }) => {
        // The failure that uses up the points starts the block. `>=`, not `===`: concurrent
        // reservations can pass the limit together, and each must leave the block in place.
        if (consumed >= limit.limiter.points && limit.blockSeconds > 0)
          await call(() => limit.limiter.block(key, limit.blockSeconds));
      }),
      slowdown && call(() => slowdown.limit.limiter.penalty(slowdown.key, 1)),
    ]);
  }

  /** The check succeeded or never ran to a verdict (e.g. a store failure): hand the points back. */
  async release(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await handBack(this.held, this.logger);
  }
}

async function handBack(held: readonly Held[], logger: Logger): Promise<void> {
  await Promise.all(
    held.map(async ({ limit, key }) => {
      try {
        const res = await limit.limiter.reward(key, 1);
        // A counter back at zero holds nothing: delete it so that requests which never failed
        // leave no memory behind for the window. (A reservation taken between the reward and the
        // delete is forgotten; that needs a success and a guess racing from the same address.)
        if (res.consumedPoints <= 0) await limit.limiter.delete(key);
      } catch (err) {
        logger.error('brute-force limit: could not hand back a reserved attempt', err);
      }
    }),
  );
}

/** What a credential check is about: whose credential, and which limits apply. */
export interface CheckTarget {
  /** `'username'` for a resource owner's password, `'clientId'` for a client's secret or assertion. */
  readonly kind: Identifier;
  /** The username or client id the request names. */
  readonly id: string;
}

/**
 * One request's view of the limits, made once per request by the client-authentication
 * pipeline (`clients/authenticate.ts`) and handed to grants that check a user's credential.
 */
export class Attempt {
  private readonly address: string;

  /** @internal */
  constructor(
    private readonly guard: BruteForceGuard,
    req: IncomingMessage,
  ) {
    this.address = addressKey(guard.remoteAddress(req));
  }

  /** Refuse the request at once if its address has used up its failures (reads; creates nothing). */
  async admit(): Promise<void> {
    const limit = this.guard.limits.address;
    if (!limit) return;
    const res = await call(() => limit.limiter.get(this.address));
    if (res && res.consumedPoints >= limit.limiter.points) throw refused(res, limit, 'address');
  }

  /**
   * Reserve one attempt at `target`'s credential from this address: on the (identifier,
   * address) counter, then the address counter; refuse with 429 if either is used up. Then
   * wait out the identifier's global slow-down. Settle the returned {@link Reservation}.
   */
  async reserve(target: CheckTarget): Promise<Reservation> {
    const { limits, slowdowns, logger } = this.guard;
    const id = identifierKey(target.kind, target.id);
    const wanted: [Limit | undefined, string, LimitName][] = [
      [limits[target.kind], `${id}:${this.address}`, target.kind],
      [limits.address, this.address, 'address'],
    ];
    const held: Held[] = [];
    for (const [limit, key, name] of wanted) {
      if (!limit) continue;
      try {
        const res = await limit.limiter.consume(key, 1);
        held.push({ limit, key, consumed: res.consumedPoints });
      } catch (rejection) {
        // The refused consume still counted a point on this key (it is blocked anyway); the
        // counters already reserved are handed back.
        await handBack(held, logger);
        throw isLimiterResult(rejection) ? refused(rejection, limit, name) : unavailable(rejection);
      }
    }
    const slowdown = slowdowns[target.kind];
    const reservation = new Reservation(held, slowdown && { limit: slowdown, key: id }, logger);
    if (slowdown) {
      try {
        const failures = (await slowdown.limiter.get(id))?.consumedPoints ?? 0;
        const delay = Math.min(slowdown.maxMs, (failures - slowdown.after) * slowdown.stepMs);
        if (delay > 0) await sleep(delay);
      } catch (err) {
        await reservation.release();
        throw unavailable(err);
      }
    }
    return reservation;
  }

  /**
   * Run a credential check under the limits: reserve, check, then keep the point if `isFailure`
   * says the outcome was a wrong credential, else hand it back.
   */
  async check<T>(
    target: CheckTarget,
    run: () => Promise<T>,
    isFailure: (outcome: { value?: T; error?: unknown }) => boolean,
  ): Promise<T> {
    const reservation = await this.reserve(target);
    let value: T;
    try {
      value = await run();
    } catch (error) {
      await (isFailure({ error }) ? reservation.failed() : reservation.release());
      throw error;
    }
    await (isFailure({ value }) ? reservation.failed() : reservation.release());
    return value;
  }
}

/** Which counters {@link OAuthServer.resetLimits} clears. */
export interface ResetTarget {
  /** Clears the username's global slow-down; with `address`, also that (username, address) counter. */
  username?: string;
  /** Clears the client id's global slow-down; with `address`, also that (client id, address) counter. */
  clientId?: string;
  /** Clears the address counter. */
  address?: string;
}

/** The brute-force limits of one server, built once from {@link BruteForceOptions}. */
export class BruteForceGuard {
  /** @internal */
  readonly limits: Readonly<Partial<Record<Kind, Limit>>>;
  /** @internal */
  readonly slowdowns: Readonly<Partial<Record<Identifier, Slowdown>>>;
  /** @internal */
  readonly remoteAddress: RemoteAddressFn;
  /** @internal */
  readonly logger: Logger;
  /** @internal The `createLimiter` these limits were built with (other counters share its store). */
  readonly createLimiter: (config: LimiterConfig) => AttemptLimiter;

  constructor(options: BruteForceOptions, logger: Logger) {
    const create = checkFunction<(config: LimiterConfig) => AttemptLimiter>(
      `${AT}.createLimiter`,
      options.createLimiter,
      (config) => new RateLimiterMemory(config) as unknown as AttemptLimiter,
      '(config) => limiter',
    );
    this.remoteAddress = checkFunction(
      `${AT}.remoteAddress`,
      options.remoteAddress,
      defaultRemoteAddress,
      '(req) => address',
    );
    const limits: Partial<Record<Kind, Limit>> = {};
    for (const kind of Object.keys(BRUTE_FORCE_DEFAULTS) as Kind[]) {
      const limit = resolveLimit(kind, options[kind], create);
      if (limit) limits[kind] = limit;
    }
    const slowdowns: Partial<Record<Identifier, Slowdown>> = {};
    const slow = options.slowdown;
    if (slow !== false) {
      if (slow !== undefined && !isPlainObject(slow))
        throw new TokengateConfigError(
          'ERR_TOKENGATE_TYPE',
          `${AT}.slowdown must be { username?, clientId? } or false.`,
        );
      checkKnownKeys(`${AT}.slowdown`, slow ?? {}, ['username', 'clientId']);
      for (const kind of Object.keys(SLOWDOWN_DEFAULTS) as Identifier[]) {
        const given = slow?.[kind];
        const s =
          given === undefined && !SLOWDOWN_ON_BY_DEFAULT[kind] ? undefined : resolveSlowdown(kind, given, create);
        if (s) slowdowns[kind] = s;
      }
    }
    this.limits = Object.freeze(limits);
    this.slowdowns = Object.freeze(slowdowns);
    this.logger = logger;
    this.createLimiter = create;
  }

  /** The limits as seen by one request. */
  attempt(req: IncomingMessage): Attempt {
    return new Attempt(this, req);
  }

  /** Forget counted failures (e.g. after support verified the user); see {@link ResetTarget}. */
  async reset(target: ResetTarget): Promise<void> {
    const { username, clientId, address } = this.limits;
    const at = target.address === undefined ? undefined : addressKey(target.address);
    const jobs: Promise<unknown>[] = [];
    for (const [kind, id, limit] of [
      ['username', target.username, username],
      ['clientId', target.clientId, clientId],
    ] as const) {
      if (id === undefined) continue;
      const key = identifierKey(kind, id);
      const slowdown = this.slowdowns[kind];
      if (slowdown !== undefined) jobs.push(slowdown.limiter.delete(key));
      if (at !== undefined && limit !== undefined) jobs.push(limit.limiter.delete(`${key}:${at}`));
    }
    if (at !== undefined && address !== undefined) jobs.push(address.limiter.delete(at));
    await Promise.all(jobs);
  }
}

/** Validate `options.bruteForce` once, at start-up; `undefined` when turned off. */
export function resolveBruteForce(value: unknown, logger: Logger): BruteForceGuard | undefined {
  if (value === false) return undefined;
  if (value !== undefined && !isPlainObject(value)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_TYPE',
      `${AT} must be an object such as { username: { points: 10, duration: 900 } }, or false to turn the limits off.`,
    );
  }
  checkKnownKeys(AT, value ?? {}, ['username', 'clientId', 'address', 'slowdown', 'createLimiter', 'remoteAddress']);
  return new BruteForceGuard((value ?? {}) as BruteForceOptions, logger);
}
