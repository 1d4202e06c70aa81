/**
 * Refresh rotation with retries (RFC 9700 §4.14.2; docs/refresh-rotation.md), under the
 * memory, Redis and PostgreSQL token stores: a refresh token presented again by its client
 * within the reuse window, before its successor was used (or, at the strict default, before
 * it was ever saved), is answered with a fresh access token and the same successor; anything
 * else is a replay that revokes the family.
 */
import request from 'supertest';
import { memoryStores, TemporarilyUnavailable, type ServerOptions } from '../../src';
import { advanceClock } from '../support/clock';
import { basic, buildApp, CLIENTS, USERS } from '../support/spine';
import { describeBackends, wrapTokenStore, type TokenBackend } from '../support/token-backends';

const TOKEN = '/oauth/token';
const WEB = basic('web-app', 'web-secret');
const READER = basic('reader', 'reader-secret');
type App = Parameters<typeof request>[0];
interface Tokens {
  access_token: string;
  refresh_token: string;
}

describeBackends('refresh token reuse window', __filename, (backend: () => TokenBackend) => {
  async function app(options: Partial<ServerOptions> = {}): Promise<App> {
    const { clients, users } = memoryStores({ clients: CLIENTS, users: USERS });
    return buildApp('express5', options, { clients, users, tokens: await backend().store() }).app;
  }
  async function login(a: App): Promise<Tokens> {
    const res = await request(a)
      .post(TOKEN)
      .set('Authorization', WEB)
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read write' });
    expect(res.status).toBe(200);
    return res.body;
  }
  const refresh = (a: App, token: string, client = WEB) =>
    request(a)
      .post(TOKEN)
      .set('Authorization', client)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: token });
  const me = async (a: App, token: string) =>
    (await request(a).get('/api/me').set('Authorization', `Bearer ${token}`)).status;

  test('two concurrent refreshes within the window both succeed with the same successor: one live family (refreshTokenReuseInterval, RFC 9700 §4.14.2)', async () => {
    const a = await app({ refreshTokenReuseInterval: 60 });
    const first = await login(a);
    const [x, y] = await Promise.all([refresh(a, first.refresh_token), refresh(a, first.refresh_token)]);
    expect([x.status, y.status]).toEqual([200, 200]);
    expect(x.body.refresh_token).toBe(y.body.refresh_token);
    expect(x.body.access_token).not.toBe(y.body.access_token);
    for (const token of [first.access_token, x.body.access_token, y.body.access_token])
      expect(await me(a, token)).toBe(200);
    // The one successor rotates on; the parent presented after that is a replay.
    const next = await refresh(a, x.body.refresh_token);
    expect(next.status).toBe(200);
    expect((await refresh(a, first.refresh_token)).body.error).toBe('invalid_grant');
    expect(await me(a, next.body.access_token)).toBe(401);
  });

  test('a reuse after the window is a replay: invalid_grant, and the whole family is revoked (RFC 9700 §4.14.2)', async () => {
    const a = await app({ refreshTokenReuseInterval: 30 });
    const first = await login(a);
    const second = (await refresh(a, first.refresh_token)).body as Tokens;
    const restore = advanceClock(31);
    try {
      const replay = await refresh(a, first.refresh_token);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      expect((await refresh(a, second.refresh_token)).body.error).toBe('invalid_grant');
      expect(await me(a, first.access_token)).toBe(401);
      expect(await me(a, second.access_token)).toBe(401);
    } finally {
      restore();
    }
  });

  test('a reuse by another client never benefits: invalid_grant, no tokens, and the owner keeps its grant (RFC 6749 §6)', async () => {
    const a = await app({ refreshTokenReuseInterval: 60 });
    const first = await login(a);
    const second = (await refresh(a, first.refresh_token)).body as Tokens;
    const stolen = await refresh(a, first.refresh_token, READER);
    expect(stolen.status).toBe(400);
    expect(stolen.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    expect((await refresh(a, second.refresh_token, READER)).body.error).toBe('invalid_grant');
    expect((await refresh(a, second.refresh_token)).status).toBe(200);
  });

  test('at most refreshTokenReuseLimit reuses are answered; the next is a replay that revokes the family', async () => {
    const a = await app({ refreshTokenReuseInterval: 60, refreshTokenReuseLimit: 2 });
    const first = await login(a);
    const rotated = (await refresh(a, first.refresh_token)).body as Tokens;
    for (let i = 0; i < 2; i++)
      expect((await refresh(a, first.refresh_token)).body.refresh_token).toBe(rotated.refresh_token);
    expect((await refresh(a, first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(a, rotated.refresh_token)).body.error).toBe('invalid_grant');
  });

  test('strict by default (interval 0): a replay after a completed rotation revokes the family at once (RFC 9700 §4.14.2)', async () => {
    const a = await app();
    const first = await login(a);
    const rotated = (await refresh(a, first.refresh_token)).body as Tokens;
    expect((await refresh(a, first.refresh_token)).body.error).toBe('invalid_grant');
    expect((await refresh(a, rotated.refresh_token)).body.error).toBe('invalid_grant');
    expect(await me(a, rotated.access_token)).toBe(401);
  });

  test('strict by default: a retry after the store failed to save the successor completes the rotation, within 10 s only (#11 item 6)', async () => {
    const tokens = await backend().store();
    let failNext = false;
    const flaky = wrapTokenStore(tokens, {
      save: async (record) => {
        if (failNext && record.kind === 'refresh_token') {
          failNext = false;
          throw new TemporarilyUnavailable('The token store is temporarily unavailable; try again shortly.');
        }
        return tokens.save(record);
      },
    });
    const { clients, users } = memoryStores({ clients: CLIENTS, users: USERS });
    const a = buildApp('express5', {}, { clients, users, tokens: flaky }).app;
    const first = await login(a);
    failNext = true;
    expect((await refresh(a, first.refresh_token)).status).toBe(503);
    const retry = await refresh(a, first.refresh_token);
    expect(retry.status).toBe(200);
    expect(await me(a, first.access_token)).toBe(200);
    expect((await refresh(a, retry.body.refresh_token)).status).toBe(200);

    const second = await login(a);
    failNext = true;
    expect((await refresh(a, second.refresh_token)).status).toBe(503);
    const restore = advanceClock(11);
    try {
      expect((await refresh(a, second.refresh_token)).body.error).toBe('invalid_grant');
      expect(await me(a, second.access_token)).toBe(401);
    } finally {
      restore();
    }
  });

  test.each([
    ['the first redemption saves first: the retry', 0, 1],
    ['the retry saves first: the first redemption', 1, 0],
  ])(
    'two redemptions save one successor; %s, whose save finds it taken and then finds it revoked with its family, gets invalid_grant, not a server error (RFC 9700 §4.14.2)',
    async (_, saverIndex, loserIndex) => {
      // Two redemptions of one token both save its successor: the first, and a retry that found
      // it unsaved. One saves; the other's save finds the id taken, and before it can see that
      // the record is the same token, a replay revokes the family, and the record is gone.
      const tokens = await backend().store();
      const held: (() => void)[] = [];
      const gate = { save: false, find: false };
      const wait = () => new Promise<void>((resume) => held.push(resume));
      const gated = wrapTokenStore(tokens, {
        save: async (record) => {
          if (gate.save && record.kind === 'refresh_token') await wait();
          return tokens.save(record);
        },
        find: async (kind, id) => {
          if (gate.find && kind === 'refresh_token') await wait();
          return tokens.find(kind, id);
        },
      });
      const { clients, users } = memoryStores({ clients: CLIENTS, users: USERS });
      const a = buildApp('express5', {}, { clients, users, tokens: gated }).app;
      const first = await login(a);
      const heldAt = async (count: number, what: string): Promise<void> => {
        const deadline = Date.now() + 5000;
        while (held.length < count) {
          if (Date.now() > deadline) throw new Error(`never held ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      try {
        gate.save = true;
        // supertest sends a request when it is awaited or then'd: start both now.
        const redemptions = [refresh(a, first.refresh_token).then((res) => res)];
        await heldAt(1, 'the first redemption at its save');
        redemptions.push(refresh(a, first.refresh_token).then((res) => res));
        await heldAt(2, 'the retry (it found no successor) at its save');
        gate.save = false;
        held[saverIndex]!();
        const saved = await redemptions[saverIndex]!;
        expect(saved.status).toBe(200);
        gate.find = true;
        held[loserIndex]!();
        await heldAt(3, 'the other one looking the record up after its save failed');
        gate.find = false;
        expect((await refresh(a, first.refresh_token)).body.error).toBe('invalid_grant');
        held[2]!();
        const lost = await redemptions[loserIndex]!;
        expect({ status: lost.status, error: lost.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
        expect(await me(a, saved.body.access_token)).toBe(401);
      } finally {
        gate.save = gate.find = false;
        held.forEach((resume) => resume());
      }
    },
  );
});
