/**
 * `describeUserStore`: the {@link UserStore} contract as a test suite.
 * @packageDocumentation
 */
import { performance } from 'node:perf_hooks';
import { randomToken } from '../core/crypto';
import type { MemoryUserInput } from '../stores/memory/users';
import type { UserStore } from '../stores/types';
import {
  carelessForms,
  copy,
  dumpStrings,
  findLeak,
  marker,
  once,
  rule,
  show,
  testApi,
  type KitTestApi,
} from './harness';

/** A user as the kit hands it to {@link UserStoreHarness.create}: id, username and plain password. */
export type UserFixture = MemoryUserInput;

/**
 * How {@link describeUserStore} reaches the store under test.
 *
 * @example
 * ```ts
 * describeUserStore('pgUserStore', {
 *   create: async (users) => { for (const u of users) await registerUser(pool, u); return pgUserStore(pool); },
 *   dump: async () => (await pool.query('SELECT * FROM users')).rows,
 * });
 * ```
 */
export interface UserStoreHarness extends KitTestApi {
  /**
   * The store under test, holding (at least) these users. Called once, by the first test.
   * Each password arrives in plain text: store it the way your app signs users up, with a
   * slow salted hash (`hashPassword`, bcrypt, argon2). Ids and usernames carry a random
   * suffix, so a shared database is fine.
   */
  create(users: readonly UserFixture[]): UserStore | Promise<UserStore>;
  /** Everything the store wrote, as stored; the kit checks no password is in it, plain or fast-hashed. */
  dump(): unknown;
}

function fixtures(): UserFixture[] {
  const m = marker('kit');
  return [
    { id: `${m}-alice`, username: `${m}-alice@example.com`, password: `Wonderland-${randomToken(6)}` },
    { id: `${m}-bob`, username: `${m}-bob@example.com`, password: `pässwörd 🙂 ${randomToken(6)}` },
    { id: `${m}-carol`, username: `${m}-' OR '1'='1`, password: `'; DROP TABLE users; -- ${randomToken(6)}` },
    { id: `${m}-dave`, username: `${m}-dave`, password: 'long-'.repeat(200) + randomToken(6) },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** How long the event loop stood still, at most, while `fn` ran, next to how long `fn` took. */
async function longestStall(fn: () => Promise<unknown>): Promise<{ stall: number; total: number }> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const start = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const end = performance.now();
  return { stall: Math.max(stall, end - last), total: end - start };
}

/**
 * Register the {@link UserStore} contract as tests: the right password gives the user, any
 * other gives `undefined`; unknown and odd usernames give `undefined` without throwing and
 * cost about as much as a wrong password; `authenticate` does not block the event loop;
 * `findUser` (when implemented) finds by id; no password is stored plain or fast-hashed.
 *
 * @param name - the `describe` block's title
 * @param harness - how to create the store with the kit's users, and read what it stored
 *
 * @example
 * ```ts
 * import { describeUserStore } from 'tokengate/testing';
 * describeUserStore('myUserStore', { create: (users) => myUserStore(users), dump: () => db.rows('users') });
 * ```
 */
export function describeUserStore(name: string, harness: UserStoreHarness): void {
  const { describe, it } = testApi(harness, 'describeUserStore');
  if (typeof harness?.create !== 'function' || typeof harness.dump !== 'function') {
    throw new Error('describeUserStore(name, harness): harness needs create(users) and dump().');
  }
  const users = fixtures();
  const [alice, bob] = users as [UserFixture, UserFixture];
  const store = once<UserStore>(() => harness.create(users.map((u) => copy(u))));

  describe(`${name}: UserStore contract (tokengate/testing)`, () => {
    it('UserStore.authenticate — the right password gives that user', async () => {
      const s = await store();
      const r = rule('UserStore.authenticate', 'the right password gives the user');
      for (const u of users) {
        const user = await s.authenticate(u.username, u.password);
        r.check(
          user?.id === u.id,
          `authenticate(${show(u.username)}, its password) gave ${show(user)}; expected the user with id ${show(u.id)}`,
        );
      }
    });

    it('UserStore.authenticate — any other password gives undefined', async () => {
      const s = await store();
      const r = rule('UserStore.authenticate', 'a wrong password gives undefined');
      const p = alice.password;
      for (const wrong of [
        '',
        `${p}x`,
        p.slice(0, -1),
        p.toUpperCase(),
        p.toLowerCase(),
        ` ${p}`,
        `${p.slice(0, 3)}\u0000${p.slice(3)}`,
        bob.password,
      ]) {
        const user = await r.noThrow(
          () => s.authenticate(alice.username, wrong),
          `authenticate with a wrong password ${show(wrong)}`,
        );
        r.check(user === undefined, `authenticate(${show(alice.username)}, ${show(wrong)}) gave ${show(user)}`);
      }
    });

    it('UserStore.authenticate — unknown or odd usernames give undefined, never throw', async () => {
      const s = await store();
      const r = rule('UserStore.authenticate', 'unknown users give undefined');
      for (const username of [
        '',
        marker('nobody'),
        'x'.repeat(4096),
        "' OR '1'='1",
        'nul\u0000byte',
        '%',
        '_',
        '\uD800',
        ` ${alice.username}`,
      ]) {
        const user = await r.noThrow(
          () => s.authenticate(username, alice.password),
          `authenticate(${show(username)}, …)`,
        );
        r.check(user === undefined, `authenticate(${show(username)}, alice's password) gave ${show(user)}`);
      }
    });

    it('UserStore.authenticate — a wrong password costs a slow hash, and an unknown username about as much (no user enumeration by timing)', async () => {
      const s = await store();
      const r = rule('UserStore.authenticate', 'constant work for unknown users');
      await s.authenticate(alice.username, 'warm-up');
      await s.authenticate(marker('nobody'), 'warm-up');
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        wrong.push(await timed(() => s.authenticate(alice.username, `wrong-${i}`)));
        unknown.push(await timed(() => s.authenticate(marker('nobody'), `wrong-${i}`)));
      }
      const [w, u] = [median(wrong), median(unknown)];
      rule('UserStore.authenticate', 'passwords are checked with a slow hash').check(
        w >= 1,
        `a wrong password was rejected in ${w.toFixed(3)} ms (median): no slow hash was computed; store hashPassword (scrypt), bcrypt or argon2 hashes and verify against them`,
      );
      r.check(
        u >= w * 0.25,
        `an unknown username took ${u.toFixed(1)} ms (median), a wrong password ${w.toFixed(1)} ms; verify the password against a dummy hash when the user is unknown`,
      );
    });

    it('UserStore.authenticate — does not block the event loop (async password hashing)', async () => {
      const s = await store();
      const r = rule('UserStore.authenticate', 'never blocks the event loop');
      const tries: { stall: number; total: number }[] = [];
      // Blocking only counts if seen every time: one stall can be another process taking the CPU.
      for (let i = 0; i < 3; i++) {
        const t = await longestStall(() => s.authenticate(alice.username, `wrong-${i}`));
        tries.push(t);
        if (t.total < 20 || t.stall < t.total * 0.8) return;
      }
      const shown = tries.map((t) => `${t.stall.toFixed(0)} of ${t.total.toFixed(0)} ms`).join(', ');
      r.check(
        false,
        `the event loop stood still for most of each call (${shown}); use async scrypt/bcrypt/argon2, not the Sync variants`,
      );
    });

    it('UserStore.findUser — finds by id; unknown or odd ids give undefined, never throw (skipped only if findUser is not implemented)', async () => {
      const s = await store();
      if (typeof s.findUser !== 'function') return; // optional method: nothing to check
      const r = rule('UserStore.findUser', 'finds by id, undefined otherwise');
      for (const u of users) {
        const user = await s.findUser(u.id);
        r.check(user?.id === u.id, `findUser(${show(u.id)}) gave ${show(user)}`);
      }
      for (const id of [
        '',
        marker('nobody'),
        'x'.repeat(4096),
        "' OR '1'='1",
        'nul\u0000byte',
        alice.id.toUpperCase(),
        alice.username,
      ]) {
        const user = await r.noThrow(() => s.findUser!(id), `findUser(${show(id)})`);
        r.check(user === undefined, `findUser(${show(id)}) gave ${show(user)}`);
      }
    });

    it('UserStore storage — no password is stored in plain text or as an unsalted fast hash', async () => {
      await store();
      const r = rule('UserStore.authenticate', 'stores slow salted hashes, never passwords');
      const strings = dumpStrings(await harness.dump());
      r.check(
        strings.some((x) => x.includes(alice.username)),
        `dump() does not contain the username ${show(alice.username)}; it must return what the store wrote`,
      );
      for (const u of users) {
        const leak = findLeak(strings, carelessForms(u.password, true));
        r.check(
          leak === undefined,
          `the password of ${show(u.username)} is stored ${leak === u.password ? 'in plain text' : 'as an unsalted fast hash or encoding'}; use hashPassword (scrypt), bcrypt or argon2`,
        );
      }
    });
  });
}
