/**
 * The contract kit catches the mistakes adapter authors make: a deliberately broken adapter
 * (check-then-act `consume`, plain-text client secrets and passwords) is run through the kit
 * with a collecting `describe`/`it`, and exactly the rules it breaks fail, each naming the
 * method and the rule. Also shows the kit runs with a caller-supplied `describe`/`it`, as under
 * `node:test`.
 */
import { hashClientSecret, safeEqual } from '../../src/core/crypto';
import { memoryClientStore, memoryTokenStore } from '../../src/stores/memory';
import type { Client, ClientStore, TokenStore, User, UserStore } from '../../src/stores/types';
import {
  describeClientStore,
  describeTokenStore,
  describeUserStore,
  StoreContractError,
  type ClientFixture,
  type UserFixture,
} from '../../src/testing';

interface Outcome {
  name: string;
  error?: unknown;
}

/** A `describe`/`it` pair that collects the kit's tests so this file can run them and look at the results. */
function collector(): {
  describe: (name: string, body: () => void) => void;
  it: (name: string, body: () => Promise<void>) => void;
  run(): Promise<Outcome[]>;
} {
  const tests: { name: string; body: () => Promise<void> }[] = [];
  return {
    describe: (_name, body) => body(),
    it: (name, body) => void tests.push({ name, body }),
    async run() {
      const outcomes: Outcome[] = [];
      for (const t of tests) {
        try {
          await t.body();
          outcomes.push({ name: t.name });
        } catch (error) {
          outcomes.push({ name: t.name, error });
        }
      }
      return outcomes;
    },
  };
}

const failures = (outcomes: Outcome[]): { name: string; method: string; rule: string; message: string }[] =>
  outcomes
    .filter((o) => o.error !== undefined)
    .map((o) => {
      const e = o.error as StoreContractError;
      return { name: o.name, method: e.method, rule: e.rule, message: e.message };
    });

/** The classic mistake: read, decide, write — with an await in between where another request runs. */
function checkThenActTokenStore(): TokenStore & { dump(): unknown } {
  const inner = memoryTokenStore();
  return {
    ...inner,
    async consume(kind, id) {
      const before = await inner.find(kind, id);
      if (!before) return undefined;
      await new Promise((resolve) => setImmediate(resolve));
      const after = await inner.consume(kind, id);
      return after && { record: after.record, reused: before.consumedAt !== undefined };
    },
    dump: () => inner.dump(),
  };
}

/** Keeps each secret as given and hashes it on the way out: findClient looks right, the table is not. */
function plainTextClientStore(fixtures: readonly ClientFixture[]): ClientStore & { dump(): unknown } {
  const rows = fixtures.map((c) => ({ ...c }));
  return {
    async findClient(id) {
      const row = rows.find((r) => r.id === id);
      if (!row) return undefined;
      const { secret, ...client } = row;
      return secret === undefined ? (client as Client) : { ...client, secretHash: hashClientSecret(secret) };
    },
    dump: () => rows,
  };
}

/** Keeps passwords as given and compares them directly (constant-time, but still plain text). */
function plainTextUserStore(fixtures: readonly UserFixture[]): UserStore & { dump(): unknown } {
  const rows = fixtures.map((u) => ({ ...u }));
  return {
    async authenticate(username, password) {
      const row = rows.find((r) => r.username === username);
      if (!row || !safeEqual(row.password, password)) return undefined;
      return { id: row.id, username: row.username } as User;
    },
    async findUser(id) {
      const row = rows.find((r) => r.id === id);
      return row && ({ id: row.id, username: row.username } as User);
    },
    dump: () => rows,
  };
}

describe('tokengate/testing catches a broken adapter', () => {
  test('a check-then-act consume fails exactly the atomic single-use rules, naming TokenStore.consume', async () => {
    const t = collector();
    const store = checkThenActTokenStore();
    describeTokenStore('check-then-act', {
      create: () => store,
      dump: () => store.dump(),
      describe: t.describe,
      it: t.it,
    });
    const outcomes = await t.run();
    const failed = failures(outcomes);
    expect(failed.map((f) => f.name).sort()).toEqual([
      'TokenStore.consume — atomic single use: of 25 concurrent consumes of one authorization_code, exactly one gets reused:false',
      'TokenStore.consume — atomic single use: of 25 concurrent consumes of one refresh_token, exactly one gets reused:false',
    ]);
    for (const f of failed) {
      expect(f).toMatchObject({ method: 'TokenStore.consume', rule: 'atomic single use' });
      expect(f.message).toMatch(
        /^TokenStore\.consume broke "atomic single use": 25 concurrent consume\('(refresh_token|authorization_code)'\) calls of one token on one instance: (\d+) got reused:false/,
      );
      expect(Number(/: (\d+) got reused:false/.exec(f.message)?.[1])).toBeGreaterThan(1);
    }
    expect(outcomes.length).toBeGreaterThan(15);
  });

  test('plain-text client secrets fail the storage rule, naming ClientStore.findClient', async () => {
    const t = collector();
    let store: ReturnType<typeof plainTextClientStore> | undefined;
    describeClientStore('plain-text clients', {
      create: (c) => (store = plainTextClientStore(c)),
      dump: () => store?.dump(),
      describe: t.describe,
      it: t.it,
    });
    const failed = failures(await t.run());
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      name: 'ClientStore storage — no client secret is stored in plain text',
      method: 'ClientStore.findClient',
      rule: 'stores hashes, never secrets',
    });
    expect(failed[0]!.message).toMatch(/plain secret of .* is in the stored data; store hashClientSecret\(secret\)/);
  });

  test('a deleteClient that does not remove fails the deletion rule, naming ClientStore.deleteClient (RFC 7592 §2.3)', async () => {
    const t = collector();
    let inner = memoryClientStore([]);
    const create = (fixtures: readonly ClientFixture[]): ClientStore => {
      inner = memoryClientStore(fixtures);
      return {
        findClient: inner.findClient,
        registerClient: inner.registerClient,
        updateClient: inner.updateClient,
        deleteClient: async () => true,
      };
    };
    describeClientStore('sticky clients', { create, dump: () => inner.dump(), describe: t.describe, it: t.it });
    const failed = failures(await t.run());
    expect(failed.map(({ method, rule }) => ({ method, rule }))).toEqual([
      { method: 'ClientStore.deleteClient', rule: 'really removes' },
      { method: 'ClientStore.deleteClient', rule: "a deleted client's tokens stop working" },
    ]);
    expect(failed[1]!.message).toMatch(/a deleted client can still authenticate/);
  });

  test('a store with only some of the registration writes fails, naming ClientStore.registerClient', async () => {
    const t = collector();
    let inner = memoryClientStore([]);
    const create = (fixtures: readonly ClientFixture[]): ClientStore => {
      inner = memoryClientStore(fixtures);
      return { findClient: inner.findClient, registerClient: inner.registerClient };
    };
    describeClientStore('partial writes', { create, dump: () => inner.dump(), describe: t.describe, it: t.it });
    const failed = failures(await t.run());
    expect(failed.length).toBeGreaterThan(0);
    expect(
      failed.every((f) => f.method === 'ClientStore.registerClient' && f.rule === 'all three write methods or none'),
    ).toBe(true);
  });

  test('plain-text passwords fail the storage and slow-hash rules, naming UserStore.authenticate', async () => {
    const t = collector();
    let store: ReturnType<typeof plainTextUserStore> | undefined;
    describeUserStore('plain-text users', {
      create: (u) => (store = plainTextUserStore(u)),
      dump: () => store?.dump(),
      describe: t.describe,
      it: t.it,
    });
    const failed = failures(await t.run());
    expect(failed.map(({ method, rule }) => ({ method, rule }))).toEqual([
      { method: 'UserStore.authenticate', rule: 'passwords are checked with a slow hash' },
      { method: 'UserStore.authenticate', rule: 'stores slow salted hashes, never passwords' },
    ]);
    expect(failed[1]!.message).toMatch(/is stored in plain text; use hashPassword/);
  });

  test('a harness without describe/it outside a test framework gets a message saying what to pass', () => {
    const g = globalThis as Record<string, unknown>;
    const saved = { describe: g.describe, it: g.it, test: g.test };
    try {
      g.describe = g.it = g.test = undefined;
      expect(() => describeTokenStore('x', { create: () => memoryTokenStore(), dump: () => [] })).toThrow(
        /under node:test pass them/,
      );
    } finally {
      Object.assign(g, saved);
    }
  });
});
