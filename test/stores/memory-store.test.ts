/**
 * The in-memory stores: hashed at construction, no plain secrets kept, safe under
 * concurrent use.
 */
import crypto from 'node:crypto';
import { inspect } from 'node:util';
import { hashToken, memoryStores, memoryTokenStore, type TokenRecord } from '../../src';
import { nowSeconds as now } from '../support/seconds';
import { CLIENTS, USERS } from '../support/spine';

describe('memoryStores keeps no plain secrets', () => {
  test('client secrets are stored as SHA-256 hashes', async () => {
    const { clients } = memoryStores({ clients: CLIENTS });
    const client = await clients.findClient('web-app');
    expect(client?.secretHash).toMatch(/^sha256:/);
    expect(inspect(client, { depth: 5 })).not.toContain('web-secret');
    expect((await clients.findClient('spa'))?.secretHash).toBeUndefined();
  });

  test('passwords are hashed with scrypt and checked without revealing which part was wrong', async () => {
    const { users } = memoryStores({ clients: [], users: USERS });
    expect(await users.authenticate('alice@example.com', 'wonderland')).toMatchObject({ id: 'user-alice' });
    expect(await users.authenticate('alice@example.com', 'nope')).toBeUndefined();
    expect(await users.authenticate('nobody@example.com', 'wonderland')).toBeUndefined();
    expect(inspect(await users.findUser?.('user-alice'), { depth: 5 })).not.toContain('wonderland');
  });

  test('duplicate ids are refused at construction', () => {
    expect(() => memoryStores({ clients: [CLIENTS[0]!, CLIENTS[0]!] })).toThrow(/listed twice/);
  });

  test('a duplicate user is refused before any password is hashed: a configuration error leaves no scrypt running', () => {
    const scrypt = jest.spyOn(crypto, 'scrypt');
    try {
      // A fresh copy of the source, loaded after the spy, so that its `node:crypto` import sees it.
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const fresh = (require('../../src') as typeof import('../../src')).memoryStores;
        const alice = USERS[0]!;
        expect(() => fresh({ clients: [], users: [alice, { ...alice, id: 'other' }] })).toThrow(/username .* twice/);
        expect(() => fresh({ clients: [], users: [alice, { ...alice, username: 'other' }] })).toThrow(/id .* twice/);
        expect(scrypt).not.toHaveBeenCalled();
        fresh({ clients: [], users: [alice] });
        expect(scrypt).toHaveBeenCalled(); // the spy does see a store's hashing
      });
    } finally {
      scrypt.mockRestore();
    }
  });

  test('unknown ids give undefined, not an error', async () => {
    const { clients, users, tokens } = memoryStores({ clients: CLIENTS, users: USERS });
    await expect(clients.findClient('nope')).resolves.toBeUndefined();
    await expect(users.findUser?.('nope')).resolves.toBeUndefined();
    await expect(tokens.find('refresh_token', 'nope')).resolves.toBeUndefined();
    await expect(tokens.consume('refresh_token', 'nope')).resolves.toBeUndefined();
  });
});

describe('memoryTokenStore', () => {
  const record = (over: Partial<TokenRecord> = {}): TokenRecord => ({
    kind: 'refresh_token',
    id: hashToken(Math.random().toString()),
    familyId: 'fam-' + Math.random(),
    clientId: 'web-app',
    sub: 'user-alice',
    scope: ['read'],
    issuedAt: now(),
    expiresAt: now() + 60,
    ...over,
  });

  test('consume is atomic: of 100 concurrent consumes exactly one is first', async () => {
    const store = memoryTokenStore();
    const r = record();
    await store.save(r);
    const results = await Promise.all(Array.from({ length: 100 }, () => store.consume('refresh_token', r.id)));
    expect(results.filter((x) => x && !x.reused)).toHaveLength(1);
    expect(results.filter((x) => x && x.reused)).toHaveLength(99);
  });

  test('expired records are absent', async () => {
    const store = memoryTokenStore();
    const r = record({ expiresAt: now() - 1 });
    await store.save(r);
    await expect(store.find('refresh_token', r.id)).resolves.toBeUndefined();
  });

  test('revoking a family removes its records, denies its id and tells listeners synchronously', async () => {
    const store = memoryTokenStore();
    const a = record({ familyId: 'f1' });
    const b = record({ familyId: 'f1', kind: 'access_token' });
    const other = record({ familyId: 'f2' });
    await Promise.all([store.save(a), store.save(b), store.save(other)]);
    const heard: string[][] = [];
    store.onRevoke((e) => heard.push(e.ids));
    const revoking = store.revoke({ familyId: 'f1', until: now() + 60 });
    expect(heard).toEqual([['f1']]);
    await revoking;
    await expect(store.find('refresh_token', a.id)).resolves.toBeUndefined();
    await expect(store.find('access_token', b.id)).resolves.toBeUndefined();
    await expect(store.find('refresh_token', other.id)).resolves.toBeDefined();
    await expect(store.isRevoked(['x', 'f1'])).resolves.toBe(true);
    await expect(store.isRevoked(['f2'])).resolves.toBe(false);
  });

  test('a revocation lapses after until', async () => {
    const store = memoryTokenStore();
    await store.revoke({ id: 'jti-1', until: now() - 1 });
    await expect(store.isRevoked(['jti-1'])).resolves.toBe(false);
  });

  test('stored records are frozen copies: callers cannot change what the store keeps', async () => {
    const store = memoryTokenStore();
    const r = record();
    await store.save(r);
    r.scope.push('admin');
    const found = await store.find('refresh_token', r.id);
    expect(found?.scope).toEqual(['read']);
    expect(Object.isFrozen(found)).toBe(true);
  });
});
