/**
 * Token-store rules about revocation: one token, a whole family, JWT ids never stored,
 * revocations that must not shrink, families that stay closed, and the listeners that keep
 * every `requireToken` cache honest.
 * @packageDocumentation
 */
import type { RevocationEvent, TokenStore } from '../stores/types';
import { marker, nowSeconds, rule, show, sleep } from './harness';
import { KINDS, mint, type TokenKit } from './token-fixtures';

async function gone(
  s: TokenStore,
  record: { kind: 'access_token' | 'refresh_token' | 'authorization_code'; id: string },
  why: string,
): Promise<void> {
  rule('TokenStore.revoke', why).check(
    (await s.find(record.kind, record.id)) === undefined,
    `find('${record.kind}') still returned a revoked record`,
  );
  if (record.kind !== 'access_token') {
    rule('TokenStore.revoke', why).check(
      (await s.consume(record.kind, record.id)) === undefined,
      `consume('${record.kind}') still returned a revoked record`,
    );
  }
}

/** Collects events and can wait for one that mentions an id. */
function recorder(): {
  events: RevocationEvent[];
  listener: (e: RevocationEvent) => void;
  heard(id: string): boolean;
  waitFor(id: string, ms: number): Promise<boolean>;
} {
  const events: RevocationEvent[] = [];
  const heard = (id: string): boolean => events.some((e) => e.ids.includes(id));
  return {
    events,
    listener: (e) => events.push(e),
    heard,
    async waitFor(id, ms) {
      const deadline = Date.now() + ms;
      while (!heard(id) && Date.now() < deadline) await sleep(10);
      return heard(id);
    },
  };
}

/** Register the revocation rules. */
export function revokeRules({ it, store, peer, hasPeer, propagationMs }: TokenKit): void {
  it('TokenStore.revoke — by id: that record is gone and its id revoked; the rest of its family stays', async () => {
    const s = await store();
    const a = mint('refresh_token').record;
    const b = mint('refresh_token', { familyId: a.familyId }).record;
    await s.save(a);
    await s.save(b);
    await s.revoke({ id: a.id, until: nowSeconds() + 600 });
    await gone(s, a, 'revoking an id removes its record');
    const r = rule('TokenStore.revoke', 'revoking an id spares its family');
    r.check(
      await s.find('refresh_token', b.id),
      'a sibling in the same family disappeared when only one id was revoked',
    );
    r.check((await s.isRevoked([a.familyId])) === false, 'revoking one id made its whole family revoked');
    rule('TokenStore.isRevoked', 'revoked ids are reported').check(
      await s.isRevoked([a.id]),
      'isRevoked([id]) is false right after revoke({ id })',
    );
  });

  it('TokenStore.revoke — by family: every member of every kind goes (consumed ones too); isRevoked reports the family; other families stay', async () => {
    const s = await store();
    const members = KINDS.map((kind) => mint(kind).record);
    const familyId = members[0]!.familyId;
    for (const m of members) m.familyId = familyId;
    const consumed = mint('refresh_token', { familyId }).record;
    const other = mint('refresh_token').record;
    for (const m of [...members, consumed, other]) await s.save(m);
    await s.consume('refresh_token', consumed.id);
    await s.revoke({ familyId, until: nowSeconds() + 600 });
    for (const m of [...members, consumed]) await gone(s, m, 'family revocation reaches every member');
    const r = rule('TokenStore.isRevoked', 'revoked families are reported');
    r.check(await s.isRevoked([familyId]), 'isRevoked([familyId]) is false right after revoke({ familyId })');
    r.check(
      await s.isRevoked([marker('jti'), familyId]),
      "isRevoked([jti, familyId]) is false: a JWT's family must count even when its jti is unknown",
    );
    rule('TokenStore.revoke', 'other families are untouched').check(
      await s.find('refresh_token', other.id),
      'a record of another family disappeared',
    );
    rule('TokenStore.isRevoked', 'other families are untouched').check(
      (await s.isRevoked([other.familyId])) === false,
      'another family is reported revoked',
    );
  });

  it('TokenStore.revoke — ids never stored (JWT jti) are remembered; id and family together both count', async () => {
    const s = await store();
    const r = rule('TokenStore.isRevoked', 'revoked ids are reported');
    const jti = marker('jti');
    await rule('TokenStore.revoke', 'revoking unknown ids is not an error').noThrow(
      () => s.revoke({ id: jti, until: nowSeconds() + 600 }),
      'revoke of an id never stored',
    );
    r.check(
      await s.isRevoked([jti]),
      'a JWT id (never stored as a record) is not reported revoked after revoke({ id })',
    );
    const [id, familyId] = [marker('jti'), marker('family')];
    await s.revoke({ id, familyId, until: nowSeconds() + 600 });
    r.check((await s.isRevoked([id])) && (await s.isRevoked([familyId])), 'revoke({ id, familyId }) must revoke both');
  });

  it('TokenStore.revoke — a later revoke with an earlier until never cuts a revocation short', async () => {
    const s = await store();
    const r = rule('TokenStore.revoke', 'until only grows');
    const [id, familyId] = [marker('jti'), marker('family')];
    await s.revoke({ id, familyId, until: nowSeconds() + 3600 });
    await s.revoke({ id, familyId, until: nowSeconds() - 10 });
    r.check(
      await s.isRevoked([id]),
      'an id revoked for an hour was no longer revoked after a second revoke with a past until',
    );
    r.check(
      await s.isRevoked([familyId]),
      'a family revoked for an hour was no longer revoked after a second revoke with a past until',
    );
  });

  it('TokenStore.save — a record saved into a revoked family (a refresh racing reuse detection) is never found', async () => {
    const s = await store();
    const r = rule('TokenStore.save', 'a revoked family stays revoked');
    const familyId = marker('family');
    await s.revoke({ familyId, until: nowSeconds() + 600 });
    for (const kind of KINDS) {
      const late = mint(kind, { familyId }).record;
      await r.noThrow(() => s.save(late), `save of a ${kind} into a revoked family`);
      r.check(
        (await s.find(kind, late.id)) === undefined,
        `a ${kind} saved after its family was revoked was found; it would outlive the reuse detection`,
      );
    }
  });

  it('TokenStore.revoke/save — a family revoked while a member is being saved never keeps that member', async () => {
    const s = await store();
    const r = rule('TokenStore.revoke', 'a revoked family stays revoked');
    // The window is narrow, so race many families, in rounds, saving first or revoking first.
    let survivors = 0;
    for (let round = 0; round < 4; round++) {
      const members = Array.from({ length: 40 }, () => mint('refresh_token').record);
      const revoke = (m: { familyId: string }): Promise<void> =>
        s.revoke({ familyId: m.familyId, until: nowSeconds() + 600 });
      await Promise.all(
        members.map((m, i) => Promise.all(i % 2 === 0 ? [s.save(m), revoke(m)] : [revoke(m), s.save(m)])),
      );
      for (const m of members) if ((await s.find('refresh_token', m.id)) !== undefined) survivors++;
    }
    r.check(
      survivors === 0,
      `${survivors} of 160 records saved concurrently with their family's revocation survived it`,
    );
  });

  it('TokenStore.onRevoke — every listener is told, with the ids and until, before revoke resolves (unknown ids too)', async () => {
    const s = await store();
    const r = rule('TokenStore.onRevoke', 'listeners are told before revoke resolves');
    const [one, two] = [recorder(), recorder()];
    const offs = [s.onRevoke(one.listener), s.onRevoke(two.listener)];
    try {
      const { record } = mint('refresh_token');
      await s.save(record);
      const until = nowSeconds() + 600;
      await s.revoke({ id: record.id, familyId: record.familyId, until });
      for (const rec of [one, two]) {
        const event = rec.events.find((e) => e.ids.includes(record.id));
        if (!event)
          throw r.fail(
            `a listener had not heard of revoke({ id, familyId }) when revoke resolved (heard ${show(rec.events)})`,
          );
        r.check(event.ids.includes(record.familyId), `the event must list the family id too, got ${show(event.ids)}`);
        r.check(
          event.until === until,
          `the event's until must be the revocation's (${until}), got ${show(event.until)}`,
        );
      }
      const jti = marker('jti');
      await s.revoke({ id: jti, until });
      r.check(
        one.heard(jti),
        'revoking an id never stored (a JWT jti) did not tell the listeners; caches would keep serving it',
      );
    } finally {
      for (const off of offs) off();
    }
  });

  it('TokenStore.onRevoke — the function it returns removes the listener', async () => {
    const s = await store();
    const r = rule('TokenStore.onRevoke', 'unsubscribing works');
    const rec = recorder();
    const off = s.onRevoke(rec.listener);
    r.check(typeof off === 'function', `onRevoke must return a function that removes the listener, got ${show(off)}`);
    off();
    const jti = marker('jti');
    await s.revoke({ id: jti, until: nowSeconds() + 600 });
    await sleep(50);
    r.check(!rec.heard(jti), 'a removed listener was still told of a revocation');
  });

  if (!hasPeer) return;

  it(`TokenStore (two instances) — a revocation on one is reported by the other at once, and its listeners hear it within ${propagationMs / 1000} s`, async () => {
    const [a, b] = [await store(), await peer()];
    const rec = recorder();
    const off = b.onRevoke(rec.listener);
    try {
      // A store that cannot yet hear its peers says so with { reset: 'lost' }, then 'restored'.
      await sleep(0);
      const lastReset = (): string | undefined => rec.events.filter((e) => e.reset !== undefined).at(-1)?.reset;
      if (lastReset() === 'lost') {
        const deadline = Date.now() + propagationMs;
        while (lastReset() !== 'restored' && Date.now() < deadline) await sleep(10);
        rule('TokenStore.onRevoke', 'listeners hear other instances').check(
          lastReset() === 'restored',
          `the other instance sent { reset: 'lost' } when the listener registered but no { reset: 'restored' } within ${propagationMs / 1000} s`,
        );
      }
      const { record } = mint('refresh_token');
      await a.save(record);
      const jti = marker('jti');
      await a.revoke({ familyId: record.familyId, until: nowSeconds() + 600 });
      await a.revoke({ id: jti, until: nowSeconds() + 600 });
      const r = rule('TokenStore.isRevoked', 'revocations are shared between instances');
      r.check(await b.isRevoked([record.familyId]), 'the other instance does not report a family revoked on the first');
      r.check(await b.isRevoked([jti]), 'the other instance does not report a jti revoked on the first');
      rule('TokenStore.revoke', 'revocations are shared between instances').check(
        (await b.find('refresh_token', record.id)) === undefined,
        'the other instance still finds a record whose family was revoked on the first',
      );
      const heard = await rec.waitFor(record.familyId, propagationMs);
      const heardJti = await rec.waitFor(jti, propagationMs);
      rule('TokenStore.onRevoke', 'listeners hear other instances').check(
        heard && heardJti,
        `a listener on the other instance did not hear the revocations within ${propagationMs / 1000} s (heard ${show(rec.events)}); its requireToken cache would keep serving revoked tokens`,
      );
    } finally {
      off();
    }
  });
}
