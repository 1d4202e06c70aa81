/**
 * `errors: 'next'` (issue #17): every error the server would answer itself (token,
 * revocation, introspection, device authorization, registration, UserInfo, metadata, JWKS,
 * requireToken) reaches the app's error handler instead, as an `OAuthError` carrying the
 * status, every header the response would have had and its JSON body, so that an app that
 * renders it from `status`, `headers` and `toJSON()` answers exactly what the library would
 * have. A 5xx carries only the public message. By default nothing changes: the library
 * answers and the app's handler sees nothing. Real HTTP under Express 4, Express 5 and Connect.
 */
import type http from 'node:http';
import request from 'supertest';
import {
  isOAuthError,
  memoryStores,
  OAuthError,
  oauthServer,
  ServerError,
  TokenRequired,
  type ClientStore,
  type ErrorMode,
  type ServerOptions,
} from '../../src';
import { appErrorHandler, RENDERED_BY_APP, type AppErrorHandler } from '../support/app-errors';
import { testHooks } from '../support/authorization-code';
import { clientToken, WEB } from '../support/lifecycle';
import { KEYS } from '../support/oidc';
import {
  basic,
  buildApp,
  CLIENTS,
  FRAMEWORKS,
  ISSUER,
  recordingLogger,
  USERS,
  type Framework,
  type TestApp,
} from '../support/spine';

type App = http.RequestListener;
type Mountable = { use: (handler: AppErrorHandler['handler']) => void };

const INITIAL_ACCESS_TOKEN = 'initial-access-token-for-the-tests';
// Headers an error response may carry; each must reach the app's handler as the response had it.
const ERROR_HEADERS = ['www-authenticate', 'cache-control', 'pragma', 'allow', 'retry-after'];

function serverOptions(framework: Framework, errors?: ErrorMode): Partial<ServerOptions> {
  return {
    keys: KEYS,
    authorize: testHooks(framework, { authenticate: 0, consent: 0 }),
    openid: {},
    registration: { initialAccessToken: INITIAL_ACCESS_TOKEN },
    deviceAuthorization: { verificationUri: '/device' },
    // One failure per client id, then 429 with Retry-After.
    bruteForce: { clientId: { points: 1 } },
    ...(errors !== undefined && { errors }),
  };
}

/** An app with every endpoint on, and the app's own error handler mounted last. */
function appWith(
  framework: Framework,
  errors?: ErrorMode,
  stores = memoryStores({ clients: CLIENTS, users: USERS }),
): TestApp & { appErrors: AppErrorHandler } {
  const built = buildApp(framework, serverOptions(framework, errors), stores);
  const appErrors = appErrorHandler(framework);
  (built.app as unknown as Mountable).use(appErrors.handler);
  return { ...built, appErrors };
}

const form = (app: App, path: string, body: Record<string, string>, authorization?: string) => {
  const req = request(app).post(path).type('form');
  return (authorization === undefined ? req : req.set('Authorization', authorization)).send(body);
};

/** Each request, as it fails: the same on both apps, so their answers can be compared. */
const FAILURES: [string, (app: App) => Promise<request.Response>][] = [
  ['token endpoint: missing grant_type (400 invalid_request)', (app) => form(app, '/oauth/token', {}, WEB)],
  [
    'token endpoint: wrong client secret (401 invalid_client with a Basic challenge)',
    (app) => form(app, '/oauth/token', { grant_type: 'client_credentials' }, basic('odd-app', 'wrong')),
  ],
  [
    'token endpoint: too many failures (429 with Retry-After)',
    async (app) => {
      await form(app, '/oauth/token', { grant_type: 'client_credentials' }, basic('reader', 'wrong'));
      return form(app, '/oauth/token', { grant_type: 'client_credentials' }, basic('reader', 'wrong'));
    },
  ],
  ['token endpoint: GET (405 with Allow)', (app) => request(app).get('/oauth/token')],
  ['revocation: no client authentication (401)', (app) => form(app, '/oauth/revoke', { token: 'x' })],
  ['introspection: GET (405 with Allow)', (app) => request(app).get('/oauth/introspect')],
  [
    'device authorization: unknown client (401 invalid_client)',
    (app) => form(app, '/oauth/device_authorization', {}, basic('nobody', 'nothing')),
  ],
  [
    'registration: no initial access token (401 with a Bearer challenge)',
    (app) =>
      request(app)
        .post('/oauth/register')
        .send({ redirect_uris: ['https://x.example/cb'] }),
  ],
  [
    'client configuration: a wrong registration access token (401)',
    (app) => request(app).get('/oauth/register/someone').set('Authorization', 'Bearer wrong-token'),
  ],
  [
    'UserInfo: a bad token (401 invalid_token with WWW-Authenticate)',
    (app) => request(app).get('/oauth/userinfo').set('Authorization', 'Bearer not-a-token'),
  ],
  ['UserInfo: DELETE (405 with Allow)', (app) => request(app).delete('/oauth/userinfo')],
  [
    'UserInfo: a token without the openid scope (403 insufficient_scope)',
    async (app) =>
      request(app)
        .get('/oauth/userinfo')
        .set('Authorization', `Bearer ${await clientToken(app)}`),
  ],
  ['metadata: POST (405 with Allow)', (app) => request(app).post('/.well-known/oauth-authorization-server')],
  ['JWKS: POST (405 with Allow)', (app) => request(app).post('/oauth/jwks')],
  ['requireToken: no token (401 without an error code)', (app) => request(app).get('/api/me')],
  [
    'requireToken: a bad token (401 invalid_token)',
    (app) => request(app).get('/api/me').set('Authorization', 'Bearer not.a.token'),
  ],
  [
    'requireToken: a malformed header (400 invalid_request)',
    (app) => request(app).get('/api/me').set('Authorization', 'Bearer a b'),
  ],
  [
    'requireToken: a missing scope (403 insufficient_scope)',
    async (app) =>
      request(app)
        .get('/api/write')
        .set('Authorization', `Bearer ${await clientToken(app)}`),
  ],
];

function errorHeaders(res: request.Response): Record<string, string | undefined> {
  return Object.fromEntries(ERROR_HEADERS.map((name) => [name, res.headers[name] as string | undefined]));
}

describe.each(FRAMEWORKS)("errors: 'next' under %s", (framework) => {
  const library = appWith(framework);
  const handed = appWith(framework, 'next');

  test.each(FAILURES)(
    '%s: the app handler gets an OAuthError and renders what the library would have answered',
    async (_name, send) => {
      const before = handed.appErrors.received.length;
      const expected = await send(library.app);
      const res = await send(handed.app);

      expect(expected.status).toBeGreaterThanOrEqual(400);
      expect(expected.headers[RENDERED_BY_APP]).toBeUndefined();
      expect(res.headers[RENDERED_BY_APP]).toBe('1');
      expect(res.status).toBe(expected.status);
      expect(res.body).toEqual(expected.body);
      expect(errorHeaders(res)).toEqual(errorHeaders(expected));
      expect(res.headers['cache-control']).toBe('no-store');

      // The last error is this answer's (the 429 scenario fails once before it).
      const received = handed.appErrors.received.slice(before);
      expect(received.length).toBeGreaterThanOrEqual(1);
      const err = received[received.length - 1];
      expect(isOAuthError(err)).toBe(true);
      expect(err).toBeInstanceOf(Error);
      expect((err as OAuthError).status).toBe(expected.status);
      expect((err as OAuthError).headers['Cache-Control']).toBe('no-store');
    },
  );

  test('by default the library answers and the app error handler sees nothing', async () => {
    for (const [, send] of FAILURES) await send(library.app);
    expect(library.appErrors.received).toEqual([]);
  });

  test('a request without a token reaches the handler as TokenRequired: 401, the bare challenge, no error code (RFC 6750 §3.1)', async () => {
    const before = handed.appErrors.received.length;
    await request(handed.app).get('/api/me');
    const err = handed.appErrors.received[before] as TokenRequired;
    expect(err).toBeInstanceOf(TokenRequired);
    expect(err.status).toBe(401);
    expect(err.headers['WWW-Authenticate']).toBe(`Bearer realm="${ISSUER}"`);
    expect(err.toJSON()).toEqual({ error_description: 'An access token is required.' });
  });

  test('the error keeps its class and code: a wrong client secret is InvalidClient-coded, with its Basic challenge', async () => {
    const before = handed.appErrors.received.length;
    await form(handed.app, '/oauth/token', { grant_type: 'client_credentials' }, basic('spa', 'no-secret-here'));
    const err = handed.appErrors.received[before] as OAuthError;
    expect(err.error).toBe('invalid_client');
    expect(err.toJSON().error).toBe('invalid_client');
  });

  test('a successful request never reaches the error handler', async () => {
    const before = handed.appErrors.received.length;
    const token = await clientToken(handed.app);
    expect((await request(handed.app).get('/api/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect(handed.appErrors.received.length).toBe(before);
  });
});

describe.each(FRAMEWORKS)("errors: 'next' and a 5xx under %s", (framework) => {
  const INTERNAL = 'connection to db-7.internal:5432 refused, password=hunter2';
  function failingStores() {
    const stores = memoryStores({ clients: CLIENTS, users: USERS });
    const clients: ClientStore = {
      ...stores.clients,
      findClient: async () => {
        throw new Error(INTERNAL);
      },
    };
    return { ...stores, clients };
  }

  test('the handler gets a generic server_error: public message, no cause; the cause goes to the logger', async () => {
    const { app, appErrors, logger } = appWith(framework, 'next', failingStores());
    const res = await form(app, '/oauth/token', { grant_type: 'client_credentials' }, WEB);
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
    const err = appErrors.received[0] as OAuthError;
    expect(err).toBeInstanceOf(ServerError);
    expect(err.message).toBe(new ServerError().message);
    expect(err.cause).toBeUndefined();
    expect(JSON.stringify(err)).not.toContain('hunter2');
    expect(err.stack ?? '').not.toContain('hunter2');
    expect(logger.lines.some((l) => l.level === 'error' && String(l.detail).includes(INTERNAL))).toBe(true);
  });

  test("a store's own 503 keeps its status, but its cause stays out of what the handler gets", async () => {
    const stores = memoryStores({ clients: CLIENTS, users: USERS });
    const unavailable = Object.assign(new OAuthError('temporarily_unavailable', 'Try again later.', 503), {
      cause: new Error(INTERNAL),
    });
    const { app, appErrors, logger } = appWith(framework, 'next', {
      ...stores,
      clients: {
        ...stores.clients,
        findClient: async () => {
          throw unavailable;
        },
      },
    });
    const res = await form(app, '/oauth/token', { grant_type: 'client_credentials' }, WEB);
    expect(res.status).toBe(503);
    const err = appErrors.received[0] as OAuthError;
    expect(err.status).toBe(503);
    expect(err.error).toBe('temporarily_unavailable');
    expect(err.cause).toBeUndefined();
    expect(unavailable.cause).toBeInstanceOf(Error); // the thrown value itself is left as it was
    expect(logger.lines.some((l) => l.level === 'error' && String(l.detail).includes(INTERNAL))).toBe(true);
  });
});

describe.each(FRAMEWORKS)("errors: 'next' without an app error handler under %s", (framework) => {
  test("the framework's final handler still answers with the error's status and headers", async () => {
    const { app } = buildApp(framework, { errors: 'next' });
    const res = await request(app).get('/api/me').set('Authorization', 'Bearer not.a.token');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('the errors option is checked at start-up', () => {
  test.each([['throw'], [true], ['NEXT']])('errors: %p is refused with ERR_TOKENGATE_CHOICE', (value) => {
    const start = () =>
      oauthServer(memoryStores({ clients: CLIENTS }), {
        issuer: ISSUER,
        logger: recordingLogger(),
        errors: value as never,
      });
    expect(start).toThrow(
      expect.objectContaining({ code: 'ERR_TOKENGATE_CHOICE', message: expect.stringMatching(/options\.errors/) }),
    );
  });
});
