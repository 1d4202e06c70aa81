/**
 * The remaining Basic OP profile cases (OpenID Connect Conformance, basic certification plan)
 * that the rule-by-rule files do not already cover: scope order, unknown and ignorable
 * parameters, display, id_token_hint at the authorization endpoint, claims_locales, POST
 * authorization requests, UserInfo with the token in a POST header, code reuse.
 */
import request from 'supertest';
import { authorizeAs, buildOidcApp, exchange, RP_SECRET, rpRequest, tokensFor, verifyIdToken } from '../support/oidc';

describe('Basic OP profile (OpenID Connect Core §3.1.2.1, §5.3.1, §3.1.3.2)', () => {
  test('scopes in another order than usual ("email openid") succeed (oidcc-ensure-other-scope-order-succeeds)', async () => {
    const { app } = buildOidcApp();
    const body = await tokensFor(app, rpRequest({ scope: 'email openid' }));
    expect(verifyIdToken(body.id_token as string).sub).toBe('user-alice');
  });

  test('unknown parameters, display=page/popup, claims_locales and an id_token_hint are ignored, not errors (§3.1.2.1, §3.1.2.2)', async () => {
    const { app } = buildOidcApp();
    const { id_token } = await tokensFor(app, rpRequest());
    for (const extra of [
      { extra: 'foobar' },
      { display: 'page' },
      { display: 'popup' },
      { claims_locales: 'se' },
      { id_token_hint: id_token as string, prompt: 'none' },
    ]) {
      const query = await authorizeAs(app, rpRequest(extra));
      expect(query.get('error')).toBeNull();
      expect(query.get('code')).toEqual(expect.any(String));
    }
  });

  test('an authorization request sent with POST gets its ID token too (§3.1.2.1: GET and POST MUST be supported)', async () => {
    const { app } = buildOidcApp();
    const params = { ...rpRequest() } as Record<string, string>;
    const res = await request(app)
      .post('/oauth/authorize')
      .type('form')
      .set('x-test-user', 'user-alice')
      .send(params as object);
    expect(res.status).toBe(303);
    const code = new URL(res.headers.location as string).searchParams.get('code') as string;
    const token = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri }, [
      'rp',
      RP_SECRET,
    ]);
    expect(verifyIdToken(token.body.id_token).nonce).toBe(params.nonce);
  });

  test('UserInfo with POST and the token in the Authorization header (oidcc-userinfo-post-header)', async () => {
    const { app } = buildOidcApp();
    const { access_token } = await tokensFor(app, rpRequest({ scope: 'openid email' }));
    const res = await request(app)
      .post('/oauth/userinfo')
      .set('Authorization', `Bearer ${access_token as string}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'user-alice', email: 'alice@example.com', email_verified: true });
  });

  test('a reused code is refused and the access token it gave stops working (§3.1.3.2, oidcc-codereuse)', async () => {
    const { app } = buildOidcApp();
    const params = rpRequest({ scope: 'openid email' });
    const query = await authorizeAs(app, params);
    const code = query.get('code') as string;
    const first = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri }, [
      'rp',
      RP_SECRET,
    ]);
    expect(first.status).toBe(200);
    const second = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri }, [
      'rp',
      RP_SECRET,
    ]);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    const userinfo = await request(app)
      .get('/oauth/userinfo')
      .set('Authorization', `Bearer ${first.body.access_token as string}`);
    expect(userinfo.status).toBe(401);
  });

  test('a code is bound to its client: another client cannot redeem it, and gets no ID token (§3.1.3.2)', async () => {
    const { app } = buildOidcApp();
    const params = rpRequest();
    const code = (await authorizeAs(app, params)).get('code') as string;
    const res = await exchange(app, { grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri }, [
      'rp-es',
      RP_SECRET,
    ]);
    expect(res.status).toBe(400);
    expect(res.body.id_token).toBeUndefined();
  });
});
