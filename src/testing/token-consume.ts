/**
 * Token-store rules about single use: the first `consume` wins, later ones report reuse, and
 * that holds for any number of concurrent callers, on one instance and across instances.
 * @packageDocumentation
 */
import type { ConsumeResult, TokenKind, TokenStore } from '../stores/types';
import { defined, rule, show } from './harness';
import { SINGLE_USE, mint, type TokenKit } from './token-fixtures';

/** Of concurrent consumes of one token, exactly one wins and every other reports reuse. */
function checkOneWinner(kind: TokenKind, results: readonly (ConsumeResult | undefined)[], where: string): void {
  const r = rule('TokenStore.consume', 'atomic single use');
  const winners = results.filter((x) => x?.reused === false).length;
  const reused = results.filter((x) => x?.reused === true).length;
  const missing = results.length - winners - reused;
  r.check(
    winners === 1 && reused === results.length - 1,
    `${results.length} concurrent consume('${kind}') calls of one token ${where}: ${winners} got reused:false, ${reused} got reused:true, ${missing} got undefined; exactly one must win and every other must report reuse`,
  );
}

/** Consume each of `count` fresh tokens of `kind` with `n` concurrent calls spread over `stores`. */
async function race(
  stores: readonly TokenStore[],
  kind: TokenKind,
  count: number,
  n: number,
): Promise<(ConsumeResult | undefined)[][]> {
  const minted = Array.from({ length: count }, () => mint(kind));
  for (const { record } of minted) await stores[0]!.save(record);
  return Promise.all(
    minted.map(({ record }) =>
      Promise.all(Array.from({ length: n }, (_, i) => stores[i % stores.length]!.consume(kind, record.id))),
    ),
  );
}

/** Register the single-use rules. */
export function consumeRules({ it, store, peer, hasPeer, concurrency }: TokenKit): void {
  it('TokenStore.consume — the first call wins (reused:false, consumedAt set); the next reports reuse; find then shows it consumed', async () => {
    const s = await store();
    for (const kind of SINGLE_USE) {
      const r = rule('TokenStore.consume', 'consuming twice reports reuse');
      const { record } = mint(kind);
      await s.save(record);
      const first = await s.consume(kind, record.id);
      if (first === undefined || first.reused !== false)
        throw r.fail(
          `the first consume('${kind}') of a fresh record gave ${show(first)}; it must be { reused: false }`,
        );
      r.check(
        typeof first.record.consumedAt === 'number',
        `the first consume('${kind}') must return the record with consumedAt set (seconds), got ${show(first.record.consumedAt)}`,
      );
      const { consumedAt, ...rest } = defined(first.record) ?? {};
      r.equal(rest, record, `the record consume('${kind}') returned, apart from consumedAt`);
      const second = await s.consume(kind, record.id);
      if (second?.reused !== true)
        throw r.fail(
          `a second consume('${kind}') gave ${show(second)}; it must be { reused: true } so the family can be revoked`,
        );
      r.check(
        second.record.familyId === record.familyId,
        `a reused consume('${kind}') must return the record (its familyId is what gets revoked)`,
      );
      const found = await s.find(kind, record.id);
      rule('TokenStore.find', 'consumed records stay visible').check(
        found?.consumedAt !== undefined && found.consumedAt === consumedAt,
        `after consume('${kind}'), find must return the record with the same consumedAt (${String(consumedAt)}) until it expires so replays are detected, got ${show(found)}`,
      );
    }
  });

  for (const kind of SINGLE_USE) {
    it(`TokenStore.consume — atomic single use: of ${concurrency} concurrent consumes of one ${kind}, exactly one gets reused:false`, async () => {
      const s = await store();
      const rounds = await race([s], kind, 5, concurrency);
      for (const results of rounds) checkOneWinner(kind, results, 'on one instance');
    });
  }

  it(`TokenStore.consume — replays are counted: reuses is 1, 2, … in turn, and ${concurrency} concurrent replays get ${concurrency} different counts (optional: a store that leaves reuses out gets strict rotation)`, async () => {
    const s = await store();
    const r = rule('TokenStore.consume', 'replays are counted atomically');
    const { record } = mint('refresh_token');
    await s.save(record);
    await s.consume('refresh_token', record.id);
    const first = await s.consume('refresh_token', record.id);
    if (first?.reuses === undefined) return; // not counted: the retry allowance is off for this store
    const second = await s.consume('refresh_token', record.id);
    r.check(
      first.reuses === 1 && second?.reuses === 2,
      `the first two replays reported reuses ${show([first.reuses, second?.reuses])}; expected [1, 2]`,
    );
    const counts = (
      await Promise.all(Array.from({ length: concurrency }, () => s.consume('refresh_token', record.id)))
    ).map((x) => x?.reuses);
    const expected = Array.from({ length: concurrency }, (_, i) => i + 3);
    r.equal(
      [...counts].sort((a, b) => (a ?? 0) - (b ?? 0)),
      expected,
      `the reuses counts of ${concurrency} concurrent replays (sorted)`,
    );
  });

  it('TokenStore.consume — concurrent consumes of different tokens all win', async () => {
    const s = await store();
    const results = await race([s], 'refresh_token', 50, 1);
    const r = rule('TokenStore.consume', 'tokens are independent');
    const lost = results.filter(([x]) => x?.reused !== false).length;
    r.check(lost === 0, `${lost} of 50 different refresh tokens consumed at once did not get reused:false`);
  });

  if (!hasPeer) return;

  it('TokenStore (two instances) — a record saved on one is found and consumed once on the other', async () => {
    const [a, b] = [await store(), await peer()];
    const r = rule('TokenStore.find', 'records are shared between instances');
    const { record } = mint('refresh_token');
    await a.save(record);
    r.equal(defined(await b.find('refresh_token', record.id)), record, 'the peer found');
    const first = await b.consume('refresh_token', record.id);
    const second = await a.consume('refresh_token', record.id);
    rule('TokenStore.consume', 'atomic single use').check(
      first?.reused === false && second?.reused === true,
      `consume on the peer then on the first instance gave ${show([first?.reused, second?.reused])}; expected [false, true]`,
    );
  });

  for (const kind of SINGLE_USE) {
    it(`TokenStore (two instances) — atomic single use: ${concurrency} consumes of one ${kind} split over both, exactly one wins`, async () => {
      const stores = [await store(), await peer()];
      const rounds = await race(stores, kind, 5, concurrency);
      for (const results of rounds) checkOneWinner(kind, results, 'split over two instances');
    });
  }
}
