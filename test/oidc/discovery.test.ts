/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, §4) next to RFC 8414's.
 */
import request from 'supertest';
import { memoryStores, oauthServer } from '../../src';
import { buildOidcApp, FRAMEWORKS, ISSUER, KEYS, OIDC_CLIENTS, OIDC_USERS, recordingLogger } from '../support/oidc';

// Discovery §3: REQUIRED members, and the RECOMMENDED ones this server can state.
const REQUIRED = [
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'response_types_supported',
  'subject_types_supported',
  'id_token_signing_alg_values_supported',
];
const RECOMMENDED = ['userinfo_endpoint', 'scopes_supported', 'claims_supported'];

describe.each(FRAMEWORKS)('/.well-known/openid-configuration under %s (Discovery §3, §4)', (framework) => {
  test('has every required and recommended member, and is the RFC 8414 document', async () => {
    const { app } = buildOidcApp(framework, {
      openid: { logout: () => undefined, pairwiseSalt: 'pairwise-salt-for-the-tests-0123456789' },
    });
    const res = await request(app).get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    for (const name of [...REQUIRED, ...RECOMMENDED]) expect(res.body).toHaveProperty(name);
    expect(res.body).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      token_endpoint: `${ISSUER}/oauth/token`,
      userinfo_endpoint: `${ISSUER}/oauth/userinfo`,
      end_session_endpoint: `${ISSUER}/oauth/logout`,
      jwks_uri: `${ISSUER}/oauth/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public', 'pairwise'],
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token']),
      token_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
      code_challenge_methods_supported: ['S256'],
      claims_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
    });
    // RS256 MUST be listed (Discovery §3, Core §15.1); the ES256 key signs ID tokens too.
    expect(res.body.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
    expect(res.body.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'address', 'phone']),
    );
    expect(res.body.claims_supported).toEqual(
      expect.arrayContaining(['sub', 'iss', 'auth_time', 'name', 'email', 'email_verified', 'address', 'phone_number']),
    );
    const rfc8414 = await request(app).get('/.well-known/oauth-authorization-server');
    expect(rfc8414.body).toEqual(res.body);
  });
});

describe('discovery details (Discovery §3, §4.1)', () => {
  test('without a logout hook there is no end_session_endpoint, and without a salt only public subjects', async () => {
    const { app } = buildOidcApp('express5', { openid: {} });
    const res = await request(app).get('/.well-known/openid-configuration');
    expect(res.body).not.toHaveProperty('end_session_endpoint');
    expect(res.body.subject_types_supported).toEqual(['public']);
    expect((await request(app).get('/oauth/logout')).status).toBe(404);
  });

  test("the app's own scopesSupported are kept alongside the OpenID scopes, and acr/extra claims are advertised", async () => {
    const { app } = buildOidcApp('express5', {
      scopesSupported: ['read'],
      openid: { acrValuesSupported: ['urn:example:loa:2'], extraClaimsSupported: ['shoe_size'] },
    });
    const res = await request(app).get('/.well-known/openid-configuration');
    expect(res.body.scopes_supported).toEqual(['read', 'openid', 'profile', 'email', 'address', 'phone']);
    expect(res.body.acr_values_supported).toEqual(['urn:example:loa:2']);
    expect(res.body.claims_supported).toContain('shoe_size');
  });

  test('an issuer with a path: the document is at issuer + /.well-known/openid-configuration, and at both RFC 8414 §5 places', async () => {
    const issuer = 'https://example.com/tenant1';
    const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
      issuer,
      keys: KEYS,
      logger: recordingLogger(),
      authorize: { authenticate: () => ({ id: 'user-alice' }) },
      openid: {},
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const app = require('express5')();
    app.use(oauth.wellKnown);
    app.use('/tenant1', oauth);
    const appended = await request(app).get('/tenant1/.well-known/openid-configuration');
    expect(appended.status).toBe(200);
    expect(appended.body.issuer).toBe(issuer);
    expect(appended.body.userinfo_endpoint).toBe(`${issuer}/oauth/userinfo`);
    const inserted = await request(app).get('/.well-known/openid-configuration/tenant1');
    expect(inserted.body).toEqual(appended.body);
    const rfc8414 = await request(app).get('/.well-known/oauth-authorization-server/tenant1');
    expect(rfc8414.body).toEqual(appended.body);
  });

  test('without options.openid there is no OpenID document', async () => {
    const oauth = oauthServer(memoryStores({ clients: OIDC_CLIENTS, users: OIDC_USERS }), {
      issuer: ISSUER,
      keys: KEYS,
      logger: recordingLogger(),
      authorize: { authenticate: () => ({ id: 'u' }) },
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const app = require('express5')().use(oauth);
    const res = await request(app).get('/.well-known/openid-configuration');
    expect(res.status).toBe(404);
  });

  test('options.openid is checked at start-up with messages that say what to change', () => {
    const build =
      (openid: unknown, withAuthorize = true) =>
      () =>
        oauthServer(memoryStores({ clients: OIDC_CLIENTS }), {
          issuer: ISSUER,
          keys: KEYS,
          logger: recordingLogger(),
          ...(withAuthorize && { authorize: { authenticate: () => undefined } }),
          openid: openid as never,
        });
    expect(build({}, false)).toThrow(/needs options.authorize/);
    expect(build({ claims: 'x' })).toThrow(/openid.claims must be a function/);
    expect(build({ pairwiseSalt: 'short' })).toThrow(/pairwiseSalt must be .* at least 32 bytes/);
    expect(build({ idTokenLifetime: 0 })).toThrow(/idTokenLifetime/);
    expect(build({ userinfoPath: '/oauth/token' })).toThrow(/must differ/);
    expect(build({ logout: () => undefined, endSessionPath: 'logout' })).toThrow(/endSessionPath must be a path/);
  });
});
