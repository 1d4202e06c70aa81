/**
 * `getAuth(req)` (#17): the typed way to read what a tokengate guard validated, since
 * tokengate declares no `req.auth` on Express's global Request (it would clash with other
 * libraries' declarations). It must give exactly `req.auth`, and refuse loudly when no
 * tokengate guard ran or another library's object sits on `req.auth`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { getAuth, oauthServer } from '../../src';
import * as expressEntry from '../../src/express';
import { clientToken } from '../support/lifecycle';
import { buildApp, FRAMEWORKS } from '../support/spine';

type Use = (path: string, handler: (req: IncomingMessage, res: ServerResponse, next: () => void) => void) => void;

// Answers with what getAuth gave, or with the message of what it threw.
const answer =
  (optional: boolean) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    let body: unknown;
    try {
      body = { auth: getAuth(req, { optional }) ?? null };
    } catch (err) {
      body = { thrown: (err as Error).name, message: (err as Error).message };
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  };

describe.each(FRAMEWORKS)('getAuth(req) under %s', (framework) => {
  const { app, oauth } = buildApp(framework);
  const use = (app as unknown as { use: Use }).use.bind(app);
  use('/guarded', oauth.requireToken({ scope: 'read' }));
  use('/guarded', answer(false));
  use('/unguarded', answer(false));
  use('/unguarded-optional', answer(true));
  use('/foreign', (req, _res, next) => {
    // What express-oauth2-jwt-bearer puts on req.auth: not a tokengate token.
    (req as { auth?: unknown }).auth = { payload: { sub: 'x' }, header: { alg: 'RS256' }, token: 'x.y.z' };
    next();
  });
  use('/foreign', answer(false));

  test('behind a guard it gives the object the guard set on req.auth', async () => {
    const token = await clientToken(app);
    const [viaGetAuth, viaReqAuth] = await Promise.all([
      request(app).get('/guarded').set('Authorization', `Bearer ${token}`),
      request(app).get('/api/me').set('Authorization', `Bearer ${token}`),
    ]);
    expect(viaGetAuth.body.auth).toEqual(viaReqAuth.body);
    expect(viaGetAuth.body.auth).toMatchObject({ token, sub: 'web-app', clientId: 'web-app', scope: ['read'] });
  });

  test('without a guard it throws a TypeError that says to put requireToken() first; optional gives undefined', async () => {
    const res = await request(app).get('/unguarded');
    expect(res.body).toEqual({ thrown: 'TypeError', message: expect.stringMatching(/put requireToken\(\) before/) });
    expect((await request(app).get('/unguarded-optional')).body).toEqual({ auth: null });
  });

  test("another library's req.auth is not taken for a tokengate token", async () => {
    const res = await request(app).get('/foreign');
    expect(res.body).toEqual({
      thrown: 'TypeError',
      message: expect.stringMatching(/set by something other than a tokengate guard/),
    });
  });
});

test('tokengate/express gives the same functions as tokengate: one module instance, narrower types only', () => {
  expect(expressEntry.getAuth).toBe(getAuth);
  expect(expressEntry.memoryStores).toBeDefined();
  expect(expressEntry.oauthServer).toBe(oauthServer);
});
