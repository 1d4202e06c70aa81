/**
 * The token endpoint (RFC 6749 §2.3, §3.2, §4.3, §4.4, §5, §6), run under Express 4,
 * Express 5 and Connect, through real HTTP.
 */
import request from 'supertest';
import { memoryStores, type ClientStore, type TokenStore } from '../../src';
import { basic, buildApp, CLIENTS, decodeJwt, FRAMEWORKS, ISSUER, ODD_SECRET, USERS } from '../support/spine';

const TOKEN = '/oauth/token';

function expectNoStore(res: request.Response): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['pragma']).toBe('no-cache');
  expect(res.headers['content-type']).toMatch(/^application\/json/);
}

function expectError(res: request.Response, status: number, error: string): void {
  expect(res.status).toBe(status);
  expectNoStore(res);
  expect(res.body.error).toBe(error);
  expect(typeof res.body.error_description).toBe('string');
}

describe.each(FRAMEWORKS)('token endpoint under %s', (framework) => {
  const { app } = buildApp(framework);

  describe('request format (RFC 6749 §3.2)', () => {
    test('accepts application/x-www-form-urlencoded', async () => {
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
      expect(res.status).toBe(200);
      expectNoStore(res);
    });

    test('accepts multipart/form-data fields', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .field('grant_type', 'password')
        .field('username', 'alice@example.com')
        .field('password', 'wonderland');
      expect(res.status).toBe(200);
      expect(res.body.refresh_token).toEqual(expect.any(String));
    });

    test('refuses a file in a multipart body', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .field('grant_type', 'client_credentials')
        .attach('upload', Buffer.from('hello'), 'hello.txt');
      expectError(res, 400, 'invalid_request');
    });

    test('refuses a truncated multipart body', async () => {
      const body = '--XYZ\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--XY';
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .set('Content-Type', 'multipart/form-data; boundary=XYZ')
        .send(body);
      expectError(res, 400, 'invalid_request');
    });

    test('refuses multipart without a boundary', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Content-Type', 'multipart/form-data')
        .send('grant_type=client_credentials');
      expectError(res, 400, 'invalid_request');
    });

    test('bounds the body size (413)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send(`grant_type=client_credentials&client_id=web-app&client_secret=web-secret&pad=${'x'.repeat(20_000)}`);
      expectError(res, 413, 'invalid_request');
    });

    test('bounds the multipart size (413)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .field('grant_type', 'client_credentials')
        .field('pad', 'x'.repeat(20_000));
      expectError(res, 413, 'invalid_request');
    });

    test('refuses a JSON body: the RFC asks for form encoding', async () => {
      const res = await request(app)
        .post(TOKEN)
        .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
      expectError(res, 400, 'invalid_request');
    });

    test('a repeated parameter is invalid_request (RFC 6749 §3.2)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials&scope=read&scope=write');
      expectError(res, 400, 'invalid_request');
      expect(res.body.error_description).toContain('scope');
    });

    test('a repeated multipart field is invalid_request', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .field('grant_type', 'client_credentials')
        .field('grant_type', 'client_credentials');
      expectError(res, 400, 'invalid_request');
    });

    test('__proto__ is just a parameter name', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials&__proto__=x&constructor=y');
      expect(res.status).toBe(200);
    });

    test.each(['GET', 'PUT', 'DELETE'])('%s is 405 with Allow: POST', async (method) => {
      const res = await request(app)[method.toLowerCase() as 'get' | 'put' | 'delete'](TOKEN);
      expectError(res, 405, 'invalid_request');
      expect(res.headers['allow']).toBe('POST');
    });

    test('a missing grant_type is invalid_request', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('scope=read');
      expectError(res, 400, 'invalid_request');
    });

    test('an empty body is invalid_request', async () => {
      const res = await request(app).post(TOKEN);
      expectError(res, 400, 'invalid_request');
    });

    test('an unknown grant_type is unsupported_grant_type', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=urn:made:up');
      expectError(res, 400, 'unsupported_grant_type');
    });

    test('other paths are passed on to the app', async () => {
      const res = await request(app).get('/not-ours');
      expect(res.status).toBe(404);
    });
  });

  describe('client authentication (RFC 6749 §2.3)', () => {
    test('client_secret_basic with a secret that needs form-encoding (Appendix B)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('odd-app', ODD_SECRET))
        .type('form')
        .send('grant_type=client_credentials');
      expect(res.status).toBe(200);
    });

    test('client_secret_basic with the same secret not encoded, as curl -u sends it', async () => {
      const raw = 'Basic ' + Buffer.from(`odd-app:${ODD_SECRET}`).toString('base64');
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', raw)
        .type('form')
        .send('grant_type=client_credentials');
      expect(res.status).toBe(200);
    });

    test('client_secret_post with the odd secret', async () => {
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'odd-app', client_secret: ODD_SECRET });
      expect(res.status).toBe(200);
    });

    test('the Basic scheme name is case-insensitive', async () => {
      const header = basic('web-app', 'web-secret').replace('Basic', 'bAsIc');
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', header)
        .type('form')
        .send('grant_type=client_credentials');
      expect(res.status).toBe(200);
    });

    test('Basic and body credentials at once are invalid_request', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
      expectError(res, 400, 'invalid_request');
    });

    test('a wrong secret over Basic is 401 invalid_client with a Basic challenge', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'nope'))
        .type('form')
        .send('grant_type=client_credentials');
      expectError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="/);
    });

    test('a wrong secret in the body is 401 invalid_client without a Basic challenge', async () => {
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'nope' });
      expectError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    test('an unknown client and a wrong secret get the same answer', async () => {
      const unknown = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('who', 'nope'))
        .type('form')
        .send('grant_type=client_credentials');
      const wrong = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'nope'))
        .type('form')
        .send('grant_type=client_credentials');
      expect(unknown.status).toBe(wrong.status);
      expect(unknown.body).toEqual(wrong.body);
      expect(unknown.headers['www-authenticate']).toBe(wrong.headers['www-authenticate']);
    });

    test('a malformed Basic header is invalid_client', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', 'Basic !!!')
        .type('form')
        .send('grant_type=client_credentials');
      expectError(res, 401, 'invalid_client');
    });

    test('no client credentials at all is invalid_client', async () => {
      const res = await request(app).post(TOKEN).type('form').send('grant_type=client_credentials');
      expectError(res, 401, 'invalid_client');
    });

    test('a confidential client cannot skip its secret', async () => {
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'password', client_id: 'web-app', username: 'alice@example.com', password: 'wonderland' });
      expectError(res, 401, 'invalid_client');
    });

    test('a public client authenticates with client_id alone (none)', async () => {
      // The password grant takes a public client only when allowed (RFC 9700 §2.4; test/grants/password-public-clients.test.ts).
      const { app: lenient } = buildApp(framework, { passwordGrant: { allowPublicClients: true } });
      const res = await request(lenient)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'password', client_id: 'spa', username: 'alice@example.com', password: 'wonderland' });
      expect(res.status).toBe(200);
    });

    test('a public client cannot authenticate with a secret', async () => {
      const res = await request(app).post(TOKEN).type('form').send({
        grant_type: 'password',
        client_id: 'spa',
        client_secret: 'guess',
        username: 'alice@example.com',
        password: 'wonderland',
      });
      expectError(res, 401, 'invalid_client');
    });
  });

  describe('grants and scopes', () => {
    test('client_credentials issues an RFC 9068 access token and no refresh token (RFC 6749 §4.4.3)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials&scope=read');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'read',
      });
      const { header, payload } = decodeJwt(res.body.access_token);
      expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: expect.any(String) });
      expect(payload).toMatchObject({
        iss: ISSUER,
        sub: 'web-app',
        aud: ISSUER,
        client_id: 'web-app',
        scope: 'read',
        jti: expect.any(String),
      });
      expect(payload.exp).toBe((payload.iat as number) + 3600);
    });

    test('client_credentials is for confidential clients only (RFC 6749 §4.4)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'spa' });
      expectError(res, 400, 'unauthorized_client');
    });

    test('a grant the client is not registered for is unauthorized_client', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('odd-app', ODD_SECRET))
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
      expectError(res, 400, 'unauthorized_client');
    });

    test('a scope beyond the client’s is invalid_scope', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials&scope=read admin');
      expectError(res, 400, 'invalid_scope');
    });

    test('a scope with characters outside RFC 6749 §3.3 is invalid_scope', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials', scope: 'read "x"' });
      expectError(res, 400, 'invalid_scope');
    });

    test('no scope asked gives the client’s default scopes (RFC 6749 §3.3)', async () => {
      const all = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send('grant_type=client_credentials');
      expect(all.body.scope).toBe('read write');
      const defaults = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('reader', 'reader-secret'))
        .type('form')
        .send('grant_type=client_credentials');
      expect(defaults.body.scope).toBe('read');
    });

    test('password grant: the token’s sub is the user id and a refresh token is issued (RFC 6749 §4.3)', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland', scope: 'read' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'read',
        refresh_token: expect.any(String),
      });
      expect(decodeJwt(res.body.access_token).payload.sub).toBe('user-alice');
      expect(Buffer.from(res.body.refresh_token, 'base64url').length).toBeGreaterThanOrEqual(32);
    });

    test('password grant: a client without the refresh_token grant gets no refresh token', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('no-refresh', 'no-refresh-secret'))
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
      expect(res.status).toBe(200);
      expect(res.body.refresh_token).toBeUndefined();
    });

    test('password grant: unknown user and wrong password give the same invalid_grant', async () => {
      const unknown = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'password', username: 'mallory@example.com', password: 'wonderland' });
      const wrong = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com', password: 'nope' });
      expectError(unknown, 400, 'invalid_grant');
      expect(unknown.body).toEqual(wrong.body);
    });

    test('password grant: missing username or password is invalid_request', async () => {
      const res = await request(app)
        .post(TOKEN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ grant_type: 'password', username: 'alice@example.com' });
      expectError(res, 400, 'invalid_request');
    });
  });
});

describe('the app already parsed the body', () => {
  test.each(['express4', 'express5'] as const)('after express.urlencoded() under %s', async (framework) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require(framework);
    const { app } = buildApp(framework, {}, undefined, (a) => a.use(express.urlencoded({ extended: false })));
    const res = await request(app)
      .post(TOKEN)
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
    expect(res.status).toBe(200);
    const dup = await request(app)
      .post(TOKEN)
      .type('form')
      .send('grant_type=client_credentials&client_id=web-app&client_secret=web-secret&scope=a&scope=b');
    expectError(dup, 400, 'invalid_request');
  });

  test.each(['express4', 'express5'] as const)(
    'after express.urlencoded({ extended: true }) nested fields are refused under %s',
    async (framework) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const express = require(framework);
      const { app } = buildApp(framework, {}, undefined, (a) => a.use(express.urlencoded({ extended: true })));
      const res = await request(app)
        .post(TOKEN)
        .type('form')
        .send('grant_type=client_credentials&client_id=web-app&client_secret=web-secret&scope[a]=b');
      expectError(res, 400, 'invalid_request');
    },
  );

  test.each(['express4', 'express5'] as const)(
    'after express.json() a JSON body is still refused, a form body still works, under %s',
    async (framework) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const express = require(framework);
      const { app } = buildApp(framework, {}, undefined, (a) => a.use(express.json()));
      const json = await request(app)
        .post(TOKEN)
        .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
      expectError(json, 400, 'invalid_request');
      const form = await request(app)
        .post(TOKEN)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
      expect(form.status).toBe(200);
    },
  );

  test('multipart after express.urlencoded() (which leaves it alone) is parsed by us', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express4');
    const { app } = buildApp('express4', {}, undefined, (a) => a.use(express.urlencoded({ extended: false })));
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .field('grant_type', 'client_credentials');
    expect(res.status).toBe(200);
  });
});

describe('mounting', () => {
  test('tokenPath is configurable and relative to the mount point', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const express = require('express5');
    const { oauth } = buildApp('express5', { tokenPath: '/token' });
    const app = express();
    app.use('/auth', oauth);
    const res = await request(app)
      .post('/auth/token')
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send('grant_type=client_credentials');
    expect(res.status).toBe(200);
    const query = await request(app)
      .post('/auth/token?x=1')
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send('grant_type=client_credentials');
    expect(query.status).toBe(200);
  });
});

describe('store failures (never a leaked internal message)', () => {
  const secretMessage = 'connection to db-7.internal:5432 refused, password=hunter2';

  test('a client store that throws gives 500 server_error with a generic description; the cause is logged', async () => {
    const clients: ClientStore = { findClient: async () => Promise.reject(new Error(secretMessage)) };
    const { app, logger } = buildApp('express5', {}, { clients });
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send('grant_type=client_credentials');
    expectError(res, 500, 'server_error');
    expect(JSON.stringify(res.body)).not.toContain('db-7');
    expect(logger.lines.some((l) => l.level === 'error' && (l.detail as Error)?.message === secretMessage)).toBe(true);
  });

  test('a token store that throws on save gives 500 server_error', async () => {
    const base = memoryStores({ clients: CLIENTS, users: USERS });
    const tokens: TokenStore = { ...base.tokens, save: async () => Promise.reject(new Error(secretMessage)) };
    const { app } = buildApp('express5', {}, { ...base, tokens });
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'alice@example.com', password: 'wonderland' });
    expectError(res, 500, 'server_error');
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  test('a user store that throws gives 500 server_error', async () => {
    const base = memoryStores({ clients: CLIENTS });
    const users = { authenticate: async () => Promise.reject(new Error(secretMessage)) };
    const { app } = buildApp('express5', {}, { ...base, users });
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'a', password: 'b' });
    expectError(res, 500, 'server_error');
  });

  test('without a user store the password grant is unsupported', async () => {
    const { clients } = memoryStores({ clients: CLIENTS });
    const { app } = buildApp('express5', {}, { clients });
    const res = await request(app)
      .post(TOKEN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'password', username: 'a', password: 'b' });
    expectError(res, 400, 'unsupported_grant_type');
  });
});
