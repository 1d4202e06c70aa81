/**
 * Extension grants (RFC 6749 §4.5, `options.grants`, issue #17), through the pipeline of the
 * built-in grants: client authentication, the client's allowed grants, scope and resource
 * checks before the handler, credential limits around it, token issuing, refresh, error
 * rendering and discovery. The sample grant is a real JWT bearer assertion grant (RFC 7523
 * §2.1): an identity provider's signed assertion for a user, verified by the handler.
 * Start-up validation of the names and definitions; a PostgreSQL client store may list one
 * once migration 004 ran.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Pool } from 'pg';
import request from 'supertest';
import {
  InvalidGrant,
  InvalidRequest,
  memoryStores,
  TokengateConfigError,
  type ExtensionGrant,
  type ExtensionGrantRequest,
  type MemoryClientInput,
  type ServerOptions,
} from '../../src';
import { postgresClientStore } from '../../src/postgres';
import { introspect, me, refresh } from '../support/lifecycle';
import { postgresForTests, testPool, type PgServer } from '../support/postgres';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, ISSUER, USERS, type Framework } from '../support/spine';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const API_KEY = 'urn:example:grant-type:api-key';
const IDP = 'https://idp.example.com';
const TOKEN = '/oauth/token';
const PARTNER = basic('partner-app', 'partner-secret');
const WEB = basic('web-app', 'web-secret');

const idpKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const EXTENSION_CLIENTS: MemoryClientInput[] = [
  ...CLIENTS,
  {
    id: 'partner-app',
    secret: 'partner-secret',
    grants: [JWT_BEARER, API_KEY, 'refresh_token'],
    scopes: ['read', 'write'],
    defaultScopes: ['read'],
  },
  { id: 'partner-spa', grants: [JWT_BEARER], scopes: ['read'] },
];

/** An assertion of the identity provider for `sub`, as RFC 7523 §3 shapes it. */
function assertion(sub: string, { key = idpKey.privateKey, aud = ISSUER + TOKEN, expiresIn = 60 } = {}): string {
  return jwt.sign({ jti: randomUUID() }, key as KeyObject, {
    algorithm: 'ES256',
    issuer: IDP,
    subject: sub,
    audience: aud,
    expiresIn,
  });
}

/**
 * The JWT bearer grant (RFC 7523 §2.1): the client presents the identity provider's signed
 * assertion about a user; the token is for that user. Its checks: §3 (iss, sub, aud, exp, signature).
 */
const jwtBearer: ExtensionGrant = {
  validate(params) {
    if (params.assertion === undefined || params.assertion === '')
      throw new InvalidRequest('The "assertion" parameter is required (RFC 7523 §2.1).');
  },
  // Bad assertions count per subject, like wrong passwords per username.
  limits: { username: (params) => (jwt.decode(params.assertion ?? '') as { sub?: string } | null)?.sub },
  handle({ params }) {
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(params.assertion as string, idpKey.publicKey, {
        algorithms: ['ES256'],
        issuer: IDP,
        audience: ISSUER + TOKEN,
      }) as jwt.JwtPayload;
    } catch {
      throw new InvalidGrant('The assertion is not valid (RFC 7523 §3.1).');
    }
    return { subject: claims.sub as string, userId: claims.sub, refreshToken: true };
  },
};

function appWith(
  framework: Framework = 'express5',
  grants: ServerOptions['grants'] = { [JWT_BEARER]: jwtBearer },
  extra: Partial<ServerOptions> = {},
) {
  return buildApp(framework, { grants, ...extra }, memoryStores({ clients: EXTENSION_CLIENTS, users: USERS }));
}

const tokenRequest = (app: Parameters<typeof request>[0], form: Record<string, string>, client = PARTNER) =>
  request(app).post(TOKEN).set('Authorization', client).type('form').send(form);

describe.each(FRAMEWORKS)('an extension grant end to end under %s', (framework) => {
  const { app } = appWith(framework);

  test("a client that lists the grant trades an identity provider's assertion for a token for the user", async () => {
    const res = await tokenRequest(app, {
      grant_type: JWT_BEARER,
      assertion: assertion('user-alice'),
      scope: 'read write',
    });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'read write', expires_in: 3600 });
    expect(decodeJwt(res.body.access_token).payload).toMatchObject({
      iss: ISSUER,
      sub: 'user-alice',
      client_id: 'partner-app',
      scope: 'read write',
    });
    const api = await me(app, res.body.access_token);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ sub: 'user-alice', clientId: 'partner-app' });
  });

  test('a bad assertion is invalid_grant, rendered like any grant error (400, no-store)', async () => {
    const forged = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const res = await tokenRequest(app, {
      grant_type: JWT_BEARER,
      assertion: assertion('user-alice', { key: forged }),
    });
    expect(res.status).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      error: 'invalid_grant',
      error_description: 'The assertion is not valid (RFC 7523 §3.1).',
    });
  });

  test('the metadata advertises the grant type in grant_types_supported (RFC 8414 §2)', async () => {
    const res = await request(app).get('/.well-known/oauth-authorization-server');
    expect(res.body.grant_types_supported).toEqual(expect.arrayContaining(['client_credentials', JWT_BEARER]));
  });
});

describe('the pipeline around an extension grant', () => {
  /** A handler that records its calls and answers for alice. */
  function recorded(...result: [Record<string, unknown> | undefined] | []) {
    const answer = result.length === 0 ? { subject: 'user-alice', userId: 'user-alice' } : result[0];
    const calls: ExtensionGrantRequest[] = [];
    const grant = (r: ExtensionGrantRequest) => {
      calls.push(r);
      return answer as never;
    };
    return { calls, grant };
  }

  test('the handler gets the parameters, the authenticated client, how it authenticated, the granted scopes and resources', async () => {
    const { calls, grant } = recorded();
    const { app } = appWith('express5', { [API_KEY]: grant });
    const res = await tokenRequest(app, { grant_type: API_KEY, api_key: 'k-1' });
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(1);
    const [call] = calls as [ExtensionGrantRequest];
    expect(call).toMatchObject({
      grantType: API_KEY,
      params: { grant_type: API_KEY, api_key: 'k-1' },
      clientAuthMethod: 'client_secret_basic',
      scopes: ['read'], // the client's default scopes: none were asked for
      resources: [],
    });
    expect(call.client.id).toBe('partner-app');
    expect(res.body.scope).toBe('read');
  });

  test('a public client reaches the handler as clientAuthMethod "none", for the grant to decide', async () => {
    const { calls, grant } = recorded();
    const { app } = appWith('express5', { [JWT_BEARER]: grant });
    const res = await request(app).post(TOKEN).type('form').send({ grant_type: JWT_BEARER, client_id: 'partner-spa' });
    expect(res.status).toBe(200);
    expect(calls[0]?.clientAuthMethod).toBe('none');
  });

  test('a client that does not list the grant type is unauthorized_client, and the handler never runs', async () => {
    const { calls, grant } = recorded();
    const { app } = appWith('express5', { [JWT_BEARER]: grant });
    const res = await tokenRequest(app, { grant_type: JWT_BEARER }, WEB);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
    expect(calls).toEqual([]);
  });

  test('a failed client authentication is invalid_client (401), and the handler never runs', async () => {
    const { calls, grant } = recorded();
    const { app } = appWith('express5', { [JWT_BEARER]: grant });
    const res = await tokenRequest(app, { grant_type: JWT_BEARER }, basic('partner-app', 'wrong'));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(calls).toEqual([]);
  });

  test('a grant type nobody configured is unsupported_grant_type', async () => {
    const { app } = appWith('express5');
    const res = await tokenRequest(app, { grant_type: API_KEY });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  test('a scope beyond the client is invalid_scope before the handler runs (RFC 6749 §5.2)', async () => {
    const { calls, grant } = recorded();
    const { app } = appWith('express5', { [API_KEY]: grant });
    const res = await tokenRequest(app, { grant_type: API_KEY, scope: 'read admin' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(calls).toEqual([]);
  });

  test('a resource outside options.resources is invalid_target before the handler runs; a listed one becomes aud (RFC 8707)', async () => {
    const { calls, grant } = recorded();
    const { app } = appWith('express5', { [API_KEY]: grant }, { resources: { 'https://api.example.com': {} } });
    const bad = await tokenRequest(app, { grant_type: API_KEY, resource: 'https://elsewhere.example' });
    expect(bad.body.error).toBe('invalid_target');
    expect(calls).toEqual([]);
    const good = await tokenRequest(app, { grant_type: API_KEY, resource: 'https://api.example.com' });
    expect(good.status).toBe(200);
    expect(calls[0]?.resources).toEqual(['https://api.example.com']);
    expect(decodeJwt(good.body.access_token).payload.aud).toBe('https://api.example.com');
  });

  test('validate() runs before the client is looked up: a malformed request is invalid_request even with a wrong secret', async () => {
    const { app } = appWith('express5');
    const res = await tokenRequest(app, { grant_type: JWT_BEARER }, basic('partner-app', 'wrong'));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The "assertion" parameter is required (RFC 7523 §2.1).',
    });
  });

  test('the handler may narrow the scopes to some of those granted', async () => {
    const { grant } = recorded({ subject: 'user-alice', scopes: ['read'] });
    const { app } = appWith('express5', { [API_KEY]: grant });
    const res = await tokenRequest(app, { grant_type: API_KEY, scope: 'read write' });
    expect(res.body.scope).toBe('read');
    expect(decodeJwt(res.body.access_token).payload.scope).toBe('read');
  });

  test.each<[string, Record<string, unknown> | undefined, RegExp]>([
    ['nothing', undefined, /must return \{ subject \}/],
    ['an empty subject', { subject: '' }, /must return \{ subject \}/],
    ['a scope it was not granted', { subject: 'user-alice', scopes: ['admin'] }, /returned the scope "admin"/],
    ['a userId that is not a string', { subject: 'user-alice', userId: 7 }, /userId that is not a non-empty string/],
  ])(
    'a handler returning %s is a server error: server_error for the client, ERR_TOKENGATE_GRANT in the log',
    async (_what, result, reason) => {
      const { grant } = recorded(result);
      const { app, logger } = appWith('express5', { [API_KEY]: grant });
      const res = await tokenRequest(app, { grant_type: API_KEY, scope: 'read' });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        error: 'server_error',
        error_description: 'The server could not handle the request; try again later.',
      });
      const errors = logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.detail).toBeInstanceOf(TokengateConfigError);
      expect(errors[0]?.detail).toMatchObject({ code: 'ERR_TOKENGATE_GRANT', message: expect.stringMatching(reason) });
    },
  );

  test('refreshToken: true issues a refresh token (the client has refresh_token); it refreshes as any grant, for the same subject', async () => {
    const { app } = appWith('express5');
    const first = await tokenRequest(app, { grant_type: JWT_BEARER, assertion: assertion('user-alice') });
    expect(first.body.refresh_token).toEqual(expect.any(String));
    const next = await refresh(app, first.body.refresh_token, PARTNER);
    expect(next.status).toBe(200);
    expect(decodeJwt(next.body.access_token).payload).toMatchObject({ sub: 'user-alice', client_id: 'partner-app' });
  });

  test('no refresh token by default, nor when the client lacks the refresh_token grant', async () => {
    const { grant } = recorded();
    const { app } = appWith('express5', {
      [API_KEY]: grant,
      [JWT_BEARER]: () => ({ subject: 'x', refreshToken: true }),
    });
    expect((await tokenRequest(app, { grant_type: API_KEY })).body.refresh_token).toBeUndefined();
    const spa = await request(app).post(TOKEN).type('form').send({ grant_type: JWT_BEARER, client_id: 'partner-spa' });
    expect(spa.status).toBe(200);
    expect(spa.body.refresh_token).toBeUndefined();
  });

  test('opaque access tokens: the token is stored and introspects with the subject the handler returned', async () => {
    const { app } = appWith('express5', undefined, { accessTokenFormat: 'opaque' });
    const res = await tokenRequest(app, { grant_type: JWT_BEARER, assertion: assertion('user-alice') });
    const seen = await introspect(app, res.body.access_token, PARTNER);
    expect(seen.body).toMatchObject({ active: true, sub: 'user-alice', client_id: 'partner-app', scope: 'read' });
  });

  test('accessTokenClaims is told the extension grant type', async () => {
    const grantTypes: string[] = [];
    const { app } = appWith('express5', undefined, {
      accessTokenClaims: ({ grantType }) => {
        grantTypes.push(grantType);
        return { via: 'assertion' };
      },
    });
    const res = await tokenRequest(app, { grant_type: JWT_BEARER, assertion: assertion('user-alice') });
    expect(grantTypes).toEqual([JWT_BEARER]);
    expect(decodeJwt(res.body.access_token).payload.via).toBe('assertion');
  });

  test('limits.username: bad assertions count per subject and address; past the limit 429, and the handler no longer runs', async () => {
    let runs = 0;
    const counted: ExtensionGrant = {
      ...jwtBearer,
      handle(r) {
        runs++;
        return jwtBearer.handle(r);
      },
    };
    const { app } = appWith('express5', { [JWT_BEARER]: counted }, { bruteForce: { username: { points: 2 } } });
    const forged = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    for (let i = 0; i < 2; i++) {
      const res = await tokenRequest(app, {
        grant_type: JWT_BEARER,
        assertion: assertion('user-alice', { key: forged }),
      });
      expect(res.body.error).toBe('invalid_grant');
    }
    const blocked = await tokenRequest(app, { grant_type: JWT_BEARER, assertion: assertion('user-alice') });
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/));
    expect(runs).toBe(2);
    // Another subject is not affected.
    const other = await tokenRequest(app, { grant_type: JWT_BEARER, assertion: assertion('user-bob') });
    expect(other.status).toBe(200);
  });
});

describe('options.grants is checked at start-up (ERR_TOKENGATE_GRANT)', () => {
  const handler = () => ({ subject: 'x' });
  // No user store: nothing left hashing passwords once a start-up check has thrown.
  const start = (grants: unknown) =>
    buildApp('express5', { grants: grants as never }, memoryStores({ clients: EXTENSION_CLIENTS }));
  test.each<[string, unknown, string, RegExp]>([
    [
      'a name that is not an absolute URI',
      { my_grant: handler },
      'ERR_TOKENGATE_GRANT',
      /"my_grant" is not an absolute URI/,
    ],
    ['a URI with a fragment', { 'urn:example:g#x': handler }, 'ERR_TOKENGATE_GRANT', /not an absolute URI/],
    ['a URI with a space', { 'urn:example:a b': handler }, 'ERR_TOKENGATE_GRANT', /not an absolute URI/],
    [
      'a built-in grant type',
      { password: handler },
      'ERR_TOKENGATE_GRANT',
      /must not redefine the built-in grant type "password"/,
    ],
    [
      'the token exchange grant type',
      { 'urn:ietf:params:oauth:grant-type:token-exchange': handler },
      'ERR_TOKENGATE_GRANT',
      /built-in grant type/,
    ],
    [
      'the device code grant type',
      { 'urn:ietf:params:oauth:grant-type:device_code': handler },
      'ERR_TOKENGATE_GRANT',
      /built-in grant type/,
    ],
    ['a handler that is not a function', { [API_KEY]: 'handler' }, 'ERR_TOKENGATE_GRANT', /must be a handler function/],
    [
      'an object without handle',
      { [API_KEY]: { validate: handler } },
      'ERR_TOKENGATE_GRANT',
      /must be a handler function/,
    ],
    [
      'a misspelt member',
      { [API_KEY]: { handle: handler, validat: handler } },
      'ERR_TOKENGATE_UNKNOWN_OPTION',
      /Did you mean "validate"/,
    ],
    [
      'limits that are not an object',
      { [API_KEY]: { handle: handler, limits: 3 } },
      'ERR_TOKENGATE_GRANT',
      /limits must be/,
    ],
    ['a list instead of an object', [handler], 'ERR_TOKENGATE_GRANT', /must be an object of handlers/],
  ])('%s is refused', (_what, grants, code, message) => {
    let thrown: unknown;
    try {
      start(grants);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TokengateConfigError);
    expect(thrown).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  test('an absolute URI of another scheme is a valid name', () => {
    expect(() => start({ 'https://grants.example.com/sso': handler })).not.toThrow();
  });
});

const pg = postgresForTests(__filename);
(pg ? describe : describe.skip)('a PostgreSQL client store (migration 004)', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = testPool(pg as PgServer, 2);
  });
  afterAll(async () => {
    await pool.end();
    pg?.stop();
  });

  test('a client may list extension grant types (absolute URIs); a name that is neither built-in nor a URI is still refused', async () => {
    const clients = postgresClientStore({ pool });
    await clients.saveClient({
      id: 'partner',
      secret: 'partner-secret',
      grants: [JWT_BEARER, 'refresh_token'],
      scopes: ['read'],
    });
    expect((await clients.findClient('partner'))?.grants).toEqual([JWT_BEARER, 'refresh_token']);
    await expect(
      clients.saveClient({ id: 'typo', grants: ['client-credentials' as never], scopes: ['read'] }),
    ).rejects.toThrow();
    await expect(clients.saveClient({ id: 'odd', grants: ['urn:example:a#b'], scopes: ['read'] })).rejects.toThrow();

    const { app } = buildApp('express5', { grants: { [JWT_BEARER]: jwtBearer } }, { clients, users: undefined });
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('partner', 'partner-secret'))
      .type('form')
      .send({ grant_type: JWT_BEARER, assertion: assertion('user-alice') });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toEqual(expect.any(String));
  });
});
