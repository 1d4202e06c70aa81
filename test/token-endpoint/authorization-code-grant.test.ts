/**
 * The authorization_code grant at the token endpoint (RFC 6749 §4.1.3) with PKCE (RFC 7636
 * §4.5–4.6), single use and family revocation (RFC 6749 §4.1.2, RFC 9700 §4.2.4), through
 * real HTTP.
 */
import request from 'supertest';
import { hashToken, memoryStores, type TokenRecord, type TokenStore } from '../../src';
import {
  CLIENTS,
  FRAMEWORKS,
  SPA_REDIRECT,
  USERS,
  WEB_REDIRECT,
  buildCodeApp,
  exchange,
  obtainCode,
  pkcePair,
  spaRequest,
} from '../support/authorization-code';
import { decodeJwt, listen } from '../support/spine';

type App = Parameters<typeof request>[0];

const decode = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());
const me = (app: App, token: string) => request(app).get('/api/me').set('Authorization', `Bearer ${token}`);
const refresh = (app: App, refreshToken: string) =>
  exchange(app, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken });

/** A code for the public client and the verifier that redeems it. */
async function spaCode(
  app: App,
  extra: Record<string, string | undefined> = {},
): Promise<{ code: string; verifier: string }> {
  const { params, verifier } = spaRequest(extra);
  return { code: await obtainCode(app, params), verifier };
}

const spaExchange = (
  app: App,
  code: string,
  verifier: string | undefined,
  extra: Record<string, string | undefined> = {},
) =>
  exchange(app, {
    grant_type: 'authorization_code',
    client_id: 'spa',
    code,
    redirect_uri: SPA_REDIRECT,
    code_verifier: verifier,
    ...extra,
  });

/** A code for the confidential client `web` (no PKCE unless given). */
async function webCode(app: App, extra: Record<string, string | undefined> = {}): Promise<string> {
  return obtainCode(app, {
    response_type: 'code',
    client_id: 'web',
    redirect_uri: WEB_REDIRECT,
    scope: 'read write',
    state: 'w',
    ...extra,
  });
}

describe.each(FRAMEWORKS)('authorization code exchange under %s', (framework) => {
  const { app } = buildCodeApp(framework);

  test('a public client exchanges its code with client_id and code_verifier; the tokens work on a protected route (RFC 7636 §4.5, RFC 6749 §4.1.4)', async () => {
    const { code, verifier } = await spaCode(app);
    const res = await spaExchange(app, code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.any(String),
      scope: 'read write',
    });
    const claims = decode(res.body.access_token);
    expect(claims).toMatchObject({ sub: 'user-alice', client_id: 'spa', scope: 'read write', fid: expect.any(String) });
    const guarded = await me(app, res.body.access_token);
    expect(guarded.status).toBe(200);
    expect(guarded.body.sub).toBe('user-alice');

    // The refresh token joins the spine's rotation rules, in the same family as the code.
    const rotated = await refresh(app, res.body.refresh_token);
    expect(rotated.status).toBe(200);
    expect(decode(rotated.body.access_token).fid).toBe(claims.fid);
  });

  test('a confidential client authenticates with HTTP Basic and sends the same redirect_uri (RFC 6749 §4.1.3)', async () => {
    const code = await webCode(app);
    const res = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT }, [
      'web',
      'web-secret',
    ]);
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('read write');
  });
});

describe('authorization_code grant rules (RFC 6749 §4.1.3, RFC 7636 §4.6)', () => {
  const { app } = buildCodeApp('express5');

  test('a missing code → invalid_request; an unknown code → invalid_grant', async () => {
    const missing = await exchange(app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      redirect_uri: SPA_REDIRECT,
      code_verifier: pkcePair().verifier,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const unknown = await spaExchange(app, 'not-a-code', pkcePair().verifier);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
    expect(unknown.headers['cache-control']).toBe('no-store');
  });

  test('a code issued to client A presented by client B is invalid_grant, and A can still redeem it (RFC 6749 §4.1.3)', async () => {
    const code = await webCode(app);
    const stolen = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT }, [
      'other',
      'other-secret',
    ]);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    const stolenPublic = await exchange(app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: WEB_REDIRECT,
    });
    expect(stolenPublic.body.error).toBe('invalid_grant');
    const rightful = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT }, [
      'web',
      'web-secret',
    ]);
    expect(rightful.status).toBe(200);
  });

  test('failed attempts do not burn the code: another client, a wrong secret, redirect_uri or verifier (check order, RFC 9700 §4.2.4)', async () => {
    const { code, verifier } = await spaCode(app);
    const attempts = [
      exchange(app, { grant_type: 'authorization_code', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }, [
        'other',
        'other-secret',
      ]),
      exchange(app, { grant_type: 'authorization_code', code, redirect_uri: SPA_REDIRECT, code_verifier: verifier }, [
        'web',
        'wrong-secret',
      ]),
      spaExchange(app, code, verifier, { redirect_uri: 'https://evil.example/cb' }),
      spaExchange(app, code, verifier, { redirect_uri: undefined }),
      spaExchange(app, code, pkcePair().verifier),
      spaExchange(app, code, undefined),
      spaExchange(app, code, verifier.slice(0, 42)),
    ];
    const answers = [];
    for (const attempt of attempts) answers.push(await attempt);
    expect(answers.map((r) => r.body.error)).toEqual([
      'invalid_grant',
      'invalid_client',
      'invalid_grant',
      'invalid_grant',
      'invalid_grant',
      'invalid_grant',
      'invalid_request',
    ]);
    const rightful = await spaExchange(app, code, verifier);
    expect(rightful.status).toBe(200);
    expect((await me(app, rightful.body.access_token)).status).toBe(200);
  });

  test('redirect_uri must be identical to the authorization request’s, not merely similar (RFC 6749 §4.1.3)', async () => {
    for (const variant of [`${SPA_REDIRECT}/`, `${SPA_REDIRECT}?`, SPA_REDIRECT.toUpperCase(), `${SPA_REDIRECT}#x`]) {
      const { code, verifier } = await spaCode(app);
      const res = await spaExchange(app, code, verifier, { redirect_uri: variant });
      expect(res.body.error).toBe('invalid_grant');
    }
  });

  test('redirect_uri may be left out at the token endpoint only if it was left out of the authorization request (RFC 6749 §4.1.3)', async () => {
    const single = await obtainCode(app, { response_type: 'code', client_id: 'single', state: 's' });
    const res = await exchange(app, { grant_type: 'authorization_code', code: single }, ['single', 'single-secret']);
    expect(res.status).toBe(200);
    // Sending the (only) registered one is fine too.
    const again = await obtainCode(app, { response_type: 'code', client_id: 'single', state: 's' });
    const withUri = await exchange(
      app,
      { grant_type: 'authorization_code', code: again, redirect_uri: 'https://single.example.com/cb?from=tokengate' },
      ['single', 'single-secret'],
    );
    expect(withUri.status).toBe(200);
    const third = await obtainCode(app, { response_type: 'code', client_id: 'single', state: 's' });
    const wrongUri = await exchange(
      app,
      { grant_type: 'authorization_code', code: third, redirect_uri: 'https://single.example.com/cb' },
      ['single', 'single-secret'],
    );
    expect(wrongUri.body.error).toBe('invalid_grant');
  });

  test('code_verifier must be 43–128 characters of the unreserved set (RFC 7636 §4.1)', async () => {
    const { code } = await spaCode(app);
    for (const bad of [
      'a'.repeat(42),
      'a'.repeat(129),
      `${'a'.repeat(42)}+`,
      `${'a'.repeat(42)}/`,
      `${'a'.repeat(42)}=`,
      `${'a'.repeat(42)} `,
      `${'a'.repeat(42)}é`,
    ]) {
      const res = await spaExchange(app, code, bad);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
    for (const good of ['a'.repeat(43), `${'A1-._~'.repeat(21)}zz`]) {
      const pair = pkcePair(good);
      const fresh = await spaCode(app, { code_challenge: pair.challenge });
      expect(good.length === 43 || good.length === 128).toBe(true);
      expect((await spaExchange(app, fresh.code, good)).status).toBe(200);
    }
  });

  test('a verifier that does not match the S256 challenge → invalid_grant (RFC 7636 §4.6)', async () => {
    const { code, verifier } = await spaCode(app);
    // The challenge itself, and the verifier of a different request, are both wrong.
    const challenge = pkcePair(verifier).challenge;
    expect((await spaExchange(app, code, challenge)).body.error).toBe('invalid_grant');
    expect((await spaExchange(app, code, pkcePair().verifier)).body.error).toBe('invalid_grant');
  });

  test('downgrade guard: a code_verifier for a code issued without a challenge → invalid_grant (RFC 9700 §4.8.2)', async () => {
    const code = await webCode(app);
    const downgrade = await exchange(
      app,
      { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, code_verifier: pkcePair().verifier },
      ['web', 'web-secret'],
    );
    expect(downgrade.status).toBe(400);
    expect(downgrade.body.error).toBe('invalid_grant');
    // A confidential client's code with a challenge needs the verifier too.
    const { verifier, challenge } = pkcePair();
    const withPkce = await webCode(app, { code_challenge: challenge, code_challenge_method: 'S256' });
    const noVerifier = await exchange(
      app,
      { grant_type: 'authorization_code', code: withPkce, redirect_uri: WEB_REDIRECT },
      ['web', 'web-secret'],
    );
    expect(noVerifier.body.error).toBe('invalid_grant');
    const ok = await exchange(
      app,
      { grant_type: 'authorization_code', code: withPkce, redirect_uri: WEB_REDIRECT, code_verifier: verifier },
      ['web', 'web-secret'],
    );
    expect(ok.status).toBe(200);
  });

  test('a public client must not send a client_secret it does not have; a confidential one must authenticate (RFC 6749 §3.2.1)', async () => {
    const code = await webCode(app);
    const unauthenticated = await exchange(app, {
      grant_type: 'authorization_code',
      client_id: 'web',
      code,
      redirect_uri: WEB_REDIRECT,
    });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.error).toBe('invalid_client');
    expect(
      (
        await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT }, [
          'web',
          'web-secret',
        ])
      ).status,
    ).toBe(200);
  });

  test('a client without the authorization_code grant → unauthorized_client', async () => {
    const res = await exchange(
      app,
      { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://machine.example.com/cb' },
      ['machine', 'machine-secret'],
    );
    expect(res.body.error).toBe('unauthorized_client');
  });

  test('a client without the refresh_token grant gets no refresh token', async () => {
    const code = await obtainCode(app, { response_type: 'code', client_id: 'single', state: 's' });
    const res = await exchange(app, { grant_type: 'authorization_code', code }, ['single', 'single-secret']);
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
  });

  test('a user from the app’s own session, unknown to the user store, can exchange the code', async () => {
    const { params, verifier } = spaRequest();
    const code = await obtainCode(app, params, 'user-from-session-only');
    const res = await spaExchange(app, code, verifier);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).payload.sub).toBe('user-from-session-only');
  });

  test('the documented set-up: memoryStores({ clients }) with no users, the user from the session', async () => {
    const { app: bare } = buildCodeApp('express5', {}, memoryStores({ clients: CLIENTS }));
    const { params, verifier } = spaRequest();
    const code = await obtainCode(bare, params, 'user-bob');
    const res = await spaExchange(bare, code, verifier);
    expect(res.status).toBe(200);
    const me = await request(bare).get('/api/me').set('Authorization', `Bearer ${res.body.access_token}`);
    expect(me.status).toBe(200);
    expect(me.body.sub).toBe('user-bob');
    // And with no user store there is no password grant at all.
    const password = await request(bare)
      .post('/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: 'spa', username: 'a', password: 'b' });
    expect(password.body.error).toBe('unsupported_grant_type');
  });
});

describe('codes are random, stored hashed, short-lived and bound to the request (RFC 6749 §4.1.2, §10.10)', () => {
  function recordingStore(): { tokens: TokenStore; saved: TokenRecord[] } {
    const base = memoryStores({ clients: CLIENTS, users: USERS }).tokens;
    const saved: TokenRecord[] = [];
    return { saved, tokens: { ...base, save: async (record) => (saved.push(record), base.save(record)) } };
  }

  test('the store sees only the code’s hash, with client, redirect URI, user, scopes and challenge; lifetime defaults to 60 s', async () => {
    const { tokens, saved } = recordingStore();
    const { app } = buildCodeApp('express5', {}, { ...memoryStores({ clients: CLIENTS, users: USERS }), tokens });
    const { params } = spaRequest({ scope: 'read' });
    const code = await obtainCode(app, params);
    expect(Buffer.from(code, 'base64url')).toHaveLength(32);
    const record = saved.find((r) => r.kind === 'authorization_code') as TokenRecord;
    expect(record.id).toBe(hashToken(code));
    expect(JSON.stringify(saved)).not.toContain(code);
    expect(record).toMatchObject({
      clientId: 'spa',
      redirectUri: SPA_REDIRECT,
      userId: 'user-alice',
      sub: 'user-alice',
      scope: ['read'],
      codeChallenge: params.code_challenge,
      codeChallengeMethod: 'S256',
    });
    expect(record.expiresAt - record.issuedAt).toBe(60);
  });

  test('two codes never repeat', async () => {
    const { app } = buildCodeApp('express5');
    const codes = new Set<string>();
    for (let i = 0; i < 20; i++) codes.add((await spaCode(app)).code);
    expect(codes.size).toBe(20);
  });

  test('a code past authorizationCodeLifetime is invalid_grant (RFC 6749 §4.1.2)', async () => {
    const { app } = buildCodeApp('express5', { authorizationCodeLifetime: 30 });
    const realNow = Date.now;
    const start = realNow();
    const { code, verifier } = await spaCode(app);
    const expired = await spaCode(app);
    const spy = jest.spyOn(Date, 'now');
    try {
      spy.mockImplementation(() => start + 25_000);
      expect((await spaExchange(app, code, verifier)).status).toBe(200);
      spy.mockImplementation(() => start + 31_000);
      const late = await spaExchange(app, expired.code, expired.verifier);
      expect(late.status).toBe(400);
      expect(late.body.error).toBe('invalid_grant');
    } finally {
      spy.mockRestore();
    }
  });
});

describe('single use: a reused authorization code is refused and revokes the tokens issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4)', () => {
  test.each(['jwt', 'opaque'] as const)(
    'reused authorization code revokes tokens (RFC 6749 §4.1.2), %s access tokens',
    async (accessTokenFormat) => {
      const { app } = buildCodeApp('express5', { accessTokenFormat });
      const { code, verifier } = await spaCode(app);
      const first = await spaExchange(app, code, verifier);
      expect(first.status).toBe(200);
      // Both the original and a rotated access token work (and are now cached by requireToken).
      const rotated = await refresh(app, first.body.refresh_token);
      expect(rotated.status).toBe(200);
      for (const token of [first.body.access_token, rotated.body.access_token])
        expect((await me(app, token)).status).toBe(200);

      const replay = await spaExchange(app, code, verifier);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');

      for (const token of [first.body.access_token, rotated.body.access_token]) {
        const res = await me(app, token);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
      }
      expect((await refresh(app, rotated.body.refresh_token)).body.error).toBe('invalid_grant');
      // And the code stays dead.
      expect((await spaExchange(app, code, verifier)).body.error).toBe('invalid_grant');
    },
  );

  test('a failed replay by another client does not revoke the rightful client’s tokens', async () => {
    const { app } = buildCodeApp('express5');
    const code = await webCode(app);
    const first = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT }, [
      'web',
      'web-secret',
    ]);
    expect(first.status).toBe(200);
    const other = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT }, [
      'other',
      'other-secret',
    ]);
    expect(other.body.error).toBe('invalid_grant');
    expect((await me(app, first.body.access_token)).status).toBe(200);
  });

  // With a latency, every exchange finds the code unconsumed before any consumes it, so only
  // the store's atomic consume can pick the one winner; and the losers revoke the family while
  // the winner is still saving its tokens.
  function withLatency(base: TokenStore): TokenStore {
    const later = (ms = 0) => new Promise((resolve) => (ms ? setTimeout(resolve, ms) : setImmediate(resolve)));
    return {
      // Slow writes: many exchanges are past `find` before the first `consume` lands, and the
      // winner's tokens are saved after the losers have revoked the family.
      save: async (record) => (await later(25), base.save(record)),
      find: async (kind, id) => (await later(), base.find(kind, id)),
      consume: async (kind, id) => (await later(25), base.consume(kind, id)),
      revoke: async (target) => (await later(), base.revoke(target)),
      isRevoked: async (ids) => (await later(), base.isRevoked(ids)),
      onRevoke: (listener) => base.onRevoke(listener),
    };
  }

  test.each([
    ['the memory store', false],
    ['a store with network-like latency', true],
  ])(
    '100 concurrent exchanges of one code: exactly one succeeds, the rest are invalid_grant, and the replay revokes the family (RFC 6749 §4.1.2), %s',
    async (_name, slow) => {
      const stores = memoryStores({ clients: CLIENTS, users: USERS });
      const { app } = buildCodeApp('express5', {}, slow ? { ...stores, tokens: withLatency(stores.tokens) } : stores);
      const server = await listen(app);
      try {
        const { code, verifier } = await spaCode(server.url);
        const body = new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: 'spa',
          code,
          redirect_uri: SPA_REDIRECT,
          code_verifier: verifier,
        }).toString();
        const responses = await Promise.all(
          Array.from({ length: 100 }, () =>
            fetch(`${server.url}/oauth/token`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
              body,
            }).then(async (r) => ({
              status: r.status,
              body: (await r.json()) as Record<string, string>,
            })),
          ),
        );
        const winners = responses.filter((r) => r.status === 200);
        expect(winners).toHaveLength(1);
        const losers = responses.filter((r) => r.status !== 200);
        expect(losers).toHaveLength(99);
        for (const loser of losers)
          expect(loser).toEqual({
            status: 400,
            body: { error: 'invalid_grant', error_description: expect.any(String) },
          });

        // The other 99 were replays of a redeemed code: the tokens issued from it are revoked.
        const winner = winners[0]?.body as Record<string, string>;
        expect((await me(server.url, winner.access_token as string)).status).toBe(401);
        expect((await refresh(server.url, winner.refresh_token as string)).body.error).toBe('invalid_grant');
      } finally {
        await server.close();
      }
    },
  );
});
