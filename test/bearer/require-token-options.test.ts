/**
 * requireToken's route options (issue #17), on both implementations (`oauth.requireToken()`
 * and the standalone `requireToken()`), each answering with the error RFC 6750 §3.1 gives:
 * `optional` (no token at all passes without `req.auth`; a bad one is still 401
 * `invalid_token`), `anyScope` (one of them, else 403 `insufficient_scope` naming a set that
 * suffices), `check` (the app's own check: false is 403 `insufficient_scope`, a thrown
 * OAuthError is answered as it is, anything else thrown is a logged 500), and `errors` per
 * route. Options are checked once, when the guard is built. Real HTTP under Express 4,
 * Express 5 and Connect.
 */
import type http from 'node:http';
import request from 'supertest';
import {
  InsufficientScope,
  InvalidToken,
  memoryStores,
  oauthServer,
  requireToken,
  type ConfigErrorCode,
  type Middleware,
  type OAuthError,
  type RequireTokenOptions,
} from '../../src';
import { appErrorHandler, RENDERED_BY_APP } from '../support/app-errors';
import { clientToken, WEB } from '../support/lifecycle';
import { basic, buildApp, CLIENTS, FRAMEWORKS, ISSUER, recordingLogger, type Framework } from '../support/spine';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const READER = basic('reader', 'reader-secret');
const IMPLEMENTATIONS = ['server', 'standalone'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

/** The guarded routes, each with its options; mounted under /server and /standalone. */
const ROUTES: [string, RequireTokenOptions][] = [
  ['/optional', { optional: true, scope: 'read' }],
  ['/any', { anyScope: ['admin', 'write'] }],
  ['/all-and-any', { scope: 'read', anyScope: 'admin write' }],
  ['/check', { check: (auth) => auth.clientId === 'web-app' }],
  ['/check-async', { check: async (auth) => auth.clientId === 'web-app' }],
  ['/check-req', { check: (_auth, req) => req.headers['x-tenant'] === 'acme' }],
  [
    '/check-401',
    {
      check: () => {
        throw new InvalidToken('The token is for another tenant.');
      },
    },
  ],
  [
    '/check-crash',
    {
      check: () => {
        throw new Error('tenant lookup failed');
      },
    },
  ],
  ['/check-truthy', { check: (() => 'yes') as never }],
  ['/next', { scope: 'write', errors: 'next' }],
];

function echo(req: http.IncomingMessage & { auth?: unknown }, res: http.ServerResponse): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ auth: req.auth ?? null }));
}

type Mountable = { use: (...args: unknown[]) => void; get?: (...args: unknown[]) => void };

function mount(app: Mountable, framework: Framework, path: string, guard: Middleware): void {
  if (framework === 'connect') {
    app.use(path, guard);
    app.use(path, echo);
  } else (app.get as (...args: unknown[]) => void)(path, guard, echo);
}

/** One app: the server (HS256, so the standalone guard verifies its tokens with the secret) and both guards. */
function buildGuardedApp(framework: Framework) {
  const built = buildApp(framework, { keys: [{ alg: 'HS256', secret: SECRET }] }, memoryStores({ clients: CLIENTS }));
  const guards: Record<Implementation, (options: RequireTokenOptions) => Middleware> = {
    server: (options) => built.oauth.requireToken(options),
    standalone: (options) =>
      requireToken({ issuer: ISSUER, audience: ISSUER, secret: SECRET, logger: built.logger, ...options }),
  };
  const app = built.app as unknown as Mountable;
  for (const implementation of IMPLEMENTATIONS)
    for (const [path, options] of ROUTES)
      mount(app, framework, `/${implementation}${path}`, guards[implementation](options));
  const appErrors = appErrorHandler(framework);
  app.use(appErrors.handler);
  return { ...built, appErrors };
}

describe.each(FRAMEWORKS)('requireToken route options under %s', (framework) => {
  const { app, appErrors, logger } = buildGuardedApp(framework);
  const tokens = new Map<string, Promise<string>>();
  /** A client_credentials token for `client` with `scope`, made once per combination. */
  const tokenFor = (scope: string, client = WEB): Promise<string> => {
    const key = `${client} ${scope}`;
    if (!tokens.has(key)) tokens.set(key, clientToken(app, client, scope));
    return tokens.get(key) as Promise<string>;
  };

  describe.each(IMPLEMENTATIONS)('%s guard', (implementation) => {
    const get = (path: string, token?: string) => {
      const req = request(app).get(`/${implementation}${path}`);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    };
    const challenge = (res: request.Response): string => res.headers['www-authenticate'] as string;

    test('optional: a request without any token passes, with req.auth unset', async () => {
      const res = await get('/optional');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ auth: null });
    });

    test('optional: a token that is sent is checked as always: a valid one sets req.auth', async () => {
      const res = await get('/optional', await tokenFor('read'));
      expect(res.status).toBe(200);
      expect(res.body.auth).toMatchObject({ clientId: 'web-app', scope: ['read'] });
    });

    test('optional: a bad token is still 401 invalid_token (RFC 6750 §3.1)', async () => {
      const res = await get('/optional', 'not.a.token');
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
      expect(challenge(res)).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
    });

    test('optional: a malformed Authorization header is still 400 invalid_request', async () => {
      const res = await request(app).get(`/${implementation}/optional`).set('Authorization', 'Bearer a b');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    test('optional: a token lacking the route scope is still 403 insufficient_scope', async () => {
      const res = await get('/optional', await tokenFor('write'));
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('insufficient_scope');
    });

    test('anyScope: a token with one of the scopes passes', async () => {
      expect((await get('/any', await tokenFor('write'))).status).toBe(200);
    });

    test('anyScope: a token with none of them is 403 insufficient_scope naming the first in the challenge (RFC 6750 §3.1)', async () => {
      const res = await get('/any', await tokenFor('read'));
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('insufficient_scope');
      expect(res.body.error_description).toContain('one of: admin write');
      expect(challenge(res)).toContain('error="insufficient_scope"');
      expect(challenge(res)).toMatch(/, scope="admin"$/);
    });

    test('scope and anyScope together: all of scope and one of anyScope; the challenge names a set that suffices', async () => {
      expect((await get('/all-and-any', await tokenFor('read write'))).status).toBe(200);
      const noRead = await get('/all-and-any', await tokenFor('write'));
      expect(noRead.status).toBe(403);
      expect(challenge(noRead)).toMatch(/, scope="read"$/);
      const noneOfAny = await get('/all-and-any', await tokenFor('read'));
      expect(noneOfAny.status).toBe(403);
      expect(challenge(noneOfAny)).toMatch(/, scope="read admin"$/);
    });

    test('check: true lets the request through with req.auth; false is 403 insufficient_scope without a scope attribute', async () => {
      const ok = await get('/check', await tokenFor('read'));
      expect(ok.status).toBe(200);
      expect(ok.body.auth.clientId).toBe('web-app');
      const refused = await get('/check', await tokenFor('read', READER));
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('insufficient_scope');
      expect(challenge(refused)).toContain('error="insufficient_scope"');
      expect(challenge(refused)).not.toContain('scope=');
    });

    test('check may be async', async () => {
      expect((await get('/check-async', await tokenFor('read'))).status).toBe(200);
      expect((await get('/check-async', await tokenFor('read', READER))).status).toBe(403);
    });

    test('check receives the request', async () => {
      const token = await tokenFor('read');
      const path = `/${implementation}/check-req`;
      const auth = `Bearer ${token}`;
      expect((await request(app).get(path).set('Authorization', auth).set('x-tenant', 'acme')).status).toBe(200);
      expect((await request(app).get(path).set('Authorization', auth).set('x-tenant', 'other')).status).toBe(403);
    });

    test('check throwing an OAuthError answers with it: InvalidToken is a 401 challenge', async () => {
      const res = await get('/check-401', await tokenFor('read'));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'The token is for another tenant.' });
      expect(challenge(res)).toContain('error="invalid_token"');
    });

    test('check throwing anything else: a generic 500, the cause logged without the token', async () => {
      const token = await tokenFor('read');
      const before = logger.lines.length;
      const res = await get('/check-crash', token);
      expect(res.status).toBe(500);
      expect(res.body.error).toBe('server_error');
      expect(JSON.stringify(res.body)).not.toContain('tenant lookup');
      const lines = logger.lines.slice(before);
      expect(lines).toEqual([expect.objectContaining({ level: 'error', detail: expect.any(Error) })]);
      expect(String((lines[0] as { detail: Error }).detail.message)).toContain('tenant lookup failed');
      expect(JSON.stringify(lines)).not.toContain(token);
    });

    test('check: only true lets a request through, not another truthy value', async () => {
      expect((await get('/check-truthy', await tokenFor('read'))).status).toBe(403);
    });

    test("errors: 'next' on one route hands its errors to the app's handler", async () => {
      const before = appErrors.received.length;
      const res = await get('/next', await tokenFor('read'));
      expect(res.status).toBe(403);
      expect(res.headers[RENDERED_BY_APP]).toBe('1');
      const err = appErrors.received[before] as OAuthError;
      expect(err).toBeInstanceOf(InsufficientScope);
      expect(err.headers['WWW-Authenticate']).toContain('scope="write"');
      expect(err.toJSON().error).toBe('insufficient_scope');
      // Other routes of the same guard kind still answer themselves.
      expect((await get('/any', await tokenFor('read'))).headers[RENDERED_BY_APP]).toBeUndefined();
    });
  });
});

describe('errors per guard', () => {
  test("a route's errors: 'respond' overrides the server's errors: 'next'", async () => {
    const { app, oauth } = buildApp('express5', { errors: 'next' }, memoryStores({ clients: CLIENTS }));
    const appErrors = appErrorHandler('express5');
    const express = app as unknown as Mountable;
    mount(express, 'express5', '/respond', oauth.requireToken({ errors: 'respond' }));
    mount(express, 'express5', '/inherit', oauth.requireToken());
    express.use(appErrors.handler);
    expect((await request(app).get('/respond')).headers[RENDERED_BY_APP]).toBeUndefined();
    expect((await request(app).get('/inherit')).headers[RENDERED_BY_APP]).toBe('1');
    expect(appErrors.received).toHaveLength(1);
  });

  test("the standalone guard's errors is inherited by with(), which may override it", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const app = require('express')() as Mountable & http.RequestListener;
    const appErrors = appErrorHandler('express4');
    const guard = requireToken({ issuer: ISSUER, audience: ISSUER, secret: SECRET, errors: 'next' });
    mount(app, 'express4', '/base', guard);
    mount(app, 'express4', '/with', guard.with({ scope: 'read' }));
    mount(app, 'express4', '/own', guard.with({ errors: 'respond' }));
    app.use(appErrors.handler);
    expect((await request(app).get('/base')).headers[RENDERED_BY_APP]).toBe('1');
    expect((await request(app).get('/with')).headers[RENDERED_BY_APP]).toBe('1');
    expect((await request(app).get('/own')).headers[RENDERED_BY_APP]).toBeUndefined();
  });
});

describe('route options are checked once, when the guard is built', () => {
  const oauth = oauthServer(memoryStores({ clients: CLIENTS }), {
    issuer: ISSUER,
    logger: recordingLogger(),
    keys: [{ alg: 'HS256', secret: SECRET }],
  });
  const standalone = requireToken({ issuer: ISSUER, audience: ISSUER, secret: SECRET });
  const builders: [string, (options: Record<string, unknown>) => unknown][] = [
    ['oauth.requireToken', (options) => oauth.requireToken(options as RequireTokenOptions)],
    [
      'standalone requireToken',
      (options) => requireToken({ issuer: ISSUER, audience: ISSUER, secret: SECRET, ...options }),
    ],
    ['requireToken().with', (options) => standalone.with(options as RequireTokenOptions)],
  ];

  const CASES: [string, Record<string, unknown>, ConfigErrorCode, RegExp][] = [
    [
      'optional not a boolean',
      { optional: 'yes' },
      'ERR_TOKENGATE_REQUIRE_TOKEN',
      /options\.optional must be true or false/,
    ],
    ['an empty anyScope', { anyScope: [] }, 'ERR_TOKENGATE_REQUIRE_TOKEN', /options\.anyScope must name at least one/],
    ['anyScope not a list', { anyScope: 7 }, 'ERR_TOKENGATE_REQUIRE_TOKEN', /options\.anyScope must be a string/],
    ['an anyScope with a bad scope token', { anyScope: ['a"b'] }, 'ERR_TOKENGATE_SCOPE', /not a valid scope token/],
    ['check not a function', { check: true }, 'ERR_TOKENGATE_REQUIRE_TOKEN', /options\.check must be a function/],
    [
      'an errors mode that does not exist',
      { errors: 'throw' },
      'ERR_TOKENGATE_CHOICE',
      /errors must be "respond" or "next"/,
    ],
    ['a misspelt option', { anyScopes: ['admin'] }, 'ERR_TOKENGATE_UNKNOWN_OPTION', /Did you mean "anyScope"\?/],
  ];

  describe.each(builders)('%s', (_name, build) => {
    test.each(CASES)('%s: %p throws %s', (_case, options, code, message) => {
      expect(() => build(options)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    });
  });
});
