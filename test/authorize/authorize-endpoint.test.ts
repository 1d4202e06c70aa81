/**
 * The authorization endpoint (RFC 6749 §3.1, §4.1.1–§4.1.2.1) with PKCE (RFC 7636 §4.3–4.4)
 * and the `iss` response parameter (RFC 9207), through real HTTP under Express 4, Express 5
 * and Connect.
 */
import request from 'supertest';
import { memoryStores, oauthServer, type ClientStore } from '../../src';
import {
  AUTHORIZE,
  CLIENTS,
  FRAMEWORKS,
  HOOK_HEADERS,
  ISSUER,
  SPA_REDIRECT,
  USERS,
  WEB_REDIRECT,
  authorizeUrl,
  buildCodeApp,
  exchange,
  locationParams,
  pkcePair,
  spaRequest,
} from '../support/authorization-code';

// RFC 6749 §4.1.2.1: error_description is limited to these characters.
const DESCRIPTION_CHARSET = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

describe.each(FRAMEWORKS)('authorization endpoint under %s', (framework) => {
  const { app, calls } = buildCodeApp(framework);

  test('issues a code to the registered redirect URI with the state and iss (RFC 6749 §4.1.2, RFC 9207 §2)', async () => {
    const { params } = spaRequest();
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = res.headers.location as string;
    expect(location.startsWith(`${SPA_REDIRECT}?`)).toBe(true);
    const query = locationParams(location);
    expect(query.get('state')).toBe(params.state);
    expect(query.get('iss')).toBe(ISSUER);
    // 256 random bits, base64url: 43 characters.
    expect(query.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('the authenticate hook may redirect to the app login page, and a plain redirect back to the same URL resumes the flow (RFC 6749 §4.1.1)', async () => {
    const { params } = spaRequest();
    const url = authorizeUrl(params);
    const before = calls.consent;
    const toLogin = await request(app).get(url);
    expect(toLogin.status).toBe(302);
    const login = new URL(toLogin.headers.location as string, 'http://app.test');
    expect(login.pathname).toBe('/login');
    const next = login.searchParams.get('next') as string;
    expect(new URL(next, 'http://app.test').searchParams.get('state')).toBe(params.state);
    expect(calls.consent).toBe(before); // not asked before sign-in

    // After sign-in the app redirects to `next`, unchanged.
    const resumed = await request(app).get(next).set(HOOK_HEADERS.user, 'user-alice');
    expect(resumed.status).toBe(302);
    const query = locationParams(resumed.headers.location);
    expect(query.get('code')).toEqual(expect.any(String));
    expect(query.get('state')).toBe(params.state);
  });

  test('resumeUrl keeps the mount prefix, so resuming works under app.use("/auth", oauth)', async () => {
    const mounted = buildCodeApp(framework, {}, memoryStores({ clients: CLIENTS, users: USERS }), '/auth');
    const { params } = spaRequest();
    const toLogin = await request(mounted.app).get(authorizeUrl(params, `/auth${AUTHORIZE}`));
    expect(toLogin.status).toBe(302);
    const next = new URL(toLogin.headers.location as string, 'http://app.test').searchParams.get('next') as string;
    expect(next.startsWith(`/auth${AUTHORIZE}?`)).toBe(true);
    const resumed = await request(mounted.app).get(next).set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(resumed.headers.location).get('code')).toEqual(expect.any(String));
  });

  test('a form-encoded POST authorization request works like GET and is answered with 303 (RFC 6749 §3.1)', async () => {
    const { params, verifier } = spaRequest();
    const res = await request(app)
      .post(AUTHORIZE)
      .type('form')
      .set(HOOK_HEADERS.user, 'user-alice')
      .send(params as Record<string, string>);
    expect(res.status).toBe(303);
    const query = locationParams(res.headers.location);
    expect(query.get('state')).toBe(params.state);
    expect(query.get('iss')).toBe(ISSUER);
    const tokens = await exchange(app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code: query.get('code') as string,
      redirect_uri: SPA_REDIRECT,
      code_verifier: verifier,
    });
    expect(tokens.status).toBe(200);
  });

  test('a POST authorization request resumes after login through resumeUrl (GET with the same parameters)', async () => {
    const { params } = spaRequest();
    const toLogin = await request(app)
      .post(AUTHORIZE)
      .type('form')
      .send(params as Record<string, string>);
    expect(toLogin.status).toBe(302);
    const next = new URL(toLogin.headers.location as string, 'http://app.test').searchParams.get('next') as string;
    const resumed = await request(app).get(next).set(HOOK_HEADERS.user, 'user-alice');
    expect(resumed.status).toBe(302);
    expect(locationParams(resumed.headers.location).get('state')).toBe(params.state);
  });

  test('consent returning false sends access_denied to the client with state and iss (RFC 6749 §4.1.2.1)', async () => {
    const { params } = spaRequest();
    const res = await request(app)
      .get(authorizeUrl(params))
      .set(HOOK_HEADERS.user, 'user-alice')
      .set(HOOK_HEADERS.consent, 'no');
    expect(res.status).toBe(302);
    const query = locationParams(res.headers.location);
    expect(query.get('error')).toBe('access_denied');
    expect(query.get('code')).toBeNull();
    expect(query.get('state')).toBe(params.state);
    expect(query.get('iss')).toBe(ISSUER);
  });

  test('a consent hook that responds itself (its own consent page) gets the last word', async () => {
    const { params } = spaRequest();
    const res = await request(app)
      .get(authorizeUrl(params))
      .set(HOOK_HEADERS.user, 'user-alice')
      .set(HOOK_HEADERS.consent, 'page');
    expect(res.status).toBe(200);
    expect(res.text).toContain('asks for consent');
    expect(res.headers.location).toBeUndefined();
  });

  test('a hook that responds and returns what the response helper returned (return res.redirect(...)) gets the last word', async () => {
    // Node's res.end() returns the response itself: once the hook has responded, its value is not a user to check.
    const built = buildCodeApp(framework, {
      authorize: {
        authenticate: (_req, res) => res.writeHead(302, { location: '/login' }).end() as never,
      },
    });
    const res = await request(built.app).get(authorizeUrl(spaRequest().params));
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login');
    expect(built.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  test('an unknown client gets a 400 HTML error page, never a redirect (RFC 6749 §4.1.2.1)', async () => {
    const res = await request(app).get(
      authorizeUrl({ response_type: 'code', client_id: 'nobody', redirect_uri: 'https://evil.example/cb', state: 's' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('redirect URI rules: exact match, no open redirector (RFC 6749 §3.1.2, RFC 9700 §4.1.3, §4.11)', () => {
  const { app, calls } = buildCodeApp('express5');

  const notRegistered = [
    'https://evil.example/callback',
    `${SPA_REDIRECT}/`,
    `${SPA_REDIRECT}?x=1`,
    `${SPA_REDIRECT}#frag`,
    'https://SPA.example.com/callback',
    'http://spa.example.com/callback',
    'https://spa.example.com/callback/../evil',
    'https://spa.example.com:443/callback',
    'https://spa.example.com.evil.example/callback',
    '//evil.example/callback',
    'javascript:alert(1)',
  ];

  test.each(notRegistered)('redirect_uri %s is not registered: 400 error page, no redirect', async (redirectUri) => {
    const { params } = spaRequest({ redirect_uri: redirectUri });
    const before = calls.authenticate;
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('invalid_request');
    expect(calls.authenticate).toBe(before);
  });

  test('the error page is minimal, not cached, not frameable, without scripts', async () => {
    const res = await request(app).get(
      authorizeUrl({ response_type: 'code', client_id: 'spa', redirect_uri: 'https://evil.example/' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.text).not.toMatch(/<script|<link|<img|<iframe|https?:\/\//i);
  });

  test('the error page escapes everything it echoes', async () => {
    // The client_id is no longer echoed (RFC 9700 §4.11); a repeated parameter's name still is.
    const evil = '"><script>alert(1)</script><img src=x>';
    const field = `${encodeURIComponent(evil)}=1`;
    const res = await request(app).post(AUTHORIZE).type('form').send(`client_id=spa&${field}&${field}`);
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('<script>');
    expect(res.text).not.toContain('<img');
    expect(res.text).toContain('&lt;script&gt;');
    expect(res.text).toContain('&quot;&gt;');
  });

  test('a missing or repeated client_id gets the error page', async () => {
    const missing = await request(app).get(authorizeUrl({ response_type: 'code', redirect_uri: SPA_REDIRECT }));
    expect(missing.status).toBe(400);
    expect(missing.headers.location).toBeUndefined();
    const repeated = await request(app).get(
      `${AUTHORIZE}?response_type=code&client_id=spa&client_id=web&redirect_uri=${encodeURIComponent(SPA_REDIRECT)}`,
    );
    expect(repeated.status).toBe(400);
    expect(repeated.headers.location).toBeUndefined();
  });

  test('a repeated redirect_uri gets the error page', async () => {
    const res = await request(app).get(
      `${AUTHORIZE}?response_type=code&client_id=spa&redirect_uri=${encodeURIComponent(SPA_REDIRECT)}&redirect_uri=${encodeURIComponent('https://evil.example/')}`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  test('redirect_uri may be omitted only when the client has exactly one; its own query is kept (RFC 6749 §3.1.2, §4.1.1)', async () => {
    const single = await request(app)
      .get(authorizeUrl({ response_type: 'code', client_id: 'single', state: 'abc' }))
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(single.status).toBe(302);
    const location = single.headers.location as string;
    expect(location.startsWith('https://single.example.com/cb?from=tokengate&code=')).toBe(true);
    expect(locationParams(location).get('state')).toBe('abc');

    const several = await request(app)
      .get(authorizeUrl({ response_type: 'code', client_id: 'web', state: 'abc' }))
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(several.status).toBe(400);
    expect(several.headers.location).toBeUndefined();
  });

  test('a client with several registered URIs is redirected to exactly the one it named', async () => {
    const res = await request(app)
      .get(
        authorizeUrl({
          response_type: 'code',
          client_id: 'web',
          redirect_uri: `${WEB_REDIRECT}?tenant=1`,
          state: 'abc',
        }),
      )
      .set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    expect((res.headers.location as string).startsWith(`${WEB_REDIRECT}?tenant=1&code=`)).toBe(true);
  });

  test('a client without registered redirect URIs gets the error page', async () => {
    const res = await request(app).get(
      authorizeUrl({ response_type: 'code', client_id: 'no-redirect', redirect_uri: 'https://x.example/cb' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  test('methods other than GET and POST get a 405 page with Allow', async () => {
    const res = await request(app).put(authorizeUrl({ response_type: 'code', client_id: 'spa' }));
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.headers.location).toBeUndefined();
  });

  test('a POST with a body that is not a form gets the error page (the client is not known yet)', async () => {
    const res = await request(app).post(AUTHORIZE).set('Content-Type', 'application/json').send('{"client_id":"spa"}');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers.location).toBeUndefined();
  });

  test('a failing client store gets a 500 page with a generic text; the cause is logged, not shown', async () => {
    const failing: ClientStore = {
      async findClient() {
        throw new Error('connection refused: db-secret-host:5432');
      },
    };
    const broken = buildCodeApp('express5', {}, { clients: failing });
    const res = await request(broken.app).get(authorizeUrl(spaRequest().params));
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('db-secret-host');
    expect(
      broken.logger.lines.some(
        (l) => l.level === 'error' && String((l.detail as Error)?.message).includes('db-secret-host'),
      ),
    ).toBe(true);
  });
});

describe('errors once the redirect URI is trusted go back to the client with error, error_description, state and iss (RFC 6749 §4.1.2.1, RFC 9207 §2)', () => {
  const { app, calls } = buildCodeApp('express5');

  const cases: [string, string, Record<string, string | undefined>][] = [
    ['response_type missing', 'invalid_request', { response_type: undefined }],
    ['response_type=token', 'unsupported_response_type', { response_type: 'token' }],
    ['response_type=code id_token', 'unsupported_response_type', { response_type: 'code id_token' }],
    ['a scope the client may not have', 'invalid_scope', { scope: 'read admin' }],
    ['a scope with a forbidden character', 'invalid_scope', { scope: 'read "x"' }],
    [
      'no code_challenge from a public client',
      'invalid_request',
      { code_challenge: undefined, code_challenge_method: undefined },
    ],
  ];

  test.each(cases)('%s → %s', async (_name, error, extra) => {
    const { params } = spaRequest(extra);
    const before = calls.authenticate;
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    expect((res.headers.location as string).startsWith(`${SPA_REDIRECT}?`)).toBe(true);
    const query = locationParams(res.headers.location);
    expect(query.get('error')).toBe(error);
    expect(query.get('error_description')).toMatch(DESCRIPTION_CHARSET);
    expect(query.get('state')).toBe(params.state);
    expect(query.get('iss')).toBe(ISSUER);
    expect(query.get('code')).toBeNull();
    // Nobody is asked to sign in for a request that fails anyway.
    expect(calls.authenticate).toBe(before);
  });

  test('a client not allowed the code flow → unauthorized_client', async () => {
    const res = await request(app)
      .get(authorizeUrl({ response_type: 'code', client_id: 'machine', state: 'm1' }))
      .set(HOOK_HEADERS.user, 'user-alice');
    const query = locationParams(res.headers.location);
    expect((res.headers.location as string).startsWith('https://machine.example.com/cb?')).toBe(true);
    expect(query.get('error')).toBe('unauthorized_client');
    expect(query.get('state')).toBe('m1');
    expect(query.get('iss')).toBe(ISSUER);
  });

  test('a repeated parameter → invalid_request; a repeated state is not echoed (RFC 6749 §3.1)', async () => {
    const { params } = spaRequest();
    const scopeTwice = await request(app)
      .get(`${authorizeUrl(params)}&scope=read`)
      .set(HOOK_HEADERS.user, 'user-alice');
    const q1 = locationParams(scopeTwice.headers.location);
    expect(q1.get('error')).toBe('invalid_request');
    expect(q1.get('state')).toBe(params.state);
    const stateTwice = await request(app)
      .get(`${authorizeUrl(params)}&state=other`)
      .set(HOOK_HEADERS.user, 'user-alice');
    const q2 = locationParams(stateTwice.headers.location);
    expect(q2.get('error')).toBe('invalid_request');
    expect(q2.get('state')).toBeNull();
    expect(q2.get('iss')).toBe(ISSUER);
  });

  test('empty parameters count as omitted (RFC 6749 §3.1)', async () => {
    const { params } = spaRequest({ scope: '' });
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(res.headers.location).get('code')).toEqual(expect.any(String));
  });

  test('without a state, the response carries none (but still iss)', async () => {
    const { params } = spaRequest({ state: undefined });
    const ok = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(ok.headers.location).has('state')).toBe(false);
    expect(locationParams(ok.headers.location).get('iss')).toBe(ISSUER);
    const denied = await request(app)
      .get(authorizeUrl(params))
      .set(HOOK_HEADERS.user, 'user-alice')
      .set(HOOK_HEADERS.consent, 'no');
    expect(locationParams(denied.headers.location).has('state')).toBe(false);
    expect(locationParams(denied.headers.location).get('iss')).toBe(ISSUER);
  });

  test('the state is echoed exactly, whatever characters it has', async () => {
    const state = 'a b&c=d/é?#%20+';
    const { params } = spaRequest({ state });
    const res = await request(app).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(locationParams(res.headers.location).get('state')).toBe(state);
  });

  test('consent returning undefined without responding denies the request and warns the developer', async () => {
    const built = buildCodeApp('express5');
    const { params } = spaRequest();
    const res = await request(built.app)
      .get(authorizeUrl(params))
      .set(HOOK_HEADERS.user, 'user-alice')
      .set(HOOK_HEADERS.consent, 'silent');
    expect(locationParams(res.headers.location).get('error')).toBe('access_denied');
    expect(built.logger.lines.some((l) => l.level === 'warn' && l.message.includes('authorize.consent'))).toBe(true);
  });

  test('a hook that throws → server_error at the client with a generic description; the cause is logged', async () => {
    const built = buildCodeApp('express5', {
      authorize: {
        authenticate() {
          throw new Error('session store down: redis://secret-host');
        },
      },
    });
    const { params } = spaRequest();
    const res = await request(built.app).get(authorizeUrl(params));
    expect(res.status).toBe(302);
    const query = locationParams(res.headers.location);
    expect(query.get('error')).toBe('server_error');
    expect(query.get('error_description')).not.toContain('secret-host');
    expect(query.get('state')).toBe(params.state);
    expect(query.get('iss')).toBe(ISSUER);
    expect(
      built.logger.lines.some(
        (l) => l.level === 'error' && String((l.detail as Error)?.message).includes('secret-host'),
      ),
    ).toBe(true);
  });

  test('authenticate returning something without a string id → server_error, logged', async () => {
    const built = buildCodeApp('express5', { authorize: { authenticate: () => ({ name: 'no id' }) as never } });
    const res = await request(built.app).get(authorizeUrl(spaRequest().params));
    expect(locationParams(res.headers.location).get('error')).toBe('server_error');
    expect(built.logger.lines.some((l) => l.level === 'error')).toBe(true);
  });

  test('authenticate returning undefined without responding → access_denied and a warning', async () => {
    const built = buildCodeApp('express5', { authorize: { authenticate: () => undefined } });
    const res = await request(built.app).get(authorizeUrl(spaRequest().params));
    expect(locationParams(res.headers.location).get('error')).toBe('access_denied');
    expect(built.logger.lines.some((l) => l.level === 'warn' && l.message.includes('authorize.authenticate'))).toBe(
      true,
    );
  });

  test('the hooks cannot widen what is granted: scopes and params are read-only', async () => {
    const built = buildCodeApp('express5', {
      authorize: {
        authenticate: () => ({ id: 'user-alice' }),
        consent: (_req, _res, info) => {
          expect(() => (info.scopes as string[]).push('write')).toThrow(TypeError);
          expect(() => Object.assign(info.params, { scope: 'read write' })).toThrow(TypeError);
          return true;
        },
      },
    });
    const { params, verifier } = spaRequest({ scope: 'read' });
    const res = await request(built.app).get(authorizeUrl(params));
    const code = locationParams(res.headers.location).get('code') as string;
    const tokens = await exchange(built.app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: SPA_REDIRECT,
      code_verifier: verifier,
    });
    expect(tokens.body.scope).toBe('read');
  });

  test('a token store that fails to save the code → server_error at the client, cause logged', async () => {
    const stores = memoryStores({ clients: CLIENTS, users: USERS });
    const tokens = { ...stores.tokens, save: async () => Promise.reject(new Error('disk full on code-db')) };
    const built = buildCodeApp('express5', {}, { ...stores, tokens });
    const res = await request(built.app).get(authorizeUrl(spaRequest().params)).set(HOOK_HEADERS.user, 'user-alice');
    const query = locationParams(res.headers.location);
    expect(query.get('error')).toBe('server_error');
    expect(query.get('code')).toBeNull();
    expect(built.logger.lines.some((l) => String((l.detail as Error)?.message).includes('code-db'))).toBe(true);
  });
});

describe('PKCE at the authorization endpoint (RFC 7636 §4.3, §4.4.1; RFC 9700 §2.1.1)', () => {
  const { app } = buildCodeApp('express5');
  const web = (extra: Record<string, string | undefined> = {}) => ({
    response_type: 'code',
    client_id: 'web',
    redirect_uri: WEB_REDIRECT,
    state: 'w',
    ...extra,
  });
  const errorOf = async (target: typeof app, params: Record<string, string | undefined>) => {
    const res = await request(target).get(authorizeUrl(params)).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(302);
    return locationParams(res.headers.location).get('error');
  };

  test('a public client must send a code_challenge', async () => {
    expect(await errorOf(app, spaRequest({ code_challenge: undefined, code_challenge_method: undefined }).params)).toBe(
      'invalid_request',
    );
  });

  test('a confidential client may omit PKCE by default', async () => {
    expect(await errorOf(app, web())).toBeNull();
  });

  test('pkce.requireForAll makes PKCE mandatory for confidential clients too', async () => {
    const strict = buildCodeApp('express5', { pkce: { requireForAll: true } });
    expect(await errorOf(strict.app, web())).toBe('invalid_request');
    expect(
      await errorOf(strict.app, web({ code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })),
    ).toBeNull();
  });

  test('plain is refused by default, named or implied by a missing method (RFC 9700 §2.1.1)', async () => {
    const { verifier } = pkcePair();
    expect(await errorOf(app, spaRequest({ code_challenge: verifier, code_challenge_method: 'plain' }).params)).toBe(
      'invalid_request',
    );
    expect(await errorOf(app, spaRequest({ code_challenge: verifier, code_challenge_method: undefined }).params)).toBe(
      'invalid_request',
    );
  });

  test('an unknown code_challenge_method → invalid_request (RFC 7636 §4.4.1)', async () => {
    expect(await errorOf(app, spaRequest({ code_challenge_method: 'S512' }).params)).toBe('invalid_request');
    expect(await errorOf(app, spaRequest({ code_challenge_method: 's256' }).params)).toBe('invalid_request');
  });

  test('a malformed S256 challenge → invalid_request (RFC 7636 §4.2)', async () => {
    const good = pkcePair().challenge;
    for (const challenge of [good.slice(0, 42), good + 'A', good.slice(0, 42) + '+', good.slice(0, 42) + '=']) {
      expect(await errorOf(app, spaRequest({ code_challenge: challenge }).params)).toBe('invalid_request');
    }
  });

  test('code_challenge_method without code_challenge → invalid_request', async () => {
    expect(await errorOf(app, web({ code_challenge_method: 'S256' }))).toBe('invalid_request');
  });

  test('with pkce.allowPlain, plain is accepted and the verifier must equal the challenge (RFC 7636 §4.6)', async () => {
    const lax = buildCodeApp('express5', { pkce: { allowPlain: true } });
    const { verifier } = pkcePair();
    const res = await request(lax.app)
      .get(authorizeUrl(spaRequest({ code_challenge: verifier, code_challenge_method: 'plain' }).params))
      .set(HOOK_HEADERS.user, 'user-alice');
    const code = locationParams(res.headers.location).get('code') as string;
    const wrong = await exchange(lax.app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: SPA_REDIRECT,
      code_verifier: pkcePair().verifier,
    });
    expect(wrong.body.error).toBe('invalid_grant');
    const right = await exchange(lax.app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: SPA_REDIRECT,
      code_verifier: verifier,
    });
    expect(right.status).toBe(200);
  });
});

describe('a POST authorization request whose body the app already parsed', () => {
  test.each(['express4', 'express5'] as const)(
    '%s with express.urlencoded() mounted before the server',
    async (framework) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const express = require(framework);
      const { app } = buildCodeApp(framework, {}, memoryStores({ clients: CLIENTS, users: USERS }), '', (a) =>
        a.use(express.urlencoded({ extended: false })),
      );
      const { params, verifier } = spaRequest();
      const res = await request(app)
        .post(AUTHORIZE)
        .type('form')
        .set(HOOK_HEADERS.user, 'user-alice')
        .send(params as Record<string, string>);
      expect(res.status).toBe(303);
      const query = locationParams(res.headers.location);
      expect(query.get('state')).toBe(params.state);
      const tokens = await exchange(app, {
        grant_type: 'authorization_code',
        client_id: 'spa',
        code: query.get('code') as string,
        redirect_uri: SPA_REDIRECT,
        code_verifier: verifier,
      });
      expect(tokens.status).toBe(200);
    },
  );
});

describe('discovery says the authorization response carries iss (RFC 9207 §3, RFC 8414)', () => {
  test('the metadata names the authorization endpoint, S256 only, and authorization_response_iss_parameter_supported', async () => {
    const { app } = buildCodeApp('express5');
    const res = await request(app).get('/.well-known/oauth-authorization-server');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}${AUTHORIZE}`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(res.body.grant_types_supported).toContain('authorization_code');
  });
});

describe('without options.authorize', () => {
  test('there is no authorization endpoint and the authorization_code grant is unsupported', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express5');
    const oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), {
      issuer: ISSUER,
      logger: { warn() {}, error() {} },
    });
    const app = express();
    app.use(oauth);
    const res = await request(app).get(authorizeUrl(spaRequest().params));
    expect(res.status).toBe(404);
    const token = await exchange(app, {
      grant_type: 'authorization_code',
      client_id: 'spa',
      code: 'x',
      code_verifier: pkcePair().verifier,
    });
    expect(token.body.error).toBe('unsupported_grant_type');
  });
});
