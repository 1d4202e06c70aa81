/**
 * The verification page's guard against guessing user codes (RFC 8628 §5.1): failed lookups
 * are counted per address and overall, in fixed windows.
 *
 * - An address with `perAddress` failures in the window is refused until the window ends.
 * - Once the whole server has seen `overall` failures in the window, addresses that have
 *   failed at all in it are refused too: a distributed guesser gets at most one guess per
 *   address, while a user who types the right code is never refused by someone else's
 *   failures (a correct lookup is not a failure and is checked first only for its own address).
 *
 * In-process and bounded: at most `maxAddresses` addresses are remembered (the oldest are
 * forgotten first). With several instances, each counts its own.
 * @packageDocumentation
 */
import { TooManyRequests } from '../core/errors';

/** Limits on failed user-code lookups. */
export interface DeviceAttemptLimits {
  /** Failed lookups one address may make per window. Default 10. */
  perAddress?: number;
  /** Failed lookups the server takes per window before every address that failed is refused. Default 1000. */
  overall?: number;
  /** The window in seconds. Default 600 (a user code's default lifetime). */
  window?: number;
}

/**
 * Fixed-window counts per address with an overall budget (see the module comment); used for
 * wrong user codes and, with no overall budget, for device authorization requests per address.
 */
export class DeviceAttempts {
  private readonly failures = new Map<string, number>();
  private total = 0;
  private windowEnds = 0;
  private readonly perAddress: number;
  private readonly overall: number;
  private readonly windowMs: number;

  constructor(
    limits: DeviceAttemptLimits = {},
    private readonly refusal = 'Too many wrong codes',
    private readonly maxAddresses = 100_000,
  ) {
    this.perAddress = limits.perAddress ?? 10;
    this.overall = limits.overall ?? 1000;
    this.windowMs = (limits.window ?? 600) * 1000;
  }

  private roll(): void {
    const now = Date.now();
    if (now < this.windowEnds) return;
    this.failures.clear();
    this.total = 0;
    this.windowEnds = now + this.windowMs;
  }

  private refuse(): TooManyRequests {
    const retryAfter = Math.max(1, Math.ceil((this.windowEnds - Date.now()) / 1000));
    return new TooManyRequests(retryAfter, `${this.refusal}; try again in ${retryAfter} seconds.`);
  }

  /** Throw {@link TooManyRequests} when this address may not try now. */
  check(address: string): void {
    this.roll();
    const mine = this.failures.get(address) ?? 0;
    if (mine >= this.perAddress || (mine > 0 && this.total >= this.overall)) throw this.refuse();
  }

  /** Count one (a failed lookup, a request) from this address. */
  count(address: string): void {
    this.roll();
    const mine = (this.failures.get(address) ?? 0) + 1;
    this.failures.delete(address);
    this.failures.set(address, mine);
    this.total++;
    if (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value as string);
  }
}
