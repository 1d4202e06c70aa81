/**
 * Token exchange (RFC 8693): a service trades a user's access token for a narrower one for
 * another API, optionally as an actor (`act`, §4.1); the app's policy decides; refusals are
 * the §2.2.2 errors; the new token dies with its subject's grant. Memory, Redis and
 * PostgreSQL token stores (the family link is stored), Express 4, Express 5 and Connect, and a
 * real client (openid-client's genericGrantRequest).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import request from 'supertest';
import { memoryStores, type ServerOptions, type TokenExchangeOptions, type TokenExchangeRequest } from '../../src';
import { clientToken } from '../support/lifecycle';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, USERS, type Framework } from '../support/spine';
import { describeBackends, type TokenBackend } from '../support/token-backends';

const TOKEN = '/oauth/token';
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
const BILLING = 'https://billing.example/api';
const LEDGER = 'https://ledger.example/api';
/** Audiences and resources the tests' policy allows. */
const ALLOWED = [BILLING, LEDGER, 'billing-service'];
const WEB = basic('web-app', 'web-secret');
const ORDERS = basic('orders-service', 'orders-secret');
const AUDIT = basic('audit-service', 'audit-secret');

const EXCHANGE_CLIENTS = [
  ...CLIENTS,
  {
    id: 'orders-service',
    secret: 'orders-secret',
    grants: [GRANT, 'client_credentials'] as const,
    scopes: ['read', 'write'],
  },
  { id: 'audit-service', secret: 'audit-secret', grants: [GRANT, 'client_credentials'] as const, scopes: ['read'] },
  { id: 'nosy-service', secret: 'nosy-secret', grants: [GRANT] as const, scopes: ['read'] },
];

/** The tests' policy: nosy-service may not exchange; others only for ALLOWED or this server; only orders-service may widen to admin. */
const policy: TokenExchangeOptions['policy'] = (r: TokenExchangeRequest) => {
  if (r.client.id === 'nosy-service') return false;
  if (r.audience.some((a) => !ALLOWED.includes(a))) return 'invalid_target';
  if (r.scope.includes('admin')) return r.client.id === 'orders-service' ? { scope: r.scope } : true;
  return true;
};

type App = Parameters<typeof request>[0];

function appWith(
  framework: Framework,
  options: Partial<ServerOptions>,
  tokens?: Awaited<ReturnType<TokenBackend['store']>>,
): App {
  const { clients, users } = memoryStores({
    clients: EXCHANGE_CLIENTS.map((c) => ({ ...c, grants: [...c.grants] })),
    users: USERS,
  });
  return buildApp(framework, { tokenExchange: { policy }, ...options }, { clients, users, tokens }).app;
}

async function userToken(a: App, scope = 'read write'): Promise<{ access_token: string; refresh_token: string }> {
  const res = await request(a)
    .post(TOKEN)
    .set('Authorization', WEB)
    .type('form')
    .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope });
  expect(res.status).toBe(200);
  return res.body;
}

const exchange = (a: App, form: Record<string, string>, client = ORDERS) =>
  request(a)
    .post(TOKEN)
    .set('Authorization', client)
    .type('form')
    .send({ grant_type: GRANT, subject_token_type: ACCESS, ...form });

describe.each(FRAMEWORKS)('token exchange under %s', (framework) => {
  const a = appWith(framework, {});

  test('a service exchanges a user token for a narrower one for another API: issued_token_type, Bearer, no refresh token (RFC 8693 §2.2.1)', async () => {
    const user = await userToken(a);
    const res = await exchange(a, { subject_token: user.access_token, audience: BILLING, scope: 'read' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      issued_token_type: ACCESS,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read',
    });
    const { payload } = decodeJwt(res.body.access_token);
    expect(payload).toMatchObject({ sub: 'user-alice', aud: BILLING, scope: 'read', client_id: 'orders-service' });
    expect(payload.act).toBeUndefined();
  });

  test('with an actor_token the new token carries act naming the actor (RFC 8693 §4.1), nested for a chain', async () => {
    const user = await userToken(a);
    const orders = await clientToken(a, ORDERS);
    const first = await exchange(a, {
      subject_token: user.access_token,
      actor_token: orders,
      actor_token_type: ACCESS,
      scope: 'read',
    });
    expect(first.status).toBe(200);
    expect(decodeJwt(first.body.access_token).payload.act).toEqual({
      sub: 'orders-service',
      client_id: 'orders-service',
    });
    const audit = await clientToken(a, AUDIT);
    const second = await exchange(
      a,
      { subject_token: first.body.access_token, actor_token: audit, actor_token_type: ACCESS },
      AUDIT,
    );
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token).payload).toMatchObject({
      sub: 'user-alice',
      act: {
        sub: 'audit-service',
        client_id: 'audit-service',
        act: { sub: 'orders-service', client_id: 'orders-service' },
      },
    });
  });

  test('several audience and resource parameters: the new token is for all of them, and one refused target refuses the exchange (RFC 8693 §2.1)', async () => {
    const user = await userToken(a);
    const several = (targets: [string, string][]) =>
      request(a)
        .post(TOKEN)
        .set('Authorization', ORDERS)
        .type('form')
        .send(
          new URLSearchParams([
            ['grant_type', GRANT],
            ['subject_token_type', ACCESS],
            ['subject_token', user.access_token],
            ['scope', 'read'],
            ...targets,
          ]).toString(),
        );
    const res = await several([
      ['resource', BILLING],
      ['resource', LEDGER],
      ['audience', 'billing-service'],
      ['audience', BILLING],
    ]);
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).payload.aud).toEqual([BILLING, LEDGER, 'billing-service']);
    const refused = await several([
      ['resource', BILLING],
      ['audience', 'elsewhere-service'],
    ]);
    expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 400, error: 'invalid_target' });
    const malformed = await several([
      ['resource', BILLING],
      ['resource', 'not a uri'],
    ]);
    expect(malformed.body.error).toBe('invalid_target');
  });

  test('a missing subject_token or subject_token_type, or an actor_token without its type, is invalid_request (RFC 8693 §2.1)', async () => {
    const user = await userToken(a);
    expect(
      (
        await request(a)
          .post(TOKEN)
          .set('Authorization', ORDERS)
          .type('form')
          .send({ grant_type: GRANT, subject_token_type: ACCESS })
      ).body.error,
    ).toBe('invalid_request');
    expect(
      (
        await request(a)
          .post(TOKEN)
          .set('Authorization', ORDERS)
          .type('form')
          .send({ grant_type: GRANT, subject_token: user.access_token })
      ).body.error,
    ).toBe('invalid_request');
    expect((await exchange(a, { subject_token: user.access_token, actor_token: user.access_token })).body.error).toBe(
      'invalid_request',
    );
    expect(
      (
        await exchange(a, {
          subject_token: user.access_token,
          requested_token_type: 'urn:ietf:params:oauth:token-type:saml2',
        })
      ).body.error,
    ).toBe('invalid_request');
  });

  test('an invalid, unknown-type or revoked subject token is invalid_request (RFC 8693 §2.2.2)', async () => {
    const garbage = await exchange(a, { subject_token: 'not-a-token' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toBe('invalid_request');
    const user = await userToken(a);
    expect(
      (
        await exchange(a, {
          subject_token: user.access_token,
          subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        })
      ).body.error,
    ).toBe('invalid_request');
    await request(a).post('/oauth/revoke').set('Authorization', WEB).type('form').send({ token: user.refresh_token });
    expect((await exchange(a, { subject_token: user.access_token })).body.error).toBe('invalid_request');
  });

  test("the scope is never wider than the subject token's unless the policy allows it (RFC 8693 §5, RFC 6749 §3.3)", async () => {
    const user = await userToken(a, 'read');
    expect((await exchange(a, { subject_token: user.access_token, scope: 'read write' })).body.error).toBe(
      'invalid_scope',
    );
    expect((await exchange(a, { subject_token: user.access_token, scope: 'read admin' }, AUDIT)).body.error).toBe(
      'invalid_scope',
    );
    const widened = await exchange(a, { subject_token: user.access_token, scope: 'read admin' });
    expect(widened.status).toBe(200);
    expect(widened.body.scope).toBe('read admin');
  });

  test('refusals: the policy says no (unauthorized_client), an audience it refuses or a malformed resource (invalid_target), a client without the grant (unauthorized_client) (RFC 8693 §2.2.2)', async () => {
    const user = await userToken(a);
    const refused = await exchange(a, { subject_token: user.access_token }, basic('nosy-service', 'nosy-secret'));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect((await exchange(a, { subject_token: user.access_token }, basic('reader', 'reader-secret'))).body.error).toBe(
      'unauthorized_client',
    );
    expect(
      (await exchange(a, { subject_token: user.access_token, audience: 'https://elsewhere.example' })).body.error,
    ).toBe('invalid_target');
    expect((await exchange(a, { subject_token: user.access_token, resource: 'not a uri' })).body.error).toBe(
      'invalid_target',
    );
    expect((await exchange(a, { subject_token: user.access_token, resource: `${BILLING}#x` })).body.error).toBe(
      'invalid_target',
    );
    const resource = await exchange(a, { subject_token: user.access_token, resource: BILLING });
    expect(decodeJwt(resource.body.access_token).payload.aud).toBe(BILLING);
  });
});

test('token exchange is off by default: unsupported_grant_type (RFC 8693 §2.1 is opt-in)', async () => {
  const { clients, users } = memoryStores({
    clients: EXCHANGE_CLIENTS.map((c) => ({ ...c, grants: [...c.grants] })),
    users: USERS,
  });
  const { app } = buildApp('express5', {}, { clients, users });
  const user = await userToken(app);
  expect((await exchange(app, { subject_token: user.access_token })).body.error).toBe('unsupported_grant_type');
  expect((await request(app).get('/.well-known/oauth-authorization-server')).body.grant_types_supported).not.toContain(
    GRANT,
  );
});

test('a token the app validates itself (another issuer) is exchanged through validateToken', async () => {
  const JWT = 'urn:ietf:params:oauth:token-type:jwt';
  const a = appWith('express5', {
    tokenExchange: {
      policy,
      validateToken: (token, type) =>
        type === JWT && token === 'partner-token' ? { type, sub: 'partner-user', scope: ['read'] } : undefined,
    },
  });
  const res = await exchange(a, { subject_token: 'partner-token', subject_token_type: JWT });
  expect(res.status).toBe(200);
  expect(decodeJwt(res.body.access_token).payload).toMatchObject({ sub: 'partner-user', scope: 'read' });
  expect((await exchange(a, { subject_token: 'forged', subject_token_type: JWT })).body.error).toBe('invalid_request');
  expect((await request(a).get('/.well-known/oauth-authorization-server')).body.grant_types_supported).toContain(GRANT);
});

describeBackends('the exchanged token and its subject', __filename, (backend) => {
  test("the exchanged token is revoked with its subject token's grant (RFC 8693 §2.2.1, RFC 7009 §2.1)", async () => {
    for (const accessTokenFormat of ['jwt', 'opaque'] as const) {
      const a = appWith('express5', { accessTokenFormat }, await backend().store());
      const user = await userToken(a);
      const exchanged = (await exchange(a, { subject_token: user.access_token, scope: 'read' })).body.access_token;
      expect((await request(a).get('/api/me').set('Authorization', `Bearer ${exchanged}`)).status).toBe(200);
      expect(
        (
          await request(a)
            .post('/oauth/revoke')
            .set('Authorization', WEB)
            .type('form')
            .send({ token: user.refresh_token })
        ).status,
      ).toBe(200);
      expect((await request(a).get('/api/me').set('Authorization', `Bearer ${exchanged}`)).status).toBe(401);
    }
  });

  test("introspection answers an exchanged token's act and aud, for opaque tokens as for JWTs, and revokes it though it is for another API (RFC 8693 §4.1, RFC 7662 §2.2, RFC 7009)", async () => {
    for (const accessTokenFormat of ['jwt', 'opaque'] as const) {
      const a = appWith('express5', { accessTokenFormat }, await backend().store());
      const user = await userToken(a);
      const actor = (
        await request(a)
          .post(TOKEN)
          .set('Authorization', ORDERS)
          .type('form')
          .send({ grant_type: 'client_credentials' })
      ).body.access_token;
      const exchanged = await exchange(a, {
        subject_token: user.access_token,
        actor_token: actor,
        actor_token_type: ACCESS,
        audience: BILLING,
        scope: 'read',
      });
      expect(exchanged.status).toBe(200);
      const introspected = await request(a)
        .post('/oauth/introspect')
        .set('Authorization', ORDERS)
        .type('form')
        .send({ token: exchanged.body.access_token });
      expect(introspected.body).toMatchObject({
        active: true,
        sub: 'user-alice',
        client_id: 'orders-service',
        act: { sub: 'orders-service', client_id: 'orders-service' },
      });
      expect([introspected.body.aud].flat()).toEqual([BILLING]);
      // Meant for billing, so refused by this server's own guard; yet revocable here, being ours.
      const token = exchanged.body.access_token as string;
      expect((await request(a).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(401);
      await request(a).post('/oauth/revoke').set('Authorization', ORDERS).type('form').send({ token });
      expect(
        (await request(a).post('/oauth/introspect').set('Authorization', ORDERS).type('form').send({ token })).body,
      ).toEqual({ active: false });
      // A token without an actor has no act.
      const plain = (await exchange(a, { subject_token: user.access_token, scope: 'read' })).body.access_token;
      const noActor = await request(a)
        .post('/oauth/introspect')
        .set('Authorization', ORDERS)
        .type('form')
        .send({ token: plain });
      expect(noActor.body.active).toBe(true);
      expect(noActor.body).not.toHaveProperty('act');
    }
  });

  test('a subject without a grant (client_credentials): revoking the subject token revokes the exchanged one (RFC 7009 §2.1)', async () => {
    const a = appWith('express5', {}, await backend().store());
    const subject = await clientToken(a, AUDIT);
    const exchanged = (await exchange(a, { subject_token: subject })).body.access_token;
    expect((await request(a).get('/api/me').set('Authorization', `Bearer ${exchanged}`)).status).toBe(200);
    await request(a).post('/oauth/revoke').set('Authorization', AUDIT).type('form').send({ token: subject });
    expect((await request(a).get('/api/me').set('Authorization', `Bearer ${exchanged}`)).status).toBe(401);
  });
});

test('openid-client performs the exchange with genericGrantRequest (interop)', async () => {
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const a = appWith('express5', { issuer }) as http.RequestListener;
    handler = a;
    const user = await userToken(a);
    const input = {
      issuer,
      clientId: 'orders-service',
      clientSecret: 'orders-secret',
      parameters: { subject_token: user.access_token, subject_token_type: ACCESS, audience: BILLING, scope: 'read' },
    };
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [join(__dirname, '../fixtures/openid-client-exchange.mjs'), JSON.stringify(input)],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('error', reject);
        child.on('exit', () => resolve(out));
      });
    const result = JSON.parse(await run());
    expect(result).toMatchObject({ issued_token_type: ACCESS, token_type: 'bearer', scope: 'read' });
    expect(decodeJwt(result.access_token).payload).toMatchObject({
      sub: 'user-alice',
      aud: BILLING,
      client_id: 'orders-service',
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
