/**
 * Claims of the app's own in access tokens (`options.accessTokenClaims`, issue #17): in a JWT
 * beside the RFC 9068 claims, in an opaque token's record; shown by introspection (RFC 7662
 * §2.2) and `req.auth.claims`; asked again on refresh; never a claim the server sets (a
 * server configuration bug: logged with its code, answered `server_error` without details);
 * bounded in size. Each rule under both formats on the memory store; the opaque record's
 * claims on the Redis and PostgreSQL token stores too.
 */
import request from 'supertest';
import {
  InvalidGrant,
  MAX_CUSTOM_CLAIMS_BYTES,
  memoryStores,
  RESERVED_ACCESS_TOKEN_CLAIMS,
  TokengateConfigError,
  type AccessTokenClaimsContext,
  type AccessTokenClaimsHook,
  type ServerOptions,
} from '../../src';
import {
  clientToken,
  introspect,
  LIFECYCLE_CLIENTS,
  me,
  passwordGrant,
  passwordTokens,
  refresh,
  WEB,
} from '../support/lifecycle';
import { buildApp, decodeJwt, FRAMEWORKS, ISSUER, USERS } from '../support/spine';
import { describeBackends } from '../support/token-backends';

type Format = 'jwt' | 'opaque';
const FORMATS: Format[] = ['jwt', 'opaque'];

function server(format: Format, hook: AccessTokenClaimsHook, extra: Partial<ServerOptions> = {}) {
  return buildApp(
    'express5',
    { accessTokenFormat: format, accessTokenClaims: hook, ...extra },
    memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS }),
  );
}

const serverErrors = (lines: { level: string; message: string; detail: unknown }[]) =>
  lines.filter((l) => l.level === 'error');

describe.each(FORMATS)('accessTokenClaims with %s access tokens (memory store)', (format) => {
  test("the hook's claims reach the token (JWT payload), introspection and req.auth.claims", async () => {
    const { app } = server(format, () => ({ tenant: 'acme', roles: ['admin', 'billing'] }));
    const { access_token: token } = await passwordTokens(app);
    if (format === 'jwt')
      expect(decodeJwt(token).payload).toMatchObject({ tenant: 'acme', roles: ['admin', 'billing'] });
    else expect(token).not.toContain('.');
    const seen = await introspect(app, token);
    expect(seen.body).toMatchObject({ active: true, sub: 'user-alice', tenant: 'acme', roles: ['admin', 'billing'] });
    const auth = await me(app, token);
    expect(auth.status).toBe(200);
    expect(auth.body.claims).toMatchObject({ sub: 'user-alice', tenant: 'acme', roles: ['admin', 'billing'] });
  });

  test('the hook is told the client, subject, user, scopes, grant type, resources and audience', async () => {
    const calls: AccessTokenClaimsContext[] = [];
    const { app } = server(
      format,
      (context) => {
        calls.push(context);
        return undefined;
      },
      { audience: 'https://api.example.com' },
    );
    await passwordTokens(app, WEB, 'read');
    await clientToken(app, WEB, 'write');
    expect(calls.map(({ client, ...rest }) => ({ client: client.id, ...rest }))).toEqual([
      {
        client: 'web-app',
        subject: 'user-alice',
        userId: 'user-alice',
        scopes: ['read'],
        grantType: 'password',
        resources: [],
        audience: 'https://api.example.com',
      },
      {
        client: 'web-app',
        subject: 'web-app',
        userId: undefined,
        scopes: ['write'],
        grantType: 'client_credentials',
        resources: [],
        audience: 'https://api.example.com',
      },
    ]);
  });

  test('a refresh asks the hook again (grantType refresh_token), so the new token carries current claims', async () => {
    let roles = ['reader'];
    const grantTypes: string[] = [];
    const { app } = server(format, ({ grantType }) => {
      grantTypes.push(grantType);
      return { roles };
    });
    const first = await passwordTokens(app);
    roles = ['reader', 'editor'];
    const refreshed = await refresh(app, first.refresh_token);
    expect(refreshed.status).toBe(200);
    expect(grantTypes).toEqual(['password', 'refresh_token']);
    expect((await me(app, first.access_token)).body.claims.roles).toEqual(['reader']);
    expect((await me(app, refreshed.body.access_token)).body.claims.roles).toEqual(['reader', 'editor']);
  });

  test('the claims are a JSON copy: a Date becomes its ISO string, undefined members are left out, later changes do not leak in', async () => {
    const roles = ['reader'];
    const { app } = server(format, () => ({ since: new Date(Date.UTC(2024, 0, 2)), gone: undefined, roles }));
    const { access_token: token } = await passwordTokens(app);
    roles.push('admin');
    const { claims } = (await me(app, token)).body;
    expect(claims.since).toBe('2024-01-02T00:00:00.000Z');
    expect('gone' in claims).toBe(false);
    expect(claims.roles).toEqual(['reader']);
  });

  test('a hook that returns undefined (or {}) adds nothing', async () => {
    for (const hook of [() => undefined, () => ({})]) {
      const { app } = server(format, hook);
      const { access_token: token } = await passwordTokens(app);
      const seen = await introspect(app, token);
      expect(Object.keys(seen.body).sort()).toEqual(
        ['active', 'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'token_type'].sort(),
      );
    }
  });

  test.each(['sub', 'aud', 'scope', 'client_id', 'iss', 'exp', 'jti', 'cnf', 'act', 'fid', 'active', 'token_type'])(
    'a hook returning the server\'s claim "%s" gets server_error for the client, the reason and code in the log, and no token',
    async (name) => {
      const { app, logger } = server(format, () => ({ tenant: 'acme', [name]: 'forged' }));
      const res = await passwordGrant(app);
      expect(res.status).toBe(500);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        error: 'server_error',
        error_description: 'The server could not handle the request; try again later.',
      });
      const [logged, ...more] = serverErrors(logger.lines);
      expect(more).toEqual([]);
      expect(logged?.detail).toBeInstanceOf(TokengateConfigError);
      const err = logged?.detail as TokengateConfigError;
      expect(err.code).toBe('ERR_TOKENGATE_ACCESS_TOKEN_CLAIMS');
      expect(err.message).toContain(`returned the claim "${name}"`);
    },
  );

  test('the reserved names are those the server emits or that have a registered meaning in tokens and introspection', () => {
    expect([...RESERVED_ACCESS_TOKEN_CLAIMS].sort()).toEqual(
      [
        '__proto__',
        'acr',
        'act',
        'active',
        'amr',
        'aud',
        'auth_time',
        'client_id',
        'cnf',
        'exp',
        'fid',
        'iat',
        'iss',
        'jti',
        'may_act',
        'nbf',
        'scope',
        'sub',
        'token_type',
        'userinfo_claims',
        'username',
      ].sort(),
    );
  });

  test(`claims up to ${MAX_CUSTOM_CLAIMS_BYTES} bytes of JSON are issued; one byte more is refused as a server error`, async () => {
    // {"blob":"…"} is 11 bytes around the value.
    const fits = server(format, () => ({ blob: 'x'.repeat(MAX_CUSTOM_CLAIMS_BYTES - 11) }));
    const { access_token: token } = await passwordTokens(fits.app);
    expect((await me(fits.app, token)).body.claims.blob).toHaveLength(MAX_CUSTOM_CLAIMS_BYTES - 11);

    const { app, logger } = server(format, () => ({ blob: 'x'.repeat(MAX_CUSTOM_CLAIMS_BYTES - 10) }));
    const res = await request(app).post('/oauth/token').set('Authorization', WEB).type('form').send({
      grant_type: 'client_credentials',
    });
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('server_error');
    expect((serverErrors(logger.lines)[0]?.detail as Error).message).toMatch(
      /returned 4097 bytes of claims; at most 4096/,
    );
  });

  test.each<[string, unknown, RegExp]>([
    ['an array', ['admin'], /must return an object of claims, or undefined \(got an array\)/],
    ['a string', 'admin', /must return an object of claims, or undefined \(got string\)/],
    ['a BigInt value', { big: BigInt(1) }, /not JSON/],
    ['an empty claim name', { '': 1 }, /not 1-128 printable ASCII/],
  ])('a hook returning %s is a server error, logged with the reason', async (_what, returned, reason) => {
    const { app, logger } = server(format, () => returned as Record<string, unknown>);
    const res = await request(app).post('/oauth/token').set('Authorization', WEB).type('form').send({
      grant_type: 'client_credentials',
    });
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('server_error');
    expect((serverErrors(logger.lines)[0]?.detail as Error).message).toMatch(reason);
  });

  test('an OAuthError thrown by the hook refuses the token with that error (e.g. a suspended tenant: invalid_grant)', async () => {
    const { app, logger } = server(format, () => {
      throw new InvalidGrant('The tenant is suspended.');
    });
    const res = await passwordGrant(app);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'The tenant is suspended.' });
    expect(serverErrors(logger.lines)).toEqual([]);
  });
});

describe.each(FRAMEWORKS)('accessTokenClaims: req.auth.claims under %s', (framework) => {
  test.each(FORMATS)('%s tokens carry the claims to the route', async (format) => {
    const { app } = buildApp(
      framework,
      { accessTokenFormat: format, accessTokenClaims: () => ({ tenant: 'acme' }) },
      memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS }),
    );
    const token = await clientToken(app);
    const res = await me(app, token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'web-app', claims: { tenant: 'acme' } });
    // A JWT's claims are all there; an opaque token's are the record's, as before.
    expect(res.body.claims.iss).toBe(format === 'jwt' ? ISSUER : undefined);
  });
});

test('accessTokenClaims must be a function (start-up, ERR_TOKENGATE_TYPE)', () => {
  expect(() =>
    buildApp(
      'express5',
      { accessTokenClaims: { tenant: 'acme' } as never },
      memoryStores({ clients: LIFECYCLE_CLIENTS }),
    ),
  ).toThrow(
    expect.objectContaining({
      code: 'ERR_TOKENGATE_TYPE',
      message: expect.stringMatching(/accessTokenClaims must be a function/),
    }),
  );
});

describeBackends('accessTokenClaims: an opaque token keeps its claims in the token store', __filename, (backend) => {
  test('introspection and req.auth.claims show the claims read back from the store', async () => {
    const tokens = await backend().store();
    const { clients, users } = memoryStores({ clients: LIFECYCLE_CLIENTS, users: USERS });
    const { app } = buildApp(
      'express5',
      {
        accessTokenFormat: 'opaque',
        accessTokenClaims: () => ({ tenant: 'acme', roles: ['admin'], limits: { rpm: 60 } }),
      },
      { clients, users, tokens },
    );
    const { access_token: token } = await passwordTokens(app);
    expect((await introspect(app, token)).body).toMatchObject({
      active: true,
      tenant: 'acme',
      roles: ['admin'],
      limits: { rpm: 60 },
    });
    expect((await me(app, token)).body.claims).toMatchObject({ tenant: 'acme', roles: ['admin'], limits: { rpm: 60 } });
  });
});
