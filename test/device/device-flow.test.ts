/**
 * The device authorization grant (RFC 8628) on the memory, Redis and PostgreSQL stores: the
 * device authorization endpoint (§3.1–3.2), user codes (§6.1), the verification page's API
 * with its attempt limits (§5.1), and polling the token endpoint (§3.4–3.5).
 */
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { memoryStores, type OAuthServer, type ServerOptions } from '../../src';
import { advanceClock } from '../support/clock';
import { basic, buildApp, CLIENTS, decodeJwt, USERS } from '../support/spine';
import { describeBackends, type TokenBackend } from '../support/token-backends';

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const ENDPOINT = '/oauth/device_authorization';
const TOKEN = '/oauth/token';
const ALICE = { id: 'user-alice' };
const DEVICE_CLIENTS = [
  ...CLIENTS,
  { id: 'tv', grants: [DEVICE, 'refresh_token'], scopes: ['read', 'write'] },
  { id: 'cli', secret: 'cli-secret', grants: [DEVICE], scopes: ['read'] },
];
type App = Parameters<typeof request>[0];

/** A request as the verification page's API sees it, from this address. */
const from = (address: string): IncomingMessage =>
  ({ headers: {}, socket: { remoteAddress: address } }) as unknown as IncomingMessage;

describeBackends('device authorization grant', __filename, (backend: () => TokenBackend) => {
  async function setup(
    options: Partial<ServerOptions['deviceAuthorization']> = {},
    server: Partial<ServerOptions> = {},
  ): Promise<{ app: App; oauth: OAuthServer }> {
    const { clients, users } = memoryStores({
      clients: DEVICE_CLIENTS.map((c) => ({ ...c, grants: [...c.grants] })) as never,
      users: USERS,
    });
    const { app, oauth } = buildApp(
      'express5',
      { deviceAuthorization: { verificationUri: '/device', ...options }, ...server },
      { clients, users, tokens: await backend().store(), devices: await backend().devices() },
    );
    return { app, oauth };
  }
  const start = (a: App, form: Record<string, string> = { client_id: 'tv', scope: 'read' }) =>
    request(a).post(ENDPOINT).type('form').send(form);
  const poll = (a: App, deviceCode: string, client = 'tv') =>
    request(a).post(TOKEN).type('form').send({ grant_type: DEVICE, device_code: deviceCode, client_id: client });

  test('the device authorization response (RFC 8628 §3.2), advertised as device_authorization_endpoint (§4); only hashes are stored', async () => {
    const { app } = await setup();
    const res = await start(app);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      device_code: expect.any(String),
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: 'https://auth.example.com/device',
      verification_uri_complete: `https://auth.example.com/device?user_code=${res.body.user_code}`,
      expires_in: 600,
      interval: 5,
    });
    const metadata = await request(app).get('/.well-known/oauth-authorization-server');
    expect(metadata.body.device_authorization_endpoint).toBe(`https://auth.example.com${ENDPOINT}`);
    expect(metadata.body.grant_types_supported).toContain(DEVICE);
    const dump = await backend().dump();
    expect(dump).not.toContain(res.body.device_code);
    expect(dump).not.toContain(res.body.user_code.replace('-', ''));
  });

  test('client authentication as at the token endpoint (§3.1): a wrong secret is invalid_client, a client without the grant unauthorized_client', async () => {
    const { app } = await setup();
    expect((await start(app, { client_id: 'cli', client_secret: 'wrong' })).status).toBe(401);
    expect(
      (await request(app).post(ENDPOINT).set('Authorization', basic('cli', 'cli-secret')).type('form').send({})).status,
    ).toBe(200);
    expect((await start(app, { client_id: 'spa' })).body.error).toBe('unauthorized_client');
    expect((await start(app, { client_id: 'tv', scope: 'admin' })).body.error).toBe('invalid_scope');
    expect((await request(app).get(ENDPOINT)).status).toBe(405);
  });

  test('one address may make at most requestsPerAddress device authorization requests per lifetime (429); other addresses are not affected', async () => {
    const { app } = await setup(
      { requestsPerAddress: 3 },
      { bruteForce: { remoteAddress: (req) => String(req.headers['x-test-address']) } },
    );
    const from = (address: string) =>
      request(app).post(ENDPOINT).set('X-Test-Address', address).type('form').send({ client_id: 'tv' });
    for (let i = 0; i < 3; i++) expect((await from('10.9.0.1')).status).toBe(200);
    const refused = await from('10.9.0.1');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await from('10.9.0.2')).status).toBe(200);
  });

  describe('resource indicators (RFC 8707; RFC 8628 §3.1)', () => {
    const NOTES = 'https://notes.example/api';
    const MAIL = 'https://mail.example/api';
    const resources = { [NOTES]: { scopes: ['read'] }, [MAIL]: { scopes: ['read', 'write'] } };
    const form = (...pairs: [string, string][]) => new URLSearchParams(pairs).toString();
    const startFor = (a: App, ...targets: string[]) =>
      request(a)
        .post(ENDPOINT)
        .type('form')
        .send(form(['client_id', 'tv'], ['scope', 'read'], ...targets.map((r): [string, string] => ['resource', r])));
    const pollFor = (a: App, deviceCode: string, ...targets: string[]) =>
      request(a)
        .post(TOKEN)
        .type('form')
        .send(
          form(
            ['grant_type', DEVICE],
            ['device_code', deviceCode],
            ['client_id', 'tv'],
            ...targets.map((r): [string, string] => ['resource', r]),
          ),
        );

    test("the resources asked for are shown on the verification page and become the tokens' aud; the token request may narrow them (RFC 8707 §2, §2.2)", async () => {
      const { app, oauth } = await setup({}, { resources });
      const started = await startFor(app, NOTES, MAIL);
      expect(started.status).toBe(200);
      const pending = await oauth.device!.lookup(from('10.0.0.1'), started.body.user_code);
      expect(pending).toMatchObject({ resources: [NOTES, MAIL], scopes: ['read'] });
      expect(await oauth.device!.approve(from('10.0.0.1'), started.body.user_code, ALICE)).toBe(true);
      // A resource the request did not name is refused, and the approval stays usable.
      const wider = await pollFor(app, started.body.device_code, 'https://other.example/api');
      expect({ status: wider.status, error: wider.body.error }).toEqual({ status: 400, error: 'invalid_target' });
      const outside = await pollFor(app, started.body.device_code, NOTES, 'https://mail.example/other');
      expect(outside.body.error).toBe('invalid_target');
      const tokens = await pollFor(app, started.body.device_code, NOTES);
      expect(tokens.status).toBe(200);
      expect(decodeJwt(tokens.body.access_token).payload.aud).toBe(NOTES);
      // The refresh token keeps both resources: the client can get a token for the other one.
      const mail = await request(app)
        .post(TOKEN)
        .type('form')
        .send(
          form(
            ['grant_type', 'refresh_token'],
            ['refresh_token', tokens.body.refresh_token],
            ['client_id', 'tv'],
            ['resource', MAIL],
          ),
        );
      expect(mail.status).toBe(200);
      expect(decodeJwt(mail.body.access_token).payload.aud).toBe(MAIL);
    });

    test('without a resource at the token request, the token is for every resource of the device request', async () => {
      const { app, oauth } = await setup({}, { resources });
      const started = (await startFor(app, NOTES, MAIL)).body;
      await oauth.device!.approve(from('10.0.0.1'), started.user_code, ALICE);
      const tokens = await pollFor(app, started.device_code);
      expect(decodeJwt(tokens.body.access_token).payload.aud).toEqual([NOTES, MAIL]);
    });

    test('an unknown or malformed resource is invalid_target, a scope the resource does not define invalid_scope, at the device authorization endpoint (RFC 8707 §2)', async () => {
      const { app } = await setup({}, { resources });
      for (const target of ['https://unknown.example/api', 'not a uri', `${NOTES}#fragment`]) {
        const res = await startFor(app, target);
        expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'invalid_target' });
        expect(res.headers['cache-control']).toBe('no-store');
      }
      const scoped = await request(app)
        .post(ENDPOINT)
        .type('form')
        .send(form(['client_id', 'tv'], ['scope', 'write'], ['resource', NOTES]));
      expect(scoped.body.error).toBe('invalid_scope');
    });
  });

  test('polling: authorization_pending, then slow_down raising the interval by 5 s for that device code (§3.5)', async () => {
    const { app } = await setup();
    const { device_code: code } = (await start(app)).body;
    expect((await poll(app, code)).body.error).toBe('authorization_pending');
    const slow = await poll(app, code);
    expect(slow.status).toBe(400);
    expect(slow.body.error).toBe('slow_down');
    let restore = advanceClock(6); // enough for 5 s, not for the raised 10 s
    try {
      expect((await poll(app, code)).body.error).toBe('slow_down');
    } finally {
      restore();
    }
    restore = advanceClock(6 + 16); // the interval is 15 s now
    try {
      expect((await poll(app, code)).body.error).toBe('authorization_pending');
    } finally {
      restore();
    }
    // Another device code polls at its own interval.
    expect((await poll(app, (await start(app)).body.device_code)).body.error).toBe('authorization_pending');
  });

  test('approved on the verification page: one token response, then the device code is used up (§3.5); the user code is single use', async () => {
    const { app, oauth } = await setup();
    const started = (await start(app, { client_id: 'tv', scope: 'read write' })).body;
    // Case-insensitive, with or without the dash (§6.1).
    const typed = started.user_code.toLowerCase().replace('-', ' ');
    const pending = await oauth.device!.lookup(from('10.0.0.1'), typed);
    expect(pending).toMatchObject({ client: { id: 'tv' }, scopes: ['read', 'write'], userCode: started.user_code });
    expect(await oauth.device!.approve(from('10.0.0.1'), started.user_code, ALICE, ['read'])).toBe(true);
    expect(await oauth.device!.lookup(from('10.0.0.1'), started.user_code)).toBeUndefined();
    expect(await oauth.device!.approve(from('10.0.0.1'), started.user_code, ALICE)).toBe(false);
    const tokens = await poll(app, started.device_code);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'read', refresh_token: expect.any(String) });
    expect(decodeJwt(tokens.body.access_token).payload).toMatchObject({ sub: 'user-alice', client_id: 'tv' });
    expect((await request(app).get('/api/me').set('Authorization', `Bearer ${tokens.body.access_token}`)).status).toBe(
      200,
    );
    expect((await poll(app, started.device_code)).body.error).toBe('invalid_grant');
  });

  test('concurrent polls after approval: exactly one token response (§3.5, single use)', async () => {
    const { app, oauth } = await setup();
    const started = (await start(app)).body;
    await oauth.device!.approve(from('10.0.0.1'), started.user_code, ALICE);
    const results = await Promise.all(Array.from({ length: 20 }, () => poll(app, started.device_code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(19);
  });

  test('denied: access_denied (§3.5); another client polling the code: invalid_grant', async () => {
    const { app, oauth } = await setup();
    const started = (await start(app)).body;
    expect((await poll(app, started.device_code, 'spa')).body.error).toBe('unauthorized_client');
    expect(
      (
        await request(app)
          .post(TOKEN)
          .set('Authorization', basic('cli', 'cli-secret'))
          .type('form')
          .send({ grant_type: DEVICE, device_code: started.device_code })
      ).body.error,
    ).toBe('invalid_grant');
    expect(await oauth.device!.deny(from('10.0.0.1'), started.user_code)).toBe(true);
    expect((await poll(app, started.device_code)).body.error).toBe('access_denied');
    expect((await poll(app, started.device_code)).body.error).toBe('invalid_grant');
  });

  test('expired: expired_token (§3.5), and the user code is no longer found', async () => {
    const { app, oauth } = await setup({ lifetime: 60 });
    const started = (await start(app)).body;
    const restore = advanceClock(61);
    try {
      expect((await poll(app, started.device_code)).body.error).toBe('expired_token');
      expect(await oauth.device!.lookup(from('10.0.0.1'), started.user_code)).toBeUndefined();
    } finally {
      restore();
    }
  });

  test('guessing user codes is limited per address and overall (§5.1), and never locks out an address that did not guess', async () => {
    const { app, oauth } = await setup({ attempts: { perAddress: 3, overall: 5 } });
    const started = (await start(app)).body;
    for (let i = 0; i < 3; i++) expect(await oauth.device!.lookup(from('10.0.0.66'), 'BBBB-BBBB')).toBeUndefined();
    await expect(oauth.device!.lookup(from('10.0.0.66'), started.user_code)).rejects.toMatchObject({
      status: 429,
      error: 'temporarily_unavailable',
    });
    // Two more addresses fail once each: the overall limit (5) is reached.
    for (const address of ['10.0.1.1', '10.0.2.1'])
      expect(await oauth.device!.lookup(from(address), 'BBBB-BBBC')).toBeUndefined();
    await expect(oauth.device!.lookup(from('10.0.1.1'), started.user_code)).rejects.toMatchObject({ status: 429 });
    // A user who has not guessed is not refused for someone else's failures.
    expect(await oauth.device!.lookup(from('10.0.3.1'), started.user_code)).toMatchObject({ client: { id: 'tv' } });
    expect(await oauth.device!.approve(from('10.0.3.1'), started.user_code, ALICE)).toBe(true);
  });
});

test('without options.deviceAuthorization there is no endpoint, no grant, no oauth.device', async () => {
  const { app, oauth } = buildApp('express5');
  expect(oauth.device).toBeUndefined();
  expect((await request(app).post(ENDPOINT).type('form').send({ client_id: 'spa' })).status).toBe(404);
  expect(
    (await request(app).post(TOKEN).type('form').send({ grant_type: DEVICE, device_code: 'x', client_id: 'spa' })).body
      .error,
  ).toBe('unsupported_grant_type');
});
