/**
 * `describeTokenStore`: the {@link TokenStore} contract as a test suite.
 * @packageDocumentation
 */
import { checkRenamed, checkSecondsAsMs } from '../core/config';
import type { TokenStore } from '../stores/types';
import { once, testApi } from './harness';
import { consumeRules } from './token-consume';
import type { TokenKit, TokenStoreHarness } from './token-fixtures';
import { recordRules } from './token-records';
import { revokeRules } from './token-revoke';

/**
 * Register the {@link TokenStore} contract as tests: records round-trip with every field;
 * absent fields are `undefined`; ids never overwrite; kinds do not mix; unknown and odd ids
 * give `undefined`; expiry is honoured; `consume` is atomic (of N concurrent calls exactly one
 * gets `reused: false`, the rest `reused: true`); revocation of an id or family reaches every
 * member, `isRevoked` and every listener before `revoke` resolves; a revoked family stays
 * closed to late saves; only hashes are stored. With `peer`, the same across two instances.
 *
 * Each rule is one test, named `Method — rule`; a failure is a {@link StoreContractError}
 * saying which method broke which rule and how. One test waits about 3 seconds for expiry.
 *
 * @param name - the `describe` block's title, e.g. the adapter's name
 * @param harness - how to create the store, read what it stored and (for a shared store) make a second instance
 *
 * @example
 * ```ts
 * // my-token-store.test.ts (Jest)
 * import { describeTokenStore } from 'tokengate/testing';
 * import { myTokenStore } from './my-token-store';
 *
 * const store = myTokenStore(db);
 * describeTokenStore('myTokenStore', {
 *   create: () => store,
 *   dump: () => db.allRows('tokens'),
 * });
 * ```
 */
// The kit waits in milliseconds; the harness says seconds, like every duration option.
function propagationMs(harness: TokenStoreHarness): number {
  checkRenamed('describeTokenStore: harness', harness, [
    { from: 'propagationMs', to: 'propagationTimeout', per: 1000 },
  ]);
  return checkSecondsAsMs('describeTokenStore: harness.propagationTimeout', harness.propagationTimeout, 2);
}

export function describeTokenStore(name: string, harness: TokenStoreHarness): void {
  const { describe, it } = testApi(harness, 'describeTokenStore');
  if (typeof harness?.create !== 'function' || typeof harness.dump !== 'function') {
    throw new Error(
      'describeTokenStore(name, harness): harness needs create() (the store under test) and dump() (what it stored).',
    );
  }
  const kit: TokenKit = {
    it,
    harness,
    store: once<TokenStore>(() => harness.create()),
    hasPeer: typeof harness.peer === 'function',
    peer: once<TokenStore>(() => (harness.peer as () => TokenStore | Promise<TokenStore>)()),
    concurrency: harness.concurrency ?? 25,
    propagationMs: propagationMs(harness),
  };
  describe(`${name}: TokenStore contract (tokengate/testing)`, () => {
    recordRules(kit);
    consumeRules(kit);
    revokeRules(kit);
  });
}
