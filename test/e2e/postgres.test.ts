/**
 * The token endpoint end to end on the PostgreSQL stores (a real server started by this
 * file), over real HTTP: password and client_credentials grants, refresh rotation with reuse
 * detection (RFC 9700 §4.14.2), 100 concurrent refreshes of one token, and the authorization
 * code flow with PKCE and single use (RFC 6749 §4.1.2), with JWT and opaque access tokens.
 */
import type { Pool } from 'pg';
import request from 'supertest';
import { hashToken } from '../../src/core/crypto';
import { postgresStores, type PostgresTokenStore } from '../../src/postgres';
import { buildCodeApp, exchange, obtainCode, spaRequest, SPA_REDIRECT } from '../support/authorization-code';
import { postgresForTests, testPool, type PgServer } from '../support/postgres';
import { basic, decodeJwt, listen } from '../support/spine';

const server = postgresForTests(__filename);
const describePg = server ? describe : describe.skip;

const TOKEN = '/oauth/token';
const pools: Pool[] = [];
const tokenStores: PostgresTokenStore[] = [];

afterAll(async () => {
  for (const s of tokenStores) await s.close();
  for (const p of pools) await p.end();
  server?.stop();
});

/** Postgres-backed stores with the test clients and user registered. */
async function pgStores(): Promise<ReturnType<typeof postgresStores> & { pool: Pool }> {
  const pool = testPool(server as PgServer, 20);
  pools.push(pool);
  const stores = postgresStores({ pool });
  tokenStores.push(stores.tokens);
  await stores.clients.saveClient({
    id: 'web-app',
    secret: 'web-secret',
    grants: ['client_credentials', 'password', 'refresh_token'],
    scopes: ['read', 'write'],
  });
  await stores.clients.saveClient({
    id: 'spa',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['read', 'write'],
    redirectUris: [SPA_REDIRECT],
  });
  await stores.users.saveUser({ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' });
  return { ...stores, pool };
}

const WEB = basic('web-app', 'web-secret');

describePg.each(['jwt', 'opaque'] as const)(
  'token endpoint on postgresStores (%s access tokens)',
  (accessTokenFormat) => {
    let app: ReturnType<typeof buildCodeApp>['app'];
    let pool: Pool;
    let url: string;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const stores = await pgStores();
      pool = stores.pool;
      app = buildCodeApp('express5', { accessTokenFormat }, stores).app;
      ({ url, close } = await listen(app));
    });
    afterAll(() => close());

    const password = () =>
      request(url)
        .post(TOKEN)
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read write' });
    const refresh = (token: string) =>
      request(url)
        .post(TOKEN)
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: token });
    const me = (token: string) => request(url).get('/api/me').set('Authorization', `Bearer ${token}`);

    test('password grant (RFC 6749 §4.3): tokens work, only their hashes are in the database, a wrong password is invalid_grant', async () => {
      const res = await password();
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'read write', refresh_token: expect.any(String) });
      expect((await me(res.body.access_token)).body).toMatchObject({ sub: 'user-alice', clientId: 'web-app' });

      const stored = await pool.query('SELECT * FROM tokengate_tokens WHERE id = $1', [
        hashToken(res.body.refresh_token),
      ]);
      expect(stored.rows[0]).toMatchObject({
        kind: 'refresh_token',
        client_id: 'web-app',
        user_id: 'user-alice',
        consumed_at: null,
      });
      const everything = JSON.stringify((await pool.query('SELECT * FROM tokengate_tokens')).rows);
      expect(everything).not.toContain(res.body.refresh_token);
      expect(everything).not.toContain(res.body.access_token);

      const wrong = await request(url)
        .post(TOKEN)
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'nope' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('invalid_grant');
    });

    test('client_credentials grant (RFC 6749 §4.4): a token for the client itself, no refresh token', async () => {
      const res = await request(url)
        .post(TOKEN)
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'read' });
      expect(res.status).toBe(200);
      expect(res.body.refresh_token).toBeUndefined();
      expect((await me(res.body.access_token)).body).toMatchObject({
        sub: 'web-app',
        clientId: 'web-app',
        scope: ['read'],
      });
    });

    test('refresh rotates the token; replaying a used one is invalid_grant and revokes the family, access tokens included (RFC 9700 §4.14.2)', async () => {
      const first = (await password()).body;
      const second = await refresh(first.refresh_token);
      expect(second.status).toBe(200);
      expect(second.body.refresh_token).not.toBe(first.refresh_token);
      expect((await me(second.body.access_token)).status).toBe(200);
      if (accessTokenFormat === 'jwt')
        expect(decodeJwt(second.body.access_token).payload.fid).toBe(decodeJwt(first.access_token).payload.fid);

      const replay = await refresh(first.refresh_token);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      expect((await refresh(second.body.refresh_token)).body.error).toBe('invalid_grant');
      expect((await me(second.body.access_token)).status).toBe(401);
      expect((await me(first.access_token)).status).toBe(401);
    });

    test('100 concurrent refreshes of one token: one rotation (plus at most 3 retries that caught it unsaved, same successor), the rest are invalid_grant, and the reuse kills the winner too (RFC 9700 §4.14.2)', async () => {
      const first = (await password()).body;
      const family = (
        await pool.query('SELECT family_id FROM tokengate_tokens WHERE id = $1', [hashToken(first.refresh_token)])
      ).rows[0]?.family_id;
      expect(family).toEqual(expect.any(String));
      const results = await Promise.all(Array.from({ length: 100 }, () => refresh(first.refresh_token)));
      const statuses = results.map((r) => r.status);
      const won = statuses.filter((s) => s === 200).length;
      expect(won).toBeGreaterThanOrEqual(1);
      expect(won).toBeLessThanOrEqual(4);
      expect(new Set(results.filter((r) => r.status === 200).map((r) => r.body.refresh_token)).size).toBe(1);
      expect(statuses.filter((s) => s === 400)).toHaveLength(100 - won);
      expect(results.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true);
      const winner = results.find((r) => r.status === 200)!.body;
      // The replays were seen: the family is revoked, and the winner's new tokens with it.
      expect((await refresh(winner.refresh_token)).body.error).toBe('invalid_grant');
      expect((await me(winner.access_token)).status).toBe(401);
      const left = await pool.query('SELECT count(*)::int AS n FROM tokengate_tokens WHERE family_id = $1', [family]);
      expect(left.rows[0].n).toBe(0);
      expect((await pool.query('SELECT revoked FROM tokengate_families WHERE id = $1', [family])).rows).toEqual([
        { revoked: true },
      ]);
    });

    test('authorization code with PKCE: exchanged once for tokens; a second exchange is invalid_grant and revokes what the code gave (RFC 6749 §4.1.2)', async () => {
      const { params, verifier } = spaRequest();
      const code = await obtainCode(app, params);
      const body = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: SPA_REDIRECT,
        client_id: 'spa',
        code_verifier: verifier,
      };
      const tokens = await exchange(url, body);
      expect(tokens.status).toBe(200);
      expect(tokens.body).toMatchObject({ scope: 'read write', refresh_token: expect.any(String) });
      expect((await me(tokens.body.access_token)).body).toMatchObject({ sub: 'user-alice', clientId: 'spa' });
      const stored = await pool.query(
        'SELECT kind, code_challenge_method, consumed_at FROM tokengate_tokens WHERE id = $1',
        [hashToken(code)],
      );
      expect(stored.rows[0]).toMatchObject({
        kind: 'authorization_code',
        code_challenge_method: 'S256',
        consumed_at: expect.any(String),
      });

      const again = await exchange(url, body);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      expect((await me(tokens.body.access_token)).status).toBe(401);
      const refreshed = await exchange(url, {
        grant_type: 'refresh_token',
        refresh_token: tokens.body.refresh_token,
        client_id: 'spa',
      });
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    test('20 concurrent exchanges of one authorization code: exactly one gets tokens', async () => {
      const { params, verifier } = spaRequest();
      const code = await obtainCode(app, params);
      const body = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: SPA_REDIRECT,
        client_id: 'spa',
        code_verifier: verifier,
      };
      const results = await Promise.all(Array.from({ length: 20 }, () => exchange(url, body)));
      expect(results.map((r) => r.status).sort()).toEqual([200, ...Array(19).fill(400)]);
      expect(results.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true);
    });
  },
);
