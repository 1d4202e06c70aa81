/**
 * `describeReplayStore`: the {@link ReplayStore} contract as a test suite.
 * @packageDocumentation
 */
import type { ReplayStore } from '../stores/types';
import { marker, nowSeconds, once, rule, sleepPast, testApi, type KitTestApi } from './harness';

/**
 * How {@link describeReplayStore} reaches the store under test.
 *
 * @example
 * ```ts
 * describeReplayStore('redisReplayStore', {
 *   create: () => redisReplayStore({ client }),
 *   peer: () => redisReplayStore({ client: otherClient }),
 * });
 * ```
 */
export interface ReplayStoreHarness extends KitTestApi {
  /** The store under test. Called once, by the first test. Ids carry a random marker, so a shared database is fine. */
  create(): ReplayStore | Promise<ReplayStore>;
  /**
   * For a store shared between processes: a second instance over its own connection, as
   * another app instance would have. The kit checks that an id used on one is refused on the other.
   */
  peer?(): ReplayStore | Promise<ReplayStore>;
}

/**
 * Register the {@link ReplayStore} contract as tests: first use `true`, every later use of the
 * id `false` until it expires; exactly one `true` among concurrent uses; ids independent and
 * matched exactly; odd ids never throw; after `expiresAt` the id may be used again; and with
 * `peer`, an id used on one instance is refused on the other.
 *
 * @example
 * ```ts
 * import { describeReplayStore } from 'tokengate/testing';
 * describeReplayStore('myReplayStore', { create: () => myReplayStore(db) });
 * ```
 */
export function describeReplayStore(name: string, harness: ReplayStoreHarness): void {
  const { describe, it } = testApi(harness, 'describeReplayStore');
  const store = once(() => harness.create());
  const peer = harness.peer ? once(() => (harness.peer as () => ReplayStore | Promise<ReplayStore>)()) : undefined;
  const m = marker('replay');

  describe(`${name} (ReplayStore contract)`, () => {
    it('use: the first use of an id is true, every later one false (single use)', async () => {
      const s = await store();
      const r = rule('ReplayStore.use', 'single use');
      const until = nowSeconds() + 60;
      r.equal(await s.use(`${m}-a`, until), true, 'first use');
      r.equal(await s.use(`${m}-a`, until), false, 'second use');
      r.equal(await s.use(`${m}-a`, until + 600), false, 'third use with a later expiry');
    });

    it('use: of 50 concurrent uses of one id exactly one is true (atomic)', async () => {
      const s = await store();
      const results = await Promise.all(Array.from({ length: 50 }, () => s.use(`${m}-race`, nowSeconds() + 60)));
      rule('ReplayStore.use', 'atomic').equal(results.filter((x) => x).length, 1, 'uses answered true');
    });

    it('use: ids are independent and matched exactly (no case folding or trimming)', async () => {
      const s = await store();
      const r = rule('ReplayStore.use', 'exact ids');
      const until = nowSeconds() + 60;
      r.equal(await s.use(`${m}-Id`, until), true, 'first id');
      for (const other of [`${m}-id`, `${m}-Id `, ` ${m}-Id`, `${m}-Id2`])
        r.equal(await s.use(other, until), true, `use of ${JSON.stringify(other)}`);
    });

    it('use: odd ids (long, unicode, quotes) are answered, never thrown on', async () => {
      const s = await store();
      const until = nowSeconds() + 60;
      for (const odd of [`${m}-${'x'.repeat(4096)}`, `${m}-ü🙂`, `${m}-' OR '1'='1`]) {
        rule('ReplayStore.use', 'odd ids').equal(await s.use(odd, until), true, `first use of an odd id`);
      }
    });

    it('use: after expiresAt the id may be used again', async () => {
      const s = await store();
      const r = rule('ReplayStore.use', 'expiry');
      const now = nowSeconds();
      r.equal(await s.use(`${m}-short`, now + 1), true, 'first use');
      await sleepPast(now + 2);
      r.equal(await s.use(`${m}-short`, nowSeconds() + 60), true, 'use after expiry');
    });

    if (peer !== undefined) {
      it('use: an id used on one instance is refused on another (shared store)', async () => {
        const [a, b] = await Promise.all([store(), peer()]);
        const r = rule('ReplayStore.use', 'shared between instances');
        r.equal(await a.use(`${m}-shared`, nowSeconds() + 60), true, 'use on the first instance');
        r.equal(await b.use(`${m}-shared`, nowSeconds() + 60), false, 'use of the same id on the peer');
      });
    }
  });
}
