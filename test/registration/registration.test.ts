/**
 * Dynamic client registration (RFC 7591) and client management (RFC 7592): modes, metadata
 * validation (with RFC 8252 native redirects), the answer, management with the registration
 * access token, deletion revoking tokens, and the bounds under a flood.
 */
import request from 'supertest';
import { hashToken, memoryStores, type Client, type ServerOptions } from '../../src';
import { oauthServer } from '../../src';
import { authorizeUrl, buildCodeApp, HOOK_HEADERS, locationParams, pkcePair } from '../support/authorization-code';
import { basic, FRAMEWORKS, ISSUER, recordingLogger, type Framework } from '../support/spine';

const MCP = 'https://mcp.example.com/mcp';
const REG = '/oauth/register';
const NATIVE = {
  redirect_uris: ['http://127.0.0.1:33418/callback'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  client_name: 'Agent',
};

function build(
  framework: Framework = 'express5',
  registration: ServerOptions['registration'] = { open: true },
  extra: Partial<ServerOptions> = {},
) {
  const stores = memoryStores({ clients: [], maxRegisteredClients: 50 });
  const built = buildCodeApp(
    framework,
    { registration, resources: { [MCP]: { scopes: ['tools:read', 'tools:call'] } }, ...extra },
    stores,
  );
  return { ...built, stores };
}

function register(app: Parameters<typeof request>[0], body: unknown, token?: string) {
  const req = request(app).post(REG).set('Content-Type', 'application/json');
  if (token) req.set('Authorization', `Bearer ${token}`);
  return req.send(JSON.stringify(body));
}

describe.each(FRAMEWORKS)('client registration under %s (RFC 7591)', (framework) => {
  // Many registrations from one test address: the per-address limit has its own test below.
  const { app, stores, oauth } = build(framework, { open: true, perAddress: false });

  test('the endpoint is advertised as registration_endpoint (RFC 8414 §2)', async () => {
    expect(oauth.metadata.registration_endpoint).toBe(ISSUER + REG);
    const res = await request(app).get('/.well-known/oauth-authorization-server');
    expect(res.body.registration_endpoint).toBe(ISSUER + REG);
  });

  test('a native public client registers: 201 with client_id, client_id_issued_at, the metadata echoed, a registration access token and URI, no secret (RFC 7591 §3.2.1)', async () => {
    const res = await register(app, NATIVE);
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      client_id: expect.stringMatching(/^tgc_/),
      client_id_issued_at: expect.any(Number),
      redirect_uris: NATIVE.redirect_uris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'tools:read tools:call',
      client_name: 'Agent',
      registration_access_token: expect.any(String),
      registration_client_uri: `${ISSUER}${REG}/${res.body.client_id}`,
    });
    const stored = (await stores.clients.findClient(res.body.client_id)) as Client;
    expect(stored.secretHash).toBeUndefined();
    expect(stored.registration?.accessTokenHash).toBe(hashToken(res.body.registration_access_token));
  });

  test('a confidential client gets a secret shown once and stored hashed, with client_secret_expires_at (RFC 7591 §3.2.1)', async () => {
    const res = await register(app, { redirect_uris: ['https://app.example.com/cb'], client_name: 'Web' });
    expect(res.status).toBe(201);
    expect(res.body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(res.body.client_secret).toEqual(expect.any(String));
    expect(res.body.client_secret_expires_at).toBe(0);
    const stored = (await stores.clients.findClient(res.body.client_id)) as Client;
    expect(JSON.stringify(stored)).not.toContain(res.body.client_secret);
    expect(JSON.stringify(stored)).not.toContain(res.body.registration_access_token);
    // Later reads never show the secret again (RFC 7592 §2.1: it is stored hashed).
    const read = await request(app)
      .get(`${REG}/${res.body.client_id}`)
      .set('Authorization', `Bearer ${res.body.registration_access_token}`);
    expect(read.status).toBe(200);
    expect(read.body.client_secret).toBeUndefined();
    // And the secret works at the token endpoint through the one client-authentication pipeline.
    const cc = await register(app, { grant_types: ['client_credentials'], response_types: [], scope: 'tools:call' });
    const token = await request(app)
      .post('/oauth/token')
      .type('form')
      .set('Authorization', basic(cc.body.client_id, cc.body.client_secret))
      .send({ grant_type: 'client_credentials', resource: MCP });
    expect(token.status).toBe(200);
  });

  test.each([
    ['an http redirect URI that is not loopback', { ...NATIVE, redirect_uris: ['http://app.example.com/cb'] }],
    ['a redirect URI with a fragment', { ...NATIVE, redirect_uris: ['https://app.example.com/cb#x'] }],
    ['a javascript: redirect URI', { ...NATIVE, redirect_uris: ['javascript:alert(1)'] }],
    ['a private-use scheme without a dot', { ...NATIVE, redirect_uris: ['myapp:/cb'] }],
    ['a relative redirect URI', { ...NATIVE, redirect_uris: ['/cb'] }],
    [
      'a loopback redirect for a confidential client',
      { redirect_uris: ['http://127.0.0.1:8080/cb'], token_endpoint_auth_method: 'client_secret_post' },
    ],
    ['no redirect URI for the code flow', { token_endpoint_auth_method: 'none' }],
  ])('%s is invalid_redirect_uri (RFC 7591 §3.2.2, RFC 8252 §7)', async (_name, body) => {
    const res = await register(app, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_redirect_uri');
  });

  test.each([
    ['loopback 127.0.0.1', 'http://127.0.0.1/callback'],
    ['loopback [::1]', 'http://[::1]:8080/callback'],
    ['localhost', 'http://localhost:3000/callback'],
    ['a private-use scheme', 'com.example.agent:/oauth/callback'],
  ])('a native client may register %s (RFC 8252 §7)', async (_name, uri) => {
    const res = await register(app, { ...NATIVE, redirect_uris: [uri] });
    expect(res.status).toBe(201);
    expect(res.body.redirect_uris).toEqual([uri]);
  });

  test.each([
    ['an unknown auth method', { ...NATIVE, token_endpoint_auth_method: 'private_key_jwt_x' }],
    ['an implicit grant', { ...NATIVE, grant_types: ['implicit'] }],
    ['the token response type', { ...NATIVE, response_types: ['token'] }],
    [
      'code response type without the code grant',
      { ...NATIVE, grant_types: ['refresh_token'], response_types: ['code'] },
    ],
    ['client_credentials for a public client', { ...NATIVE, grant_types: ['client_credentials'], response_types: [] }],
    ['a scope the server does not allow', { ...NATIVE, scope: 'admin' }],
    ['a client_uri that is not https', { ...NATIVE, client_uri: 'http://app.example.com' }],
    ['a logo_uri that is not a URL', { ...NATIVE, logo_uri: 'logo' }],
    ['a client_name with control characters', { ...NATIVE, client_name: 'a\u0000b' }],
    ['a JSON array', [NATIVE]],
  ])('%s is invalid_client_metadata (RFC 7591 §2, §3.2.2)', async (_name, body) => {
    const res = await register(app, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('a malformed body or another content type is 400, never 5xx', async () => {
    expect((await request(app).post(REG).set('Content-Type', 'application/json').send('{nope')).status).toBe(400);
    expect((await request(app).post(REG).type('form').send({ redirect_uris: 'x' })).status).toBe(400);
    expect((await request(app).get(REG)).status).toBe(405);
  });

  test('client_name, client_uri and logo_uri are stored and shown to the consent hook (RFC 7591 §2)', async () => {
    const seen: unknown[] = [];
    const { app: withConsent } = buildCodeApp(
      framework,
      {
        registration: { open: true },
        authorize: {
          authenticate: () => ({ id: 'user-alice' }),
          consent: (_q, _r, info) => (seen.push(info.client.registration?.metadata), true),
        },
      },
      memoryStores({ clients: [] }),
    );
    const reg = await register(withConsent, {
      ...NATIVE,
      scope: undefined,
      client_uri: 'https://agent.example.com',
      logo_uri: 'https://agent.example.com/logo.png',
    });
    expect(reg.status).toBe(201);
    const { challenge } = pkcePair();
    const res = await request(withConsent).get(
      authorizeUrl({
        response_type: 'code',
        client_id: reg.body.client_id,
        redirect_uri: NATIVE.redirect_uris[0],
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(locationParams(res.headers.location).get('code')).toEqual(expect.any(String));
    expect(seen).toEqual([
      expect.objectContaining({
        client_name: 'Agent',
        client_uri: 'https://agent.example.com',
        logo_uri: 'https://agent.example.com/logo.png',
      }),
    ]);
  });

  test('an openly registered public client may get every scope the resources advertise (MCP)', async () => {
    const reg = await register(app, NATIVE);
    const { challenge } = pkcePair();
    const url = authorizeUrl({
      response_type: 'code',
      client_id: reg.body.client_id,
      redirect_uri: NATIVE.redirect_uris[0],
      scope: 'tools:read tools:call',
      resource: MCP,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const res = await request(app).get(url).set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(res.headers.location).get('code')).toEqual(expect.any(String));
  });
});

describe('client management (RFC 7592)', () => {
  const { app, stores } = build('express5', { open: true, perAddress: false });

  test('read, update and delete with the registration access token; a wrong or missing token is 401 invalid_token (RFC 7592 §2)', async () => {
    const reg = await register(app, NATIVE);
    const uri = `${REG}/${reg.body.client_id}`;
    const auth = `Bearer ${reg.body.registration_access_token}`;

    for (const bad of [undefined, 'Bearer wrong-token-0123456789']) {
      const req = request(app).get(uri);
      if (bad) req.set('Authorization', bad);
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    // Another client's token does not open this client.
    const other = await register(app, NATIVE);
    expect(
      (await request(app).get(uri).set('Authorization', `Bearer ${other.body.registration_access_token}`)).status,
    ).toBe(401);
    // An unknown client looks like a wrong token: 401, not 404.
    expect((await request(app).get(`${REG}/tgc_nobody`).set('Authorization', auth)).status).toBe(401);

    const read = await request(app).get(uri).set('Authorization', auth);
    expect(read.body).toMatchObject({
      client_id: reg.body.client_id,
      redirect_uris: NATIVE.redirect_uris,
      client_name: 'Agent',
    });

    const updated = await request(app)
      .put(uri)
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send(
        JSON.stringify({
          ...NATIVE,
          client_id: reg.body.client_id,
          client_name: 'Agent 2',
          redirect_uris: ['http://127.0.0.1/cb2'],
        }),
      );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ client_name: 'Agent 2', redirect_uris: ['http://127.0.0.1/cb2'] });
    expect((await stores.clients.findClient(reg.body.client_id))?.redirectUris).toEqual(['http://127.0.0.1/cb2']);

    const mismatch = await request(app)
      .put(uri)
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...NATIVE, client_id: 'someone-else' }));
    expect(mismatch.status).toBe(400);

    const deleted = await request(app).delete(uri).set('Authorization', auth);
    expect(deleted.status).toBe(204);
    expect(await stores.clients.findClient(reg.body.client_id)).toBeUndefined();
    expect((await request(app).get(uri).set('Authorization', auth)).status).toBe(401);
  });

  for (const format of ['jwt', 'opaque'] as const) {
    test(`${format}: deleting a client makes its tokens stop working (RFC 7592 §2.3)`, async () => {
      const { app: server } = build(
        'express5',
        { open: true },
        { accessTokenFormat: format, scopesSupported: ['read'] },
      );
      const reg = await register(server, { grant_types: ['client_credentials'], response_types: [], scope: 'read' });
      const token = (
        await request(server)
          .post('/oauth/token')
          .type('form')
          .set('Authorization', basic(reg.body.client_id, reg.body.client_secret))
          .send({ grant_type: 'client_credentials' })
      ).body.access_token;
      expect((await request(server).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      expect(
        (
          await request(server)
            .delete(`${REG}/${reg.body.client_id}`)
            .set('Authorization', `Bearer ${reg.body.registration_access_token}`)
        ).status,
      ).toBe(204);
      const after = await request(server).get('/api/me').set('Authorization', `Bearer ${token}`);
      expect(after.status).toBe(401);
      expect(after.headers['www-authenticate']).toContain('invalid_token');
      // And the client can no longer authenticate.
      const again = await request(server)
        .post('/oauth/token')
        .type('form')
        .set('Authorization', basic(reg.body.client_id, reg.body.client_secret))
        .send({ grant_type: 'client_credentials' });
      expect(again.status).toBe(401);
    });
  }
});

describe('registration modes (RFC 7591 §3)', () => {
  test('closed by default: no endpoint, nothing advertised', async () => {
    const { app, oauth } = buildCodeApp('express5', {}, memoryStores({ clients: [] }));
    expect(oauth.metadata.registration_endpoint).toBeUndefined();
    expect((await register(app, NATIVE)).status).toBe(404);
  });

  test('initial access token: required as a bearer token, compared exactly; a wrong one is 401 invalid_token', async () => {
    const { app } = build('express5', { initialAccessToken: 'reg-token-0123456789abcdef' });
    const none = await register(app, NATIVE);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('invalid_token');
    expect((await register(app, NATIVE, 'reg-token-0123456789abcdeX')).status).toBe(401);
    expect((await register(app, NATIVE, 'reg-token-0123456789abcdef')).status).toBe(201);
  });

  test('policy hook: may refuse (invalid_client_metadata) or adjust the metadata, which is validated again', async () => {
    const { app } = build('express5', {
      policy: (metadata) => (metadata.client_name === 'Evil' ? false : { ...metadata, scope: 'tools:read' }),
    });
    const refused = await register(app, { ...NATIVE, client_name: 'Evil' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_client_metadata');
    const adjusted = await register(app, NATIVE);
    expect(adjusted.status).toBe(201);
    expect(adjusted.body.scope).toBe('tools:read');
  });

  test('a store without write methods: registration is off and start-up says so', () => {
    const logger = recordingLogger();
    const oauth = oauthServer(
      { clients: { findClient: async () => undefined } },
      { issuer: ISSUER, logger, registration: { open: true } },
    );
    expect(oauth.metadata.registration_endpoint).toBeUndefined();
    expect(logger.lines.some((l) => l.level === 'warn' && /registration \(RFC 7591\) is OFF/.test(l.message))).toBe(
      true,
    );
  });

  test('options are checked at start-up', () => {
    const stores = memoryStores({ clients: [] });
    expect(() => oauthServer(stores, { issuer: ISSUER, logger: recordingLogger(), registration: {} })).toThrow(
      /who may register/,
    );
    expect(() =>
      oauthServer(stores, { issuer: ISSUER, logger: recordingLogger(), registration: { initialAccessToken: 'short' } }),
    ).toThrow(/at least 16/);
  });
});

describe('bounded under a registration flood', () => {
  test('per address: past the limit 429 with Retry-After, and nothing more is stored', async () => {
    const { app, stores } = build('express5', { open: true, perAddress: { points: 5, duration: 3600 } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await register(app, NATIVE)).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    const last = await register(app, NATIVE);
    expect(last.headers['retry-after']).toEqual(expect.any(String));
    expect((stores.clients as unknown as { dump(): unknown[] }).dump()).toHaveLength(5);
  });

  test('from many addresses: the memory store keeps at most maxRegisteredClients and answers 503 after that', async () => {
    let n = 0;
    const { app, stores } = build('express5', { open: true, remoteAddress: () => `198.51.100.${n++ % 250}` });
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) statuses.push((await register(app, NATIVE)).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 503)).toHaveLength(30);
    expect((stores.clients as unknown as { dump(): unknown[] }).dump()).toHaveLength(50);
  });
});
