/**
 * The memory token store keeps records in columns (binary ids, interned strings, families as
 * indices). Beyond the store contract (test/stores/memory-store-kit.test.ts), these are the ways a
 * compact layout could lose or mix up data: ids of any shape, fields it has no column for,
 * slots reused after a removal, families spread over many records, the index growing and
 * shrinking.
 */
import { randomBytes } from 'node:crypto';
import { hashToken, memoryTokenStore, type TokenRecord } from '../../src';

const now = () => Math.floor(Date.now() / 1000);
function refresh(extra: Partial<TokenRecord> = {}): TokenRecord {
  return {
    kind: 'refresh_token',
    id: hashToken(randomBytes(32).toString('base64url')),
    familyId: randomBytes(16).toString('base64url'),
    clientId: 'web-app',
    sub: 'user-1',
    userId: 'user-1',
    scope: ['read', 'write'],
    issuedAt: now(),
    expiresAt: now() + 3600,
    ...extra,
  };
}

describe('the compact memory token store', () => {
  test('ids of any shape come back exactly: token hashes, other strings, look-alikes of a hash', async () => {
    const store = memoryTokenStore();
    const hash = hashToken('a token');
    // Same length and alphabet as a hash, but not a canonical 32-byte encoding (last char).
    const lookalike = `${hash.slice(0, 42)}B`;
    const ids = [hash, lookalike, 'id-1', '', 'ünïcode ✓', 'x'.repeat(500)];
    for (const id of ids) await store.save(refresh({ id, familyId: id === '' ? 'f' : `f-${id}` }));
    for (const id of ids) expect((await store.find('refresh_token', id))?.id).toBe(id);
    expect(store.size()).toBe(ids.length);
    expect(await store.find('refresh_token', hashToken('another token'))).toBeUndefined();
  });

  test('fields without a column (authorization codes, fields later features add) are kept as given', async () => {
    const store = memoryTokenStore();
    const code: TokenRecord = {
      ...refresh({ kind: 'authorization_code' }),
      redirectUri: 'https://app.example.com/cb',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
    };
    const openid = { nonce: 'n-0S6_WzA2Mj', authTime: 1700000000, claims: { userinfo: { email: null } } };
    const withFeature = {
      ...refresh(),
      resources: ['https://api.example.com'],
      jkt: 'thumbprint',
      openid,
    } as TokenRecord;
    await store.save(code);
    await store.save(withFeature);
    expect(await store.find('authorization_code', code.id)).toEqual(code);
    expect(await store.find('refresh_token', withFeature.id)).toEqual(withFeature);
    // Saved as a copy: changing the caller's nested object afterwards does not reach the store.
    openid.claims.userinfo.email = 'changed' as never;
    const again = (await store.find('refresh_token', withFeature.id)) as unknown as { openid: typeof openid };
    expect(again.openid.claims.userinfo.email).toBeNull();
    const { userId: _u, ...noUser } = refresh();
    await store.save(noUser);
    const found = await store.find('refresh_token', noUser.id);
    expect(found).toEqual(noUser);
    expect(found && 'userId' in found).toBe(false);
  });

  test('a slot reused after a removal carries nothing of the record that had it', async () => {
    const store = memoryTokenStore();
    const first = { ...refresh({ userId: 'user-9', scope: ['admin'] }), codeChallenge: 'c' } as TokenRecord;
    await store.save(first);
    await store.consume('refresh_token', first.id);
    await store.revoke({ familyId: first.familyId, until: now() + 60 });
    const { userId: _u, ...second } = refresh({ scope: [] });
    await store.save(second);
    const found = await store.find('refresh_token', second.id);
    expect(found).toEqual(second);
    expect(found?.consumedAt).toBeUndefined();
    expect(await store.find('refresh_token', first.id)).toBeUndefined();
  });

  test('thousands of records: every one found, families revoked whole, the rest untouched (RFC 9700 §4.14.2)', async () => {
    const store = memoryTokenStore();
    const families = Array.from({ length: 100 }, () => randomBytes(16).toString('base64url'));
    const records = Array.from({ length: 2500 }, (_, i) =>
      refresh({ familyId: families[i % families.length] as string, sub: `user-${i % 7}` }),
    );
    for (const r of records) await store.save(r);
    expect(store.size()).toBe(2500);
    for (const r of records) expect(await store.find('refresh_token', r.id)).toEqual(r);
    const revoked = new Set(families.slice(0, 50));
    for (const f of revoked) await store.revoke({ familyId: f, until: now() + 60 });
    expect(store.size()).toBe(1250);
    for (const r of records) {
      const found = await store.find('refresh_token', r.id);
      if (revoked.has(r.familyId)) expect(found).toBeUndefined();
      else expect(found).toEqual(r);
    }
    // Saved again after the removals (slots and index entries reused), still all found.
    const more = Array.from({ length: 1250 }, () => refresh());
    for (const r of more) await store.save(r);
    for (const r of more) expect(await store.find('refresh_token', r.id)).toEqual(r);
    expect(store.dump().records).toHaveLength(2500);
  });

  test('expired records are swept by the store’s one timer, not kept', async () => {
    const store = memoryTokenStore({ sweepInterval: 0.01 });
    await store.save(refresh({ expiresAt: now() - 1 }));
    await store.save(refresh());
    expect(store.size()).toBe(2);
    for (let i = 0; i < 100 && store.size() > 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.size()).toBe(1);
  });
});
