/**
 * The device flow's counters (RFC 8628 §5.1): wrong user codes at the verification page, per
 * address and overall, and device authorization requests per address. Built on the same
 * `rate-limiter-flexible` limiters as the brute-force limits (src/limits): in memory by default,
 * shared between instances when a store-backed limiter is configured (`createLimiter`, e.g.
 * `RateLimiterRedis`), so an attacker cannot multiply the allowance by the number of instances.
 *
 * - Each attempt is reserved on its address's counter before the code is looked up, so a
 *   concurrent burst cannot overshoot the limit; a correct code hands the point back.
 * - An address with `perAddress` counted attempts in its window is refused until it ends.
 * - Once the server (all instances) has seen `overall` wrong codes in the window, addresses
 *   that have failed at all in it are refused too: a distributed guesser gets about one guess
 *   per address, while a user who types the right code is never refused for someone else's
 *   failures.
 * - A limiter that cannot answer refuses the attempt with 503 (fail closed).
 * @packageDocumentation
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { TooManyRequests } from '../core/errors';
import type { Logger } from '../core/logging';
import {
  call,
  isLimiterResult,
  unavailable,
  type AttemptLimiter,
  type LimiterConfig,
  type LimiterResult,
} from '../limits/brute-force';

/** Limits on failed user-code lookups. */
export interface DeviceAttemptLimits {
  /** Failed lookups one address may make per window. Default 10. */
  perAddress?: number;
  /** Failed lookups the server takes per window before every address that failed is refused. Default 1000. */
  overall?: number;
  /** The window in seconds. Default 600 (a user code's default lifetime). */
  window?: number;
}

/** Builds a limiter from its options: `bruteForce.createLimiter`'s signature. */
export type CreateLimiter = (config: LimiterConfig) => AttemptLimiter;

/** What one {@link DeviceAttempts} counts. */
export interface DeviceCounterSettings {
  /** Key prefix of its limiters (`tokengate:device-…`), the same on every instance. */
  name: string;
  /** Attempts one address may make per window. */
  perAddress: number;
  /** Failures of all addresses per window before failed addresses are refused; none: no overall budget. */
  overall?: number;
  /** The window, in seconds. */
  window: number;
  /** The first words of the 429's description. */
  refusal: string;
}

// The one key of the overall counter.
const ALL = 'all';

/** One attempt reserved by {@link DeviceAttempts.begin}: settle it as a failure or a success. */
export interface DeviceAttempt {
  /** A wrong code: the reserved point stays, and the overall budget is charged. */
  failed(): Promise<void>;
  /** Not a guess that failed (a right code): the reserved point is handed back. */
  succeeded(): Promise<void>;
}

/** Counters for one kind of attempt (see the module comment). */
export class DeviceAttempts {
  private readonly perAddress: AttemptLimiter;
  private readonly overall: AttemptLimiter | undefined;

  constructor(
    create: CreateLimiter,
    private readonly settings: DeviceCounterSettings,
    private readonly logger: Logger,
  ) {
    const { name, window } = settings;
    this.perAddress = create({ keyPrefix: name, points: settings.perAddress, duration: window, blockDuration: 0 });
    this.overall =
      settings.overall === undefined
        ? undefined
        : create({ keyPrefix: `${name}-all`, points: settings.overall, duration: window, blockDuration: 0 });
  }

  private refuse(res: LimiterResult): TooManyRequests {
    const ms = res.msBeforeNext >= 0 ? res.msBeforeNext : this.settings.window * 1000;
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return new TooManyRequests(seconds, `${this.settings.refusal}; try again in ${seconds} seconds.`);
  }

  /**
   * Reserve one attempt by `address`, or throw {@link TooManyRequests} (429) when it may not try
   * now, or `temporarily_unavailable` (503) when a limiter cannot answer.
   */
  async begin(address: string): Promise<DeviceAttempt> {
    let mine: LimiterResult;
    try {
      mine = await this.perAddress.consume(address, 1);
    } catch (rejection) {
      throw isLimiterResult(rejection) ? this.refuse(rejection) : unavailable(rejection);
    }
    // Failed before (the count holds more than this reservation): the overall budget applies.
    if (this.overall !== undefined && mine.consumedPoints > 1) {
      const all = await call(() => (this.overall as AttemptLimiter).get(ALL));
      if (all !== null && all.consumedPoints >= (this.settings.overall as number)) throw this.refuse(all);
    }
    let settled = false;
    return {
      failed: async () => {
        if (settled) return;
        settled = true;
        const overall = this.overall;
        if (overall !== undefined) await call(() => overall.penalty(ALL, 1));
      },
      succeeded: async () => {
        if (settled) return;
        settled = true;
        try {
          const res = await this.perAddress.reward(address, 1);
          if (res.consumedPoints <= 0) await this.perAddress.delete(address);
        } catch (err) {
          this.logger.error('device flow: could not hand back a reserved attempt', err);
        }
      },
    };
  }
}

/**
 * The limiter factory of the device counters: the device flow's own `createLimiter`, else the
 * brute-force limits' (so one `RateLimiterRedis` setting shares every counter), else in memory.
 */
export function deviceLimiterFactory(own: CreateLimiter | undefined, shared: CreateLimiter | undefined): CreateLimiter {
  return own ?? shared ?? ((config) => new RateLimiterMemory(config) as unknown as AttemptLimiter);
}
