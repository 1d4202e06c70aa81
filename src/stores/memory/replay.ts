import { nowSeconds } from '../../core/clock';
import { TokengateConfigError } from '../../core/config';
import { TemporarilyUnavailable } from '../../core/errors';
import type { ReplayStore } from '../types';

/** Options for {@link memoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * Most ids held at once. Default 1 000 000 (about 100 MB at worst). When it is reached and
   * nothing has expired, `use` rejects (the request gets 503) rather than forget an id that a
   * replay could then reuse: memory stays bounded and the check fails closed.
   */
  max?: number;
}

/**
 * The in-process {@link ReplayStore}: ids in a Map with their expiry, swept when the map
 * grows. Right for one instance; several instances need a shared store (`redisReplayStore`,
 * `postgresReplayStore`) or a proof replayed at another instance is accepted there.
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const max = options.max ?? 1_000_000;
  if (!Number.isInteger(max) || max < 1)
    throw new TokengateConfigError(
      'ERR_TOKENGATE_NUMBER',
      'memoryReplayStore: options.max must be a whole number ≥ 1.',
    );
  const used = new Map<string, number>();
  let sweepAt = 1024;

  // Amortised: the next sweep waits until the map has doubled from what this one left.
  function sweep(now: number): void {
    for (const [id, until] of used) if (until <= now) used.delete(id);
    sweepAt = Math.max(1024, used.size * 2);
  }

  return {
    async use(id, expiresAt) {
      const now = nowSeconds();
      const until = used.get(id);
      if (until !== undefined && until > now) return false;
      if (used.size >= sweepAt || used.size >= max) sweep(now);
      if (used.size >= max) throw new TemporarilyUnavailable('Too many proofs in flight; try again later.');
      used.set(id, expiresAt);
      return true;
    },
  };
}
