/**
 * RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each
 * request." A request with the token in the Authorization header and an `access_token` in the
 * query or form body is 400 invalid_request, also on a route that reads only the header (the
 * second token would be ignored by the guard, but maybe not by the code behind it). The form
 * body is looked at without taking it from the route: a body parser after the guard still gets
 * it. Real HTTP under Express 4, Express 5 and Connect, for oauth.requireToken() and the
 * standalone requireToken().
 */
import type http from 'node:http';
import request from 'supertest';
import { memoryStores, oauthServer, requireToken } from '../../src';
import { accessToken, startJwksServer, testKey, TEST_AUDIENCE, TEST_ISSUER } from '../support/jwks';
import { basic, CLIENTS, FRAMEWORKS, ISSUER, recordingLogger, USERS, type Framework } from '../support/spine';

type Guard = (req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void) => void;

/** Collect a raw body the way a frameworkless route (or a body parser) would. */
function rawBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * An app with `guard` (header only) on /r, then the framework's own form parser (Express) or a
 * raw read (Connect); the route echoes what it received.
 */
function guardedApp(framework: Framework, guard: Guard, before?: (app: { use: (...a: unknown[]) => unknown }) => void) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require(framework === 'connect' ? 'connect' : framework);
  const app = lib();
  before?.(app);
  app.use('/r', guard);
  if (framework === 'connect') {
    app.use('/r', async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const body = await rawBody(req);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ raw: body }));
    });
  } else {
    app.use('/r', lib.urlencoded({ extended: false }));
    app.use('/r', (req: { body?: unknown }, res: { json: (v: unknown) => void }) =>
      res.json({ body: req.body ?? null }),
    );
  }
  return app;
}

async function serverSetup(framework: Framework) {
  const oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), {
    issuer: ISSUER,
    logger: recordingLogger(),
  });
  const app = guardedApp(framework, oauth.requireToken() as Guard, (a) => a.use(oauth));
  const res = await request(app)
    .post('/oauth/token')
    .set('Authorization', basic('web-app', 'web-secret'))
    .type('form')
    .send({ grant_type: 'client_credentials', scope: 'read' });
  return { app, token: res.body.access_token as string, cleanup: async (): Promise<void> => undefined };
}

async function standaloneSetup(framework: Framework) {
  const key = testKey('one-location');
  const jwks = await startJwksServer([key]);
  const guard = requireToken({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwksUri: jwks.url,
    logger: recordingLogger(),
  });
  return { app: guardedApp(framework, guard as Guard), token: accessToken(key), cleanup: () => jwks.close() };
}

describe.each(FRAMEWORKS)('one token location (RFC 6750 §2) under %s', (framework) => {
  describe.each([
    ['oauth.requireToken()', serverSetup],
    ['standalone requireToken()', standaloneSetup],
  ])('%s on a header-only route', (_name, setup) => {
    let ctx: Awaited<ReturnType<typeof serverSetup>>;
    beforeAll(async () => {
      ctx = await setup(framework);
    });
    afterAll(() => ctx.cleanup());

    test('header plus access_token in the query is 400 invalid_request (RFC 6750 §2)', async () => {
      const res = await request(ctx.app)
        .get(`/r?access_token=${ctx.token}`)
        .set('Authorization', `Bearer ${ctx.token}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    test('header plus access_token in a form body is 400 invalid_request (RFC 6750 §2)', async () => {
      const res = await request(ctx.app)
        .post('/r')
        .set('Authorization', `Bearer ${ctx.token}`)
        .type('form')
        .send({ access_token: ctx.token, note: 'x' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    test('header plus another value under access_token in the body is refused too (not only the same token)', async () => {
      const res = await request(ctx.app)
        .post('/r')
        .set('Authorization', `Bearer ${ctx.token}`)
        .type('form')
        .send('access_token=other');
      expect(res.status).toBe(400);
    });

    test('a form body without access_token is left intact for the route', async () => {
      const res = await request(ctx.app)
        .post('/r')
        .set('Authorization', `Bearer ${ctx.token}`)
        .type('form')
        .send({ note: 'kept', n: '2' });
      expect(res.status).toBe(200);
      if (framework === 'connect') expect(res.body.raw).toBe('note=kept&n=2');
      else expect(res.body.body).toEqual({ note: 'kept', n: '2' });
    });

    test('a query without access_token, or a JSON body with one, is not a second location', async () => {
      expect(
        (await request(ctx.app).get('/r?q=access_tokens').set('Authorization', `Bearer ${ctx.token}`)).status,
      ).toBe(200);
      expect(
        (await request(ctx.app).post('/r').set('Authorization', `Bearer ${ctx.token}`).send({ access_token: 'x' }))
          .status,
      ).toBe(200);
    });
  });
});

describe('one token location when the app parsed the body before the guard', () => {
  test('an already parsed form body with access_token is seen too (RFC 6750 §2)', async () => {
    const oauth = oauthServer(memoryStores({ clients: CLIENTS, users: USERS }), {
      issuer: ISSUER,
      logger: recordingLogger(),
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express5');
    const app = express();
    app.use(oauth);
    app.use(express.urlencoded({ extended: true }));
    app.post('/r', oauth.requireToken(), (_req: unknown, res: { json: (v: unknown) => void }) =>
      res.json({ ok: true }),
    );
    const token = (
      await request(app)
        .post('/oauth/token')
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'read' })
    ).body.access_token;
    expect(
      (await request(app).post('/r').set('Authorization', `Bearer ${token}`).type('form').send({ a: 'b' })).status,
    ).toBe(200);
    const res = await request(app)
      .post('/r')
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send({ access_token: token });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
