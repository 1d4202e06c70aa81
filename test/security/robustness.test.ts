/**
 * Failures that must neither crash the process nor lose a record: a response the server
 * cannot write, a store that fails half-way through a refresh, malformed stored hashes.
 */
import request from 'supertest';
import { memoryStores, TemporarilyUnavailable, verifyPassword, type ClientStore, type TokenStore } from '../../src';
import {
  buildCodeApp,
  CLIENTS as CODE_CLIENTS,
  pkcePair,
  HOOK_HEADERS,
  authorizeUrl,
} from '../support/authorization-code';
import { basic, buildApp, CLIENTS, listen, USERS } from '../support/spine';

describe('a response that cannot be written', () => {
  test('a stored redirect URI that is not a valid header value closes the connection; the process lives on', async () => {
    // A custom store is not validated like memoryStores is: its redirect URI goes out as Location.
    const base = memoryStores({ clients: CODE_CLIENTS });
    const clients: ClientStore = {
      findClient: async (id) =>
        id === 'idn'
          ? { id: 'idn', grants: ['authorization_code'], scopes: ['read'], redirectUris: ['https://例え.jp/cb'] }
          : base.clients.findClient(id),
    };
    const { app, logger } = buildCodeApp('express5', {}, { ...base, clients });
    const server = await listen(app);
    try {
      const { challenge } = pkcePair();
      const url =
        server.url +
        authorizeUrl({
          response_type: 'code',
          client_id: 'idn',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 's',
        });
      await expect(
        fetch(url, { headers: { [HOOK_HEADERS.user]: 'user-alice' }, redirect: 'manual' }),
      ).rejects.toThrow();
      expect(logger.lines.some((l) => l.level === 'error')).toBe(true);
      // Still serving.
      const ok = await fetch(`${server.url}/oauth/token`, { method: 'POST' });
      expect(ok.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});

describe('a store failure half-way through a refresh loses nothing (no lost record)', () => {
  test('if the new tokens cannot be saved, the presented refresh token is not burnt and a retry works', async () => {
    const base = memoryStores({ clients: CLIENTS, users: USERS });
    let failSaves = false;
    const tokens: TokenStore = {
      ...base.tokens,
      save: (record) => (failSaves ? Promise.reject(new Error('disk full')) : base.tokens.save(record)),
    };
    const { app } = buildApp('express5', {}, { ...base, tokens });
    const auth = basic('web-app', 'web-secret');
    const first = await request(app)
      .post('/oauth/token')
      .set('Authorization', auth)
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
    failSaves = true;
    const failed = await request(app)
      .post('/oauth/token')
      .set('Authorization', auth)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(failed.status).toBe(500);
    expect(failed.body.error).toBe('server_error');
    failSaves = false;
    const retry = await request(app)
      .post('/oauth/token')
      .set('Authorization', auth)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(retry.status).toBe(200);
    // The family is intact: the first access token still works.
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${first.body.access_token}`)).status).toBe(
      200,
    );
  });
});

describe('verifyPassword never accepts a malformed stored hash', () => {
  test.each([
    ['empty key', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$'],
    ['key not base64url', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$!!!!'],
    ['short key', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$AAAA'],
    ['N not a power of two', `scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA$${'A'.repeat(43)}`],
    ['N too large', `scrypt$4194304$8$1$c2FsdHNhbHRzYWx0c2FsdA$${'A'.repeat(43)}`],
    ['not scrypt', 'bcrypt$whatever'],
    ['empty', ''],
  ])('%s → false', async (_name, hash) => {
    await expect(verifyPassword('anything', hash)).resolves.toBe(false);
  });
});

describe('an unavailable store at the authorization endpoint', () => {
  test('redirects with temporarily_unavailable (RFC 6749 §4.1.2.1), not server_error', async () => {
    const base = memoryStores({ clients: CODE_CLIENTS });
    const tokens: TokenStore = { ...base.tokens, save: () => Promise.reject(new TemporarilyUnavailable()) };
    const { app } = buildCodeApp('express5', {}, { ...base, tokens });
    const { challenge } = pkcePair();
    const res = await request(app)
      .get(
        authorizeUrl({
          response_type: 'code',
          client_id: 'spa',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 'xyz',
        }),
      )
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    const query = new URL(res.headers.location as string).searchParams;
    expect(query.get('error')).toBe('temporarily_unavailable');
    expect(query.get('state')).toBe('xyz');
  });
});
