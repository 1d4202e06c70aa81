/**
 * Token-store rules about records: round trip, absent fields, copies, conflicts, kinds,
 * unknown ids, expiry and what is stored.
 * @packageDocumentation
 */
import type { TokenRecord } from '../stores/types';
import { carelessForms, copy, defined, dumpStrings, findLeak, nowSeconds, rule, show, sleepPast } from './harness';
import { KINDS, SINGLE_USE, mint, oddIds, type TokenKit } from './token-fixtures';

const OPTIONAL: readonly (keyof TokenRecord)[] = [
  'userId',
  'consumedAt',
  'redirectUri',
  'codeChallenge',
  'codeChallengeMethod',
  'resources',
  'jkt',
];

/** Register the record rules. */
export function recordRules({ it, store, harness }: TokenKit): void {
  it('TokenStore.save/find — a record of every kind round-trips with every field', async () => {
    const s = await store();
    const r = rule('TokenStore.find', 'records round-trip');
    for (const kind of KINDS) {
      const { record } = mint(kind, { scope: ['read', 'write', 'profile:email'] });
      await s.save(record);
      r.equal(defined(await s.find(kind, record.id)), record, `find('${kind}') right after save`);
    }
  });

  it('TokenStore.save/find/consume — the nested OpenID Connect facts (record.openid) round-trip', async () => {
    const s = await store();
    const r = rule('TokenStore.find', 'records round-trip');
    const { record } = mint('authorization_code');
    record.openid = {
      nonce: 'n-0S6 "quoted"',
      authTime: nowSeconds() - 60,
      acr: 'urn:example:loa:2',
      amr: ['pwd', 'otp'],
      idTokenClaims: ['email'],
      userinfoClaims: ['name'],
      authTimeRequired: true,
    };
    await s.save(record);
    r.equal((await s.find('authorization_code', record.id))?.openid, record.openid, 'record.openid after find');
    const consumed = await s.consume('authorization_code', record.id);
    r.equal(consumed?.record.openid, record.openid, 'record.openid after consume');
  });

  it('TokenStore.find — fields left out come back undefined (not null), numbers as numbers, scope as an array', async () => {
    const s = await store();
    const r = rule('TokenStore.find', 'absent fields are undefined');
    const { record } = mint('refresh_token', { scope: [] });
    delete record.userId;
    delete record.resources;
    delete record.jkt;
    await s.save(record);
    const found = await s.find('refresh_token', record.id);
    if (!found) throw r.fail('a just-saved record was not found');
    for (const field of OPTIONAL) {
      r.check(
        found[field] === undefined,
        `${field} was not saved but came back as ${show(found[field])}; the library tests "!== undefined"`,
      );
    }
    r.check(
      typeof found.issuedAt === 'number' && typeof found.expiresAt === 'number',
      `issuedAt/expiresAt must be numbers, got ${show([found.issuedAt, found.expiresAt])}`,
    );
    r.check(
      Array.isArray(found.scope) && found.scope.length === 0,
      `an empty scope must come back as [], got ${show(found.scope)}`,
    );
  });

  it('TokenStore.save — keeps its own copy: changing the object afterwards changes nothing stored', async () => {
    const s = await store();
    const r = rule('TokenStore.save', 'stores a copy');
    const { record } = mint('refresh_token');
    const original = copy(record);
    await s.save(record);
    record.scope.push('admin');
    record.sub = 'someone-else';
    r.equal(
      defined(await s.find('refresh_token', original.id)),
      original,
      'the record after the caller changed its object',
    );
  });

  it('TokenStore.save — refuses a second record with the same id and keeps the first', async () => {
    const s = await store();
    const r = rule('TokenStore.save', 'never overwrites');
    const { record } = mint('refresh_token');
    await s.save(record);
    await s.consume('refresh_token', record.id);
    let rejected = false;
    try {
      await s.save({ ...record, sub: 'intruder' });
    } catch {
      rejected = true;
    }
    r.check(
      rejected,
      'a second save with an existing id resolved; it must reject (an overwrite could un-consume a token)',
    );
    const found = await s.find('refresh_token', record.id);
    r.check(
      found?.sub === record.sub && found.consumedAt !== undefined,
      `the first record must stay as it was, got ${show(found)}`,
    );
  });

  it('TokenStore.find/consume — a record is found only under its own kind', async () => {
    const s = await store();
    const r = rule('TokenStore.find', 'kinds do not mix');
    const { record } = mint('refresh_token');
    await s.save(record);
    for (const kind of KINDS.filter((k) => k !== 'refresh_token')) {
      r.check((await s.find(kind, record.id)) === undefined, `find('${kind}') returned a refresh_token record`);
      const consumed = await s.consume(kind, record.id);
      rule('TokenStore.consume', 'kinds do not mix').check(
        consumed === undefined,
        `consume('${kind}') returned ${show(consumed)} for a refresh_token record`,
      );
    }
    const first = await s.consume('refresh_token', record.id);
    rule('TokenStore.consume', 'kinds do not mix').check(
      first?.reused === false,
      'a consume under the wrong kind must not use the token up',
    );
  });

  it('TokenStore.find/consume/isRevoked — unknown or odd ids resolve to undefined / false, never throw', async () => {
    const s = await store();
    for (const id of oddIds()) {
      for (const kind of KINDS) {
        const found = await rule('TokenStore.find', 'unknown ids give undefined').noThrow(
          () => s.find(kind, id),
          `find('${kind}', ${show(id)})`,
        );
        rule('TokenStore.find', 'unknown ids give undefined').check(
          found === undefined,
          `find('${kind}', ${show(id)}) gave ${show(found)}`,
        );
      }
      for (const kind of SINGLE_USE) {
        const consumed = await rule('TokenStore.consume', 'unknown ids give undefined').noThrow(
          () => s.consume(kind, id),
          `consume('${kind}', ${show(id)})`,
        );
        rule('TokenStore.consume', 'unknown ids give undefined').check(
          consumed === undefined,
          `consume('${kind}', ${show(id)}) gave ${show(consumed)}`,
        );
      }
      const revoked = await rule('TokenStore.isRevoked', 'unknown ids are not revoked').noThrow(
        () => s.isRevoked([id]),
        `isRevoked([${show(id)}])`,
      );
      rule('TokenStore.isRevoked', 'unknown ids are not revoked').check(
        revoked === false,
        `isRevoked([${show(id)}]) gave ${show(revoked)}`,
      );
    }
    const none = await rule('TokenStore.isRevoked', 'unknown ids are not revoked').noThrow(
      () => s.isRevoked([]),
      'isRevoked([])',
    );
    rule('TokenStore.isRevoked', 'unknown ids are not revoked').check(
      none === false,
      `isRevoked([]) gave ${show(none)}`,
    );
  });

  it('TokenStore.find/consume — a record whose expiresAt has come is absent (and saving one does not throw)', async () => {
    const s = await store();
    const now = nowSeconds();
    for (const expiresAt of [now - 60, now - 1, now]) {
      for (const kind of SINGLE_USE) {
        const { record } = mint(kind, { issuedAt: now - 120, expiresAt });
        await rule('TokenStore.save', 'expiry honoured').noThrow(
          () => s.save(record),
          `save of a record with expiresAt ${expiresAt - now}s from now`,
        );
        const found = await s.find(kind, record.id);
        rule('TokenStore.find', 'expiry honoured').check(
          found === undefined,
          `a ${kind} with expiresAt ${expiresAt - now}s from now was found`,
        );
        const consumed = await s.consume(kind, record.id);
        rule('TokenStore.consume', 'expiry honoured').check(
          consumed === undefined,
          `a ${kind} with expiresAt ${expiresAt - now}s from now was consumed`,
        );
      }
    }
  });

  it('TokenStore.find/consume/save — records vanish once expiresAt passes; a revoked family stays closed after until', async () => {
    const s = await store();
    const start = nowSeconds();
    const soon = start + 2;
    const live = mint('refresh_token', { expiresAt: soon });
    const code = mint('authorization_code', { expiresAt: soon });
    await s.save(live.record);
    await s.save(code.record);
    const family = mint('refresh_token').record.familyId;
    await s.revoke({ familyId: family, until: start + 1 });
    const late = mint('refresh_token', { familyId: family });
    await s.save(late.record);
    rule('TokenStore.find', 'records round-trip').check(
      await s.find('refresh_token', live.record.id),
      'a record with 2 s left was not found',
    );

    await sleepPast(soon);
    rule('TokenStore.find', 'expiry honoured').check(
      (await s.find('refresh_token', live.record.id)) === undefined,
      'a refresh_token was still found after its expiresAt',
    );
    rule('TokenStore.consume', 'expiry honoured').check(
      (await s.consume('refresh_token', live.record.id)) === undefined,
      'a refresh_token was consumed after its expiresAt',
    );
    rule('TokenStore.consume', 'expiry honoured').check(
      (await s.consume('authorization_code', code.record.id)) === undefined,
      'an authorization_code was consumed after its expiresAt',
    );
    const revived = rule('TokenStore.save', 'a revoked family stays revoked');
    revived.check(
      (await s.find('refresh_token', late.record.id)) === undefined,
      "a record saved into a revoked family became findable once the revocation's until passed",
    );
    revived.check(
      (await s.consume('refresh_token', late.record.id)) === undefined,
      "a record saved into a revoked family became consumable once the revocation's until passed",
    );
  });

  it('TokenStore storage — ids are stored as the hashes given, never as the raw token', async () => {
    const s = await store();
    const r = rule('TokenStore.save', 'stores hashes, never raw tokens');
    const minted = KINDS.map((kind) => mint(kind));
    for (const { record } of minted) await s.save(record);
    await s.consume('refresh_token', minted[1]!.record.id);
    const strings = dumpStrings(await harness.dump());
    for (const { raw, record } of minted) {
      r.check(
        strings.some((x) => x.includes(record.id)),
        `dump() does not contain the id ${record.id} just saved; it must return what the store wrote`,
      );
      const leak = findLeak(strings, carelessForms(raw, false));
      r.check(leak === undefined, `the raw ${record.kind} (or its hex/base64) is in the stored data`);
    }
  });
}
