/**
 * #11 item 6: a refresh whose store write ran but whose reply was lost (the connection dropped)
 * answers 503, and the client's retry with the same refresh token must not be mistaken for a
 * replay: it gets the successor the lost reply carried, and the grant lives on. A TCP proxy in
 * front of a real redis-server / PostgreSQL drops the reply to the consume.
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import { memoryStores, type TokenStore } from '../../src';
import { hashToken } from '../../src/core/crypto';
import { CONSUME } from '../../src/stores/redis/scripts';
import { waitFor } from '../support/redis-server';
import { basic, buildApp, CLIENTS, USERS } from '../support/spine';
import { replyDroppingProxy, type ReplyDroppingProxy } from '../support/tcp-proxy';
import { describeBackends, type TokenBackend } from '../support/token-backends';

const TOKEN = '/oauth/token';
const WEB = basic('web-app', 'web-secret');

describeBackends(
  'a lost consume reply',
  __filename,
  (backend: () => TokenBackend) => {
    let proxy: ReplyDroppingProxy;
    afterAll(() => proxy?.close());

    test('the retry after a 503 gets the successor and never revokes the family (#11 item 6, RFC 9700 §4.14.2)', async () => {
      proxy = await replyDroppingProxy(backend().port as number);
      const proxied = await backend().store(proxy.port);
      const direct: TokenStore = await backend().store();
      const { clients, users } = memoryStores({ clients: CLIENTS, users: USERS });
      const { app } = buildApp('express5', {}, { clients, users, tokens: proxied });
      const login = await request(app)
        .post(TOKEN)
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read' });
      expect(login.status).toBe(200);
      const refresh = () =>
        request(app)
          .post(TOKEN)
          .set('Authorization', WEB)
          .type('form')
          .send({ grant_type: 'refresh_token', refresh_token: login.body.refresh_token });

      // The consume, as it goes over the wire: the Redis script (by its SHA-1) or the SQL.
      const patterns =
        backend().name === 'redis'
          ? [createHash('sha1').update(CONSUME).digest('hex'), "HINCRBY', KEYS[1], 'n'"]
          : ['SET consumed_at = $3'];
      const dropped = proxy.dropReplyTo(...patterns);
      const lost = await refresh();
      await dropped;
      expect(lost.status).toBe(503);
      expect(lost.body.error).toBe('temporarily_unavailable');
      // The store did consume the token: only the reply was lost.
      expect((await direct.find('refresh_token', hashToken(login.body.refresh_token)))?.consumedAt).toEqual(
        expect.any(Number),
      );

      // The client retries once the store answers again (Retry-After).
      await waitFor(
        'the store to answer through the proxy',
        async () =>
          await proxied.find('refresh_token', 'x').then(
            () => true,
            () => false,
          ),
        10_000,
      );
      const retry = await refresh();
      expect(retry.status).toBe(200);
      expect(retry.body.refresh_token).toEqual(expect.any(String));
      // The grant is intact: the first access token still works, the successor rotates on.
      expect((await request(app).get('/api/me').set('Authorization', `Bearer ${login.body.access_token}`)).status).toBe(
        200,
      );
      const next = await request(app)
        .post(TOKEN)
        .set('Authorization', WEB)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: retry.body.refresh_token });
      expect(next.status).toBe(200);
    });
  },
  ['redis', 'postgres'],
);
