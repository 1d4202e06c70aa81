/**
 * The limit model of issue #11 (items 1-4), each finding as the attack that reproduced it:
 * nobody can lock out someone else. Public clients are never counted; failures cost the
 * address that makes them (per (identifier, address) and per address), the identifier's own
 * count over all addresses only slows checks down; a concurrent burst cannot overshoot the
 * per-address limit; malformed requests leave nothing in the limiters.
 */
import http from 'node:http';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { memoryStores, type BruteForceOptions, type LimiterConfig, type UserStore } from '../../src';
import { closeAgent, expectOAuthError, expectTooMany, form, send, type RawResponse } from '../support/hardening';
import { basic, buildApp, CLIENTS, USERS, listen } from '../support/spine';

const TOKEN = '/oauth/token';
const ATTACKER = '203.0.113.66';
const VICTIM = '198.51.100.7';

afterAll(closeAgent);

/** Limits whose address is the `X-Test-Address` header: one process plays many addresses. */
function limits(extra: BruteForceOptions = {}): BruteForceOptions {
  return {
    remoteAddress: (req) => (req.headers['x-test-address'] as string | undefined) ?? req.socket.remoteAddress,
    ...extra,
  };
}

async function server(bruteForce: BruteForceOptions, users?: UserStore) {
  const stores = memoryStores({ clients: CLIENTS, users: USERS });
  const { app } = buildApp('express5', { bruteForce }, users ? { ...stores, users } : stores);
  const listening = await listen(app);
  const post = (
    from: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> => {
    const { headers: h, body } = form(fields, { 'X-Test-Address': from, ...headers });
    return send(listening.url, TOKEN, { headers: h, body });
  };
  const introspect = (from: string, id: string, secret: string, token: string): Promise<RawResponse> => {
    const { headers, body } = form({ token }, { 'X-Test-Address': from, Authorization: basic(id, secret) });
    return send(listening.url, '/oauth/introspect', { headers, body });
  };
  return { ...listening, post, introspect };
}

const refreshAsSpa = (extra: Record<string, string> = {}) => ({
  grant_type: 'refresh_token',
  refresh_token: 'not-a-refresh-token',
  ...extra,
});

describe('public clients are never counted (#11 item 1)', () => {
  test('made-up secrets naming a public client lock nobody out: not the client, not its other users, not even the sender', async () => {
    const s = await server(limits());
    try {
      for (let i = 0; i < 40; i++) {
        expectOAuthError(
          await s.post(ATTACKER, refreshAsSpa({ client_id: 'spa', client_secret: `guess-${i}` })),
          401,
          'invalid_client',
        );
        expectOAuthError(
          await s.post(ATTACKER, refreshAsSpa(), { Authorization: basic('spa', `guess-${i}`) }),
          401,
          'invalid_client',
        );
      }
      // The client still works, from anywhere: the grant itself answers (an unknown refresh token).
      expectOAuthError(await s.post(VICTIM, refreshAsSpa({ client_id: 'spa' })), 400, 'invalid_grant');
      expectOAuthError(await s.post(ATTACKER, refreshAsSpa({ client_id: 'spa' })), 400, 'invalid_grant');
    } finally {
      await s.close();
    }
  });

  test('`Basic spa:` with an empty secret is auth method none for a public client, and is never counted', async () => {
    const s = await server(limits());
    try {
      for (let i = 0; i < 40; i++)
        expectOAuthError(
          await s.post(ATTACKER, refreshAsSpa(), { Authorization: basic('spa', '') }),
          400,
          'invalid_grant',
        );
    } finally {
      await s.close();
    }
  });

  test('an empty secret does not make a confidential client public', async () => {
    const s = await server(limits());
    try {
      expectOAuthError(
        await s.post(VICTIM, { grant_type: 'client_credentials' }, { Authorization: basic('reader', '') }),
        401,
        'invalid_client',
      );
      expectOAuthError(
        await s.post(VICTIM, { grant_type: 'client_credentials', client_id: 'reader', client_secret: '' }),
        401,
        'invalid_client',
      );
    } finally {
      await s.close();
    }
  });
});

describe("an attacker's failures cost the attacker (#11 item 2)", () => {
  test('wrong secrets for a confidential client from one address: that address gets 429, the client still works from elsewhere, and so does introspection', async () => {
    const s = await server(limits());
    try {
      for (let i = 0; i < 30; i++)
        expectOAuthError(
          await s.post(ATTACKER, { grant_type: 'client_credentials', client_id: 'reader', client_secret: 'wrong' }),
          401,
          'invalid_client',
        );
      expectTooMany(
        await s.post(ATTACKER, {
          grant_type: 'client_credentials',
          client_id: 'reader',
          client_secret: 'reader-secret',
        }),
      );
      const ok = await s.post(VICTIM, {
        grant_type: 'client_credentials',
        client_id: 'reader',
        client_secret: 'reader-secret',
      });
      expect(ok.status).toBe(200);
      // The API that introspects with that client is not locked out either.
      const answer = await s.introspect(VICTIM, 'reader', 'reader-secret', ok.json().access_token as string);
      expect(answer.status).toBe(200);
      expect(answer.json().active).toBe(true);
    } finally {
      await s.close();
    }
  });

  test('wrong passwords for a user from one address: that address is refused that user after 10; the user signs in from their own', async () => {
    const s = await server(limits({ slowdown: false }));
    const login = (from: string, password: string) =>
      s.post(
        from,
        { grant_type: 'password', username: 'alice@example.com', password },
        { Authorization: basic('web-app', 'web-secret') },
      );
    try {
      for (let i = 0; i < 10; i++) expectOAuthError(await login(ATTACKER, 'guess'), 400, 'invalid_grant');
      expectTooMany(await login(ATTACKER, 'wonderland'));
      expect((await login(VICTIM, 'wonderland')).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  test('guesses spread over many addresses slow the username down (never refuse it), and each address is still limited', async () => {
    const calls: number[] = [];
    const users = memoryStores({ clients: [], users: USERS }).users as UserStore;
    const counting: UserStore = {
      ...users,
      authenticate: (u, p) => (calls.push(Date.now()), users.authenticate(u, p)),
    };
    const s = await server(limits({ slowdown: { username: { after: 5, step: 0.001, maxDelay: 0.02 } } }), counting);
    const login = (from: string, password: string) =>
      s.post(
        from,
        { grant_type: 'password', username: 'alice@example.com', password },
        { Authorization: basic('web-app', 'web-secret') },
      );
    try {
      for (let i = 0; i < 30; i++) expectOAuthError(await login(`203.0.113.${i}`, 'guess'), 400, 'invalid_grant');
      expect((await login(VICTIM, 'wonderland')).status).toBe(200);
      expect(calls).toHaveLength(31);
    } finally {
      await s.close();
    }
  });
});

/** POST many requests at once, each on its own connection (no agent pooling limits the burst). */
function burst(url: string, bodies: string[]): Promise<number[]> {
  return Promise.all(
    bodies.map(
      (body) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(`${url}${TOKEN}`, {
            method: 'POST',
            agent: false,
            headers: {
              'Content-Type': 'application/x-www-form-urlencoded',
              'Content-Length': String(Buffer.byteLength(body)),
              Authorization: basic('web-app', 'web-secret'),
            },
          });
          req.on('response', (res) => (res.resume(), res.on('end', () => resolve(res.statusCode ?? 0))));
          req.on('error', reject);
          req.end(body);
        }),
    ),
  );
}

describe('the per-address count is reserved before the expensive check (#11 item 3)', () => {
  test('300 simultaneous wrong passwords from one address over 300 usernames: at most the limit (100) are checked, the rest refused', async () => {
    let checks = 0;
    const slowUsers: UserStore = {
      // A password check that takes a while, as scrypt does: the burst is all in flight at once.
      authenticate: async () => {
        checks++;
        await new Promise((r) => setTimeout(r, 50));
        return undefined;
      },
    };
    const s = await server({ slowdown: false }, slowUsers);
    try {
      const bodies = Array.from({ length: 300 }, (_, i) =>
        new URLSearchParams({
          grant_type: 'password',
          username: `user-${i}@example.com`,
          password: 'guess',
        }).toString(),
      );
      const statuses = await burst(s.url, bodies);
      expect(checks).toBeLessThanOrEqual(100);
      expect(statuses.filter((st) => st === 400)).toHaveLength(checks);
      expect(statuses.filter((st) => st === 429)).toHaveLength(300 - checks);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('malformed requests leave nothing in the limiters (#11 item 4)', () => {
  test('a flood of password requests without a password, with a scope the client may not have, or with a malformed scope adds no limiter entry', async () => {
    const limiters: RateLimiterMemory[] = [];
    const createLimiter = (config: LimiterConfig) => {
      const limiter = new RateLimiterMemory(config);
      limiters.push(limiter);
      return limiter;
    };
    const s = await server(limits({ createLimiter }));
    const entries = () =>
      limiters.reduce(
        (n, l) =>
          n + (l as unknown as { _memoryStorage: { _storage: Map<string, unknown> } })._memoryStorage._storage.size,
        0,
      );
    try {
      const kinds = [
        (i: number) => ({ grant_type: 'password', username: `flood-${i}@example.com` }),
        (i: number) => ({ grant_type: 'password', username: `flood-${i}@example.com`, password: 'x', scope: 'admin' }),
        (i: number) => ({ grant_type: 'password', username: `flood-${i}@example.com`, password: 'x', scope: 'a"b' }),
      ];
      const expected = [
        [400, 'invalid_request'],
        [400, 'invalid_scope'],
        [400, 'invalid_scope'],
      ] as const;
      for (let i = 0; i < 1200; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            s.post(`203.0.113.${(i + j) % 250}`, kinds[(i + j) % 3]!(i + j), {
              Authorization: basic('web-app', 'web-secret'),
            }),
          ),
        );
        for (const [j, res] of batch.entries()) expect([res.status, res.json().error]).toEqual(expected[(i + j) % 3]);
      }
      expect(entries()).toBe(0);
      // Requests that pass (the client's secret is right) hand their reservations back: no entries either.
      expect(
        (
          await s.post(VICTIM, {
            grant_type: 'client_credentials',
            client_id: 'reader',
            client_secret: 'reader-secret',
          })
        ).status,
      ).toBe(200);
      expect(entries()).toBe(0);
      // A real failure is what counts.
      expectOAuthError(
        await s.post(VICTIM, { grant_type: 'client_credentials', client_id: 'reader', client_secret: 'wrong' }),
        401,
        'invalid_client',
      );
      expect(entries()).toBe(2);
    } finally {
      await s.close();
    }
  }, 120_000);
});
