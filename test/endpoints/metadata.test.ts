/**
 * Authorization server metadata (RFC 8414) at /.well-known/oauth-authorization-server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { memoryClientStore, memoryStores, oauthServer, type ServerOptions } from '../../src';
import { LIFECYCLE_CLIENTS } from '../support/lifecycle';
import { basic, buildApp, FRAMEWORKS, ISSUER, recordingLogger, USERS, type Framework } from '../support/spine';

const WELL_KNOWN = '/.well-known/oauth-authorization-server';
const stores = () => memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS });
const authorize: ServerOptions['authorize'] = { authenticate: () => ({ id: 'user-alice' }) };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const frameworkApp = (framework: Framework) => (framework === 'connect' ? require('connect')() : require(framework)());

describe.each(FRAMEWORKS)('metadata under %s (RFC 8414)', (framework) => {
  test('GET /.well-known/oauth-authorization-server: 200 application/json, issuer identical to the configured one (RFC 8414 §3.2, §3.3)', async () => {
    const { app } = buildApp(framework, {}, stores());
    const res = await request(app).get(WELL_KNOWN);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.issuer).toBe(ISSUER);
  });

  test('without the authorization code flow: every member we support and nothing we do not (RFC 8414 §2)', async () => {
    const { app } = buildApp(framework, {}, stores());
    const res = await request(app).get(WELL_KNOWN);
    expect(res.body).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      jwks_uri: `${ISSUER}/oauth/jwks`,
      // REQUIRED by RFC 8414 §2; without an authorization endpoint there is no response type.
      response_types_supported: [],
      grant_types_supported: expect.arrayContaining(['client_credentials', 'refresh_token', 'password']),
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'client_secret_jwt',
        'none',
      ],
      revocation_endpoint: `${ISSUER}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'client_secret_jwt',
        'none',
      ],
      introspection_endpoint: `${ISSUER}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'client_secret_jwt',
      ],
      // RFC 7523 client assertions: the asymmetric algorithms and client_secret_jwt's HS256; never none.
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'HS256'],
      revocation_endpoint_auth_signing_alg_values_supported: [
        'ES256',
        'ES384',
        'ES512',
        'RS256',
        'PS256',
        'EdDSA',
        'HS256',
      ],
      introspection_endpoint_auth_signing_alg_values_supported: [
        'ES256',
        'ES384',
        'ES512',
        'RS256',
        'PS256',
        'EdDSA',
        'HS256',
      ],
      // RFC 9449 §5.1: DPoP proofs are always accepted.
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'],
    });
    expect(res.body.grant_types_supported).toHaveLength(3);
    expect(res.body.grant_types_supported).not.toContain('authorization_code');
  });

  test('with the authorization code flow: authorization_endpoint, response_types_supported ["code"], PKCE S256 and the iss parameter (RFC 8414 §2, RFC 7636 §6.2, RFC 9207 §3)', async () => {
    const { app } = buildApp(framework, { authorize }, stores());
    const res = await request(app).get(WELL_KNOWN);
    expect(res.body).toMatchObject({
      authorization_endpoint: `${ISSUER}/oauth/authorize`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(res.body.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token', 'password']),
    );
  });

  test('every endpoint the document names is served at that URL', async () => {
    const { app } = buildApp(framework, { authorize }, stores());
    const doc = (await request(app).get(WELL_KNOWN)).body as Record<string, unknown>;
    const urls = Object.entries(doc).filter(([name]) => name.endsWith('_endpoint') || name === 'jwks_uri');
    expect(urls.map(([name]) => name).sort()).toEqual([
      'authorization_endpoint',
      'introspection_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'token_endpoint',
    ]);
    for (const [name, url] of urls) {
      expect(String(url).startsWith(ISSUER + '/')).toBe(true);
      const path = String(url).slice(ISSUER.length);
      const res =
        name === 'jwks_uri' || name === 'authorization_endpoint'
          ? await request(app).get(path)
          : await request(app).post(path).type('form').send({});
      expect([name, res.status]).not.toEqual([name, 404]);
      expect(res.headers['content-type']).toMatch(/json|html/);
    }
  });

  test('configured paths are where the document says, and the defaults are gone', async () => {
    const paths = { tokenPath: '/t', revocationPath: '/r', introspectionPath: '/i', jwksPath: '/keys.json' };
    const { app } = buildApp(framework, paths, stores());
    const doc = (await request(app).get(WELL_KNOWN)).body;
    expect(doc).toMatchObject({
      token_endpoint: `${ISSUER}/t`,
      revocation_endpoint: `${ISSUER}/r`,
      introspection_endpoint: `${ISSUER}/i`,
      jwks_uri: `${ISSUER}/keys.json`,
    });
    expect((await request(app).get('/keys.json')).body.keys).toHaveLength(1);
    expect(
      (
        await request(app)
          .post('/r')
          .set('Authorization', basic('web-app', 'web-secret'))
          .type('form')
          .send({ token: 'x' })
      ).status,
    ).toBe(200);
    expect((await request(app).get('/oauth/jwks')).status).toBe(404);
  });

  test('an issuer with a path: the document is where RFC 8414 §3.1 puts it (well-known inserted before the path), with oauth.wellKnown mounted at the root', async () => {
    const issuer = 'https://example.com/tenant1';
    const oauth = oauthServer(stores(), { issuer, logger: recordingLogger() });
    const app = frameworkApp(framework);
    app.use(oauth.wellKnown);
    app.use('/tenant1', oauth);

    const res = await request(app).get(`${WELL_KNOWN}/tenant1`);
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe(issuer);
    expect(res.body.token_endpoint).toBe(`${issuer}/oauth/token`);
    expect(res.body.jwks_uri).toBe(`${issuer}/oauth/jwks`);
    expect(res.body).toEqual(oauth.metadata);

    // The endpoints it names are served under the issuer's path.
    const token = await request(app)
      .post('/tenant1/oauth/token')
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
    expect((await request(app).get('/tenant1/oauth/jwks')).status).toBe(200);

    // Not at the host's own well-known path (that would be another issuer's), nor appended to the path.
    expect((await request(app).get(WELL_KNOWN)).status).toBe(404);
    expect((await request(app).get(`/tenant1${WELL_KNOWN}`)).status).toBe(404);
  });

  test('POST to the metadata document is 405 with Allow (RFC 8414 §3.1: retrieved with GET)', async () => {
    const { app } = buildApp(framework, {}, stores());
    const res = await request(app).post(WELL_KNOWN);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('metadata follows the configuration (RFC 8414 §2: only what is supported)', () => {
  test('an issuer with a terminating "/": the issuer is echoed exactly, the "/" is removed before inserting the well-known path (RFC 8414 §3.1)', async () => {
    const oauth = oauthServer(stores(), { issuer: 'https://auth.example.com/', logger: recordingLogger() });
    const res = await request((req: IncomingMessage, res: ServerResponse) =>
      oauth(req, res, () => ((res.statusCode = 404), res.end())),
    ).get(WELL_KNOWN);
    expect(res.body.issuer).toBe('https://auth.example.com/');
    expect(res.body.token_endpoint).toBe('https://auth.example.com/oauth/token');
  });

  test('an issuer with a nested path and a trailing "/"', async () => {
    const oauth = oauthServer(stores(), { issuer: 'https://example.com/a/b/', logger: recordingLogger() });
    const res = await request((req: IncomingMessage, res: ServerResponse) =>
      oauth.wellKnown(req, res, () => ((res.statusCode = 404), res.end())),
    ).get(`${WELL_KNOWN}/a/b`);
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe('https://example.com/a/b/');
    expect(res.body.introspection_endpoint).toBe('https://example.com/a/b/oauth/introspect');
  });

  test('no user store: the password grant is not advertised', () => {
    const oauth = oauthServer(
      { clients: memoryClientStore(LIFECYCLE_CLIENTS) },
      { issuer: ISSUER, logger: recordingLogger() },
    );
    expect(oauth.metadata.grant_types_supported.sort()).toEqual(['client_credentials', 'refresh_token']);
  });

  test('only HS256 keys: no jwks_uri, since there is no public key to publish', () => {
    const oauth = oauthServer(stores(), {
      issuer: ISSUER,
      keys: [{ alg: 'HS256', secret: 'x'.repeat(32) }],
      logger: recordingLogger(),
    });
    expect(oauth.metadata.jwks_uri).toBeUndefined();
  });

  test('scopes_supported is advertised when configured, deduplicated', () => {
    const oauth = oauthServer(stores(), {
      issuer: ISSUER,
      scopesSupported: ['read', 'write', 'read'],
      logger: recordingLogger(),
    });
    expect(oauth.metadata.scopes_supported).toEqual(['read', 'write']);
    expect(
      oauthServer(stores(), { issuer: ISSUER, logger: recordingLogger() }).metadata.scopes_supported,
    ).toBeUndefined();
  });

  test('PKCE plain is advertised only when the pkce option allows it (RFC 7636 §6.2)', () => {
    const oauth = oauthServer(stores(), {
      issuer: ISSUER,
      authorize,
      pkce: { allowPlain: true },
      logger: recordingLogger(),
    });
    expect(oauth.metadata.code_challenge_methods_supported).toEqual(['S256', 'plain']);
  });

  test.each([
    [{ revocationPath: '/oauth/token' }, /tokenPath and options.revocationPath must differ/],
    [{ jwksPath: '/oauth/introspect' }, /introspectionPath and options.jwksPath must differ/],
    [{ jwksPath: '/.well-known/jwks.json' }, /jwksPath must not be under \/\.well-known\//],
    [{ introspectionPath: 'oauth/introspect' }, /introspectionPath must be a path starting with "\/"/],
    [{ revocationPath: '/revoke?x=1' }, /revocationPath must be a path/],
    [{ scopesSupported: ['read', 'two words'] }, /scopesSupported must be an array of scope tokens/],
    [{ scopesSupported: 'read' as unknown as string[] }, /scopesSupported must be an array/],
  ])(
    'bad path or scope options are refused at start-up with a message saying what to change: %p',
    (options, message) => {
      expect(() => oauthServer(stores(), { issuer: ISSUER, logger: recordingLogger(), ...options })).toThrow(message);
    },
  );
});
