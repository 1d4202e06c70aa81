/**
 * The OpenID Connect parameters of the authorization request (OpenID Connect Core
 * §3.1.2.1, §3.1.2.3, §3.1.2.6, §5.5, §6): prompt, max_age, nonce, hints, claims, and the
 * request objects this server does not support.
 */
import request from 'supertest';
import { InteractionRequired, memoryStores, oauthServer, type AuthorizeRequestInfo } from '../../src';
import {
  authorizeAs,
  authorizeUrl,
  buildOidcApp,
  FRAMEWORKS,
  HOOK_HEADERS,
  ISSUER,
  KEYS,
  OIDC_CLIENTS,
  OIDC_HEADERS,
  OIDC_USERS,
  recordingLogger,
  rpRequest,
  tokensFor,
  verifyIdToken,
} from '../support/oidc';
import { nowSeconds as now } from '../support/seconds';

describe.each(FRAMEWORKS)('prompt=none under %s (OIDC Core §3.1.2.1, §3.1.2.6)', (framework) => {
  test('nobody signed in: login_required goes back to the client with state and iss; no login page', async () => {
    const { app, calls } = buildOidcApp(framework);
    const query = await authorizeAs(app, rpRequest({ prompt: 'none' }), {}, null);
    expect(query.get('error')).toBe('login_required');
    expect(query.get('state')).toBe('st-1');
    expect(query.get('iss')).toBe(ISSUER);
    expect(calls.authenticate).toBe(1);
  });

  test('signed in and approved before: the code comes back without any page (silent success)', async () => {
    const { app } = buildOidcApp(framework);
    const res = await request(app)
      .get(authorizeUrl(rpRequest({ prompt: 'none' })))
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^https:\/\/rp\.example\.com\/cb\?code=/);
  });

  test('signed in, consent needed: consent_required', async () => {
    const { app } = buildOidcApp(framework);
    const query = await authorizeAs(app, rpRequest({ prompt: 'none' }), { [HOOK_HEADERS.consent]: 'page' });
    expect(query.get('error')).toBe('consent_required');
    expect(query.get('state')).toBe('st-1');
  });
});

describe('prompt (OIDC Core §3.1.2.1)', () => {
  test('none combined with another value is invalid_request', async () => {
    const { app, calls } = buildOidcApp();
    const query = await authorizeAs(app, rpRequest({ prompt: 'none login' }));
    expect(query.get('error')).toBe('invalid_request');
    expect(calls.authenticate).toBe(0);
  });

  test('a hook that throws InteractionRequired under prompt=none sends interaction_required', async () => {
    const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
      issuer: ISSUER,
      keys: KEYS,
      logger: recordingLogger(),
      authorize: {
        authenticate: () => {
          throw new InteractionRequired('Pick an account first.');
        },
      },
      openid: {},
    });
    const query = await authorizeAs(oauth as never, rpRequest({ prompt: 'none' }));
    expect(query.get('error')).toBe('interaction_required');
  });

  test('a hook that responds to prompt=none anyway is logged as a mistake', async () => {
    const logger = recordingLogger();
    const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
      issuer: ISSUER,
      keys: KEYS,
      logger,
      authorize: {
        authenticate: (_req, res) => {
          res.statusCode = 302;
          res.setHeader('Location', '/login');
          res.end();
          return undefined;
        },
      },
      openid: {},
    });
    const res = await request(oauth as never).get(authorizeUrl(rpRequest({ prompt: 'none' })));
    expect(res.headers.location).toBe('/login');
    expect(logger.lines.map((l) => l.message).join('\n')).toMatch(/responded to a prompt=none request/);
  });

  test('prompt=login: the hook is told to re-authenticate, and the resume URL no longer asks for it', async () => {
    const { app, calls } = buildOidcApp();
    const res = await request(app)
      .get(authorizeUrl(rpRequest({ prompt: 'login consent' })))
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^\/login\?next=/);
    const info = calls.infos[0] as AuthorizeRequestInfo;
    expect(info.reauthenticate).toBe(true);
    expect(info.prompt).toEqual(['login', 'consent']);
    const resumed = new URL(info.resumeUrl, 'https://x.example');
    expect(resumed.searchParams.get('prompt')).toBe('consent');
    expect(resumed.searchParams.get('nonce')).toBe('n-0S6_WzA2Mj');
  });

  test('prompt=consent reaches the consent hook, which asks again', async () => {
    const { app } = buildOidcApp();
    const res = await request(app)
      .get(authorizeUrl(rpRequest({ prompt: 'consent' })))
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(200);
    expect(res.text).toContain('consent');
  });
});

describe('max_age (OIDC Core §3.1.2.1, §3.1.2.3)', () => {
  test('a session younger than max_age goes through, and the ID token has auth_time', async () => {
    const { app } = buildOidcApp();
    const authTime = now() - 30;
    const body = await tokensFor(app, rpRequest({ max_age: '60' }), { [OIDC_HEADERS.authTime]: String(authTime) });
    expect(verifyIdToken(body.id_token as string).auth_time).toBe(authTime);
  });

  test('a session older than max_age makes the hook re-authenticate; the resume URL drops max_age', async () => {
    const { app, calls } = buildOidcApp();
    const res = await request(app)
      .get(authorizeUrl(rpRequest({ max_age: '60' })))
      .set(HOOK_HEADERS.user, 'user-alice')
      .set(OIDC_HEADERS.authTime, String(now() - 3600));
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^\/login\?next=/);
    expect(calls.authenticate).toBe(2);
    const [first, second] = calls.infos as AuthorizeRequestInfo[];
    expect(first?.reauthenticate).toBe(false);
    expect(first?.maxAge).toBe(60);
    expect(second?.reauthenticate).toBe(true);
    expect(new URL(second?.resumeUrl as string, 'https://x.example').searchParams.has('max_age')).toBe(false);
  });

  test('a session older than max_age under prompt=none is login_required', async () => {
    const { app } = buildOidcApp();
    const query = await authorizeAs(app, rpRequest({ max_age: '60', prompt: 'none' }), {
      [OIDC_HEADERS.authTime]: String(now() - 3600),
    });
    expect(query.get('error')).toBe('login_required');
  });

  test('max_age=0 always asks for a new sign-in', async () => {
    const { app } = buildOidcApp();
    const query = await authorizeAs(app, rpRequest({ max_age: '0', prompt: 'none' }), {
      [OIDC_HEADERS.authTime]: String(now() - 2),
    });
    expect(query.get('error')).toBe('login_required');
  });

  test('a client default_max_age applies when the request has none, and requires auth_time', async () => {
    const clients = [
      ...OIDC_CLIENTS.filter((c) => c.id !== 'rp'),
      { ...(OIDC_CLIENTS[0] as (typeof OIDC_CLIENTS)[0]), defaultMaxAge: 10 },
    ];
    const { app } = buildOidcApp('express5', {}, memoryStores({ clients, users: OIDC_USERS }));
    const query = await authorizeAs(app, rpRequest({ prompt: 'none' }), {
      [OIDC_HEADERS.authTime]: String(now() - 60),
    });
    expect(query.get('error')).toBe('login_required');
  });

  test('max_age that is not a whole number is invalid_request', async () => {
    const { app } = buildOidcApp();
    expect((await authorizeAs(app, rpRequest({ max_age: '-1' }))).get('error')).toBe('invalid_request');
    expect((await authorizeAs(app, rpRequest({ max_age: '1.5' }))).get('error')).toBe('invalid_request');
  });

  test('a hook that never reports authTime cannot satisfy max_age: server_error, with the reason logged', async () => {
    const logger = recordingLogger();
    const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
      issuer: ISSUER,
      keys: KEYS,
      logger,
      authorize: { authenticate: () => ({ id: 'user-alice' }) },
      openid: {},
    });
    const query = await authorizeAs(oauth as never, rpRequest({ max_age: '60' }));
    expect(query.get('error')).toBe('server_error');
    expect(logger.lines.map((l) => l.message).join('\n')).toMatch(/did not report authTime/);
  });

  test('a client with require_auth_time gets auth_time', async () => {
    const { app } = buildOidcApp();
    const authTime = now() - 10;
    const body = await tokensFor(
      app,
      rpRequest({ client_id: 'rp-auth-time', redirect_uri: 'https://at.example.com/cb' }),
      { [OIDC_HEADERS.authTime]: String(authTime) },
    );
    expect(verifyIdToken(body.id_token as string, 'rp-auth-time').auth_time).toBe(authTime);
  });
});

describe('hints and request parameters (OIDC Core §3.1.2.1, §5.5, §6)', () => {
  test('login_hint, ui_locales and acr_values reach the hooks', async () => {
    const { app, calls } = buildOidcApp();
    await authorizeAs(
      app,
      rpRequest({ login_hint: 'alice@example.com', ui_locales: 'fr-CA fr en', acr_values: 'urn:a urn:b' }),
    );
    const info = calls.infos[0] as AuthorizeRequestInfo;
    expect(info.loginHint).toBe('alice@example.com');
    expect(info.uiLocales).toEqual(['fr-CA', 'fr', 'en']);
    expect(info.acrValues).toEqual(['urn:a', 'urn:b']);
  });

  test('a plain OAuth request (no openid scope) has empty OIDC fields and needs no redirect_uri rule change', async () => {
    const { app, calls } = buildOidcApp();
    await authorizeAs(app, rpRequest({ scope: 'read', prompt: 'none' }));
    const info = calls.infos[0] as AuthorizeRequestInfo;
    expect(info.prompt).toEqual([]);
    expect(info.reauthenticate).toBe(false);
  });

  test('request is refused with request_not_supported, request_uri with request_uri_not_supported (§3.1.2.6, §6)', async () => {
    const { app, calls } = buildOidcApp();
    expect((await authorizeAs(app, rpRequest({ request: 'eyJhbGciOiJub25lIn0.e30.' }))).get('error')).toBe(
      'request_not_supported',
    );
    expect((await authorizeAs(app, rpRequest({ request_uri: 'https://rp.example.com/req.jwt' }))).get('error')).toBe(
      'request_uri_not_supported',
    );
    expect((await authorizeAs(app, rpRequest({ registration: '{}' }))).get('error')).toBe('registration_not_supported');
    expect(calls.authenticate).toBe(0);
  });

  test('redirect_uri is required in an OpenID Connect request, even with one registered URI (§3.1.2.1)', async () => {
    const { app } = buildOidcApp();
    const query = await authorizeAs(app, rpRequest({ redirect_uri: undefined }));
    expect(query.get('error')).toBe('invalid_request');
    expect(query.get('error_description')).toMatch(/redirect_uri/);
  });

  test('a claims parameter that is not a JSON object, or has a malformed member, is invalid_request (§5.5)', async () => {
    const { app } = buildOidcApp();
    for (const claims of [
      'not json',
      '[]',
      '{"id_token": []}',
      '{"userinfo": {"email": 1}}',
      '{"id_token": {"email": {"essential": "yes"}}}',
    ]) {
      expect((await authorizeAs(app, rpRequest({ claims }))).get('error')).toBe('invalid_request');
    }
  });

  test('a requested sub value is honoured: only that user gets a code, anyone else login_required (§3.1.2.2, §5.5.1)', async () => {
    const { app } = buildOidcApp();
    const ask = (sub: unknown) => JSON.stringify({ id_token: { sub: { value: sub } } });
    expect((await authorizeAs(app, rpRequest({ claims: ask('user-alice') }))).get('code')).toEqual(expect.any(String));
    const other = await authorizeAs(app, rpRequest({ claims: ask('user-bob') }));
    expect(other.get('error')).toBe('login_required');
    expect(other.get('code')).toBeNull();
    expect((await authorizeAs(app, rpRequest({ claims: ask(42) }))).get('error')).toBe('invalid_request');
  });

  test('id_token_hint: a positive answer only for the user it names; a hint not issued here is invalid_request (§3.1.2.1, §3.1.2.2)', async () => {
    const { app } = buildOidcApp();
    const { id_token } = await tokensFor(app, rpRequest());
    expect(
      (await authorizeAs(app, rpRequest({ id_token_hint: id_token as string, prompt: 'none' }))).get('code'),
    ).toEqual(expect.any(String));
    const bob = await authorizeAs(
      app,
      rpRequest({ id_token_hint: id_token as string, prompt: 'none' }),
      {},
      'user-bob',
    );
    expect(bob.get('error')).toBe('login_required');
    expect(bob.get('code')).toBeNull();
    expect((await authorizeAs(app, rpRequest({ id_token_hint: 'e30.e30.e30' }))).get('error')).toBe('invalid_request');
    // A pairwise hint names the user as its own audience sees them.
    const pairwise = await tokensFor(
      app,
      rpRequest({ client_id: 'rp-pairwise', redirect_uri: 'https://a.pairwise.example/cb' }),
    );
    expect((await authorizeAs(app, rpRequest({ id_token_hint: pairwise.id_token as string }))).get('code')).toEqual(
      expect.any(String),
    );
  });

  test('an essential acr with values must be met by the sign-in, or the authentication failed (§5.5.1.1)', async () => {
    const { app } = buildOidcApp();
    const claims = JSON.stringify({
      id_token: { acr: { essential: true, values: ['urn:example:loa:2', 'urn:example:loa:3'] } },
    });
    const met = await tokensFor(app, rpRequest({ claims }), { [OIDC_HEADERS.acr]: 'urn:example:loa:3' });
    expect(verifyIdToken(met.id_token as string).acr).toBe('urn:example:loa:3');
    expect(
      (await authorizeAs(app, rpRequest({ claims }), { [OIDC_HEADERS.acr]: 'urn:example:loa:1' })).get('error'),
    ).toBe('access_denied');
    expect((await authorizeAs(app, rpRequest({ claims }))).get('error')).toBe('access_denied');
    const voluntary = JSON.stringify({ id_token: { acr: { values: ['urn:example:loa:2'] } } });
    expect((await authorizeAs(app, rpRequest({ claims: voluntary }))).get('code')).toEqual(expect.any(String));
  });

  test('a nonce longer than 512 characters is invalid_request', async () => {
    const { app } = buildOidcApp();
    expect((await authorizeAs(app, rpRequest({ nonce: 'n'.repeat(513) }))).get('error')).toBe('invalid_request');
  });
});
