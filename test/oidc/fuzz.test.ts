/**
 * Property-based fuzzing of what OpenID Connect adds: the OIDC parameters of the
 * authorization request (prompt, max_age, nonce, claims, hints, request objects), the
 * end-session endpoint and UserInfo, with hostile values (markup, CR/LF, JSON fragments,
 * huge, empty, non-ASCII) mixed with valid ones so that requests get deep.
 *
 * Invariants: never a 5xx; the authorization endpoint answers with a redirect to the
 * registered URI (a code only without an error), the app's login page, or its consent page;
 * the end-session endpoint redirects only to the registered post-logout URI (with the hook
 * run once) and otherwise shows a page; UserInfo answers JSON with `no-store`.
 */
import fc from 'fast-check';
import request from 'supertest';
import {
  authorizeUrl,
  buildOidcApp,
  HOOK_HEADERS,
  OIDC_HEADERS,
  RP_LOGOUT,
  RP_REDIRECT,
  rpRequest,
  tokensFor,
} from '../support/oidc';

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    'none',
    'login',
    'consent',
    'none login',
    'select_account',
    '0',
    '-1',
    '1e9',
    '99999999999',
    '{}',
    '[]',
    'null',
    '{"id_token":{"sub":{"value":"user-alice"}}}',
    '{"userinfo":{"email":{"essential":true}}}',
    '{"id_token":{"sub":{"value":1}}}',
    '"<script>"',
    '\r\nSet-Cookie: x=1',
    'é ü 日本',
    'a.b.c',
    '',
  ),
  fc.string({ minLength: 600, maxLength: 2000 }),
);
const OIDC_PARAMS = [
  'prompt',
  'max_age',
  'nonce',
  'claims',
  'login_hint',
  'ui_locales',
  'acr_values',
  'id_token_hint',
  'request',
  'request_uri',
  'registration',
  'display',
  'scope',
];
const extras = fc.array(fc.tuple(fc.constantFrom(...OIDC_PARAMS), hostile), { maxLength: 4 });

describe('fuzzing OpenID Connect', () => {
  test("authorization requests with hostile OIDC parameters: never 5xx, only the registered redirect URI or the app's own pages", async () => {
    const { app } = buildOidcApp();
    let codes = 0;
    await fc.assert(
      fc.asyncProperty(extras, fc.boolean(), fc.boolean(), async (extra, signedIn, old) => {
        const params: Record<string, string | undefined> = rpRequest();
        for (const [name, value] of extra) params[name] = name === 'scope' ? `openid ${value}`.trim() : value;
        const req = request(app).get(authorizeUrl(params).slice(0, 6000));
        if (signedIn)
          req
            .set(HOOK_HEADERS.user, 'user-alice')
            .set(OIDC_HEADERS.authTime, String(Math.floor(Date.now() / 1000) - (old ? 7200 : 5)));
        const res = await req;
        if (res.status >= 500) throw new Error(`${res.status} for ${JSON.stringify(extra)}`);
        if (res.status === 302 && res.headers.location?.startsWith('/login?next=')) return;
        if (res.status === 200 && res.text.includes('consent')) return;
        if (res.status === 400 && /^text\/html/.test(res.headers['content-type'] ?? '')) return; // a repeated or unreadable parameter
        if (res.status !== 302) throw new Error(`unexpected ${res.status} for ${JSON.stringify(extra)}`);
        const location = new URL(res.headers.location as string);
        if (`${location.origin}${location.pathname}` !== RP_REDIRECT) throw new Error(`redirect to ${location.href}`);
        const q = location.searchParams;
        if (q.get('code') !== null && q.get('error') !== null) throw new Error('both a code and an error');
        if (q.get('code') !== null) codes++;
      }),
      { seed: 1404, numRuns: 300 },
    );
    expect(codes).toBeGreaterThan(10);
  }, 120_000);

  test('end-session requests: never 5xx, never a redirect but to the registered post-logout URI', async () => {
    let hooks = 0;
    const { app } = buildOidcApp('express5', { openid: { logout: () => void hooks++ } });
    const { id_token } = await tokensFor(app, rpRequest());
    const value = fc.oneof(
      hostile,
      fc.constantFrom(id_token as string, RP_LOGOUT, 'rp', 'rp-es', `${RP_LOGOUT}?x`, 'https://evil.example/'),
    );
    const names = fc.constantFrom(
      'id_token_hint',
      'post_logout_redirect_uri',
      'client_id',
      'state',
      'logout_hint',
      'ui_locales',
    );
    // Valid starting points, so that the extra pairs meet requests that would otherwise succeed.
    const base = fc.constantFrom<Record<string, string>>(
      {},
      { id_token_hint: id_token as string, post_logout_redirect_uri: RP_LOGOUT },
      { client_id: 'rp', post_logout_redirect_uri: RP_LOGOUT },
    );
    let redirects = 0;
    await fc.assert(
      fc.asyncProperty(
        base,
        fc.array(fc.tuple(names, value), { maxLength: 3 }),
        fc.boolean(),
        async (start, extra, post) => {
          const before = hooks;
          const pairs = [...Object.entries(start), ...extra];
          const query = new URLSearchParams(pairs);
          const res = post
            ? await request(app).post('/oauth/logout').type('form').send(query.toString())
            : await request(app).get(`/oauth/logout?${query.toString().slice(0, 6000)}`);
          if (res.status >= 500) throw new Error(`${res.status} for ${JSON.stringify(pairs)}`);
          if (res.status === 302 || res.status === 303) {
            const location = new URL(res.headers.location as string);
            if (`${location.origin}${location.pathname}` !== RP_LOGOUT)
              throw new Error(`logout redirected to ${location.href}`);
            if (hooks !== before + 1) throw new Error('redirected without running the logout hook');
            redirects++;
          } else if (res.status === 200) {
            if (hooks !== before + 1) throw new Error('signed-out page without running the logout hook');
          } else if (hooks !== before) throw new Error(`the hook ran for a refused request (${res.status})`);
        },
      ),
      { seed: 1405, numRuns: 300 },
    );
    expect(redirects).toBeGreaterThan(5);
  }, 120_000);

  test('UserInfo with hostile tokens and bodies: never 5xx, always JSON with no-store', async () => {
    const { app } = buildOidcApp();
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid email' }));
    const token = fc.oneof(hostile, fc.constant(access_token as string), fc.constant(`${access_token as string}x`));
    await fc.assert(
      fc.asyncProperty(token, fc.constantFrom('GET', 'POST', 'PUT'), fc.boolean(), async (t, method, inBody) => {
        let req =
          method === 'GET'
            ? request(app).get('/oauth/userinfo')
            : method === 'POST'
              ? request(app).post('/oauth/userinfo')
              : request(app).put('/oauth/userinfo');
        if (inBody && method === 'POST') req = req.type('form').send({ access_token: t });
        else if (/^[\x20-\x7e]*$/.test(t)) req = req.set('Authorization', `Bearer ${t}`);
        const res = await req;
        if (res.status >= 500) throw new Error(`${res.status}`);
        if (
          !/^application\/json/.test(res.headers['content-type'] ?? '') ||
          res.headers['cache-control'] !== 'no-store'
        )
          throw new Error(`not JSON no-store: ${res.status}`);
      }),
      { seed: 1406, numRuns: 200 },
    );
  }, 120_000);
});
