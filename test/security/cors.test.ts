/**
 * CORS for browser clients (issue 8): the `cors` option opens the token, revocation and
 * metadata (and JWKS) endpoints to configured origins, globally or per client, answers
 * preflights, and never applies to the authorization endpoint or introspection. Checked with
 * real preflight requests over HTTP under Express 4/5 and Connect, and in headless Chromium,
 * where the browser itself sends the preflight and enforces the answer.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { memoryStores, oauthServer, type CorsOptions, type ServerOptions } from '../../src';
import {
  buildCodeApp,
  HOOK_HEADERS,
  obtainCode,
  spaRequest,
  CLIENTS as CODE_CLIENTS,
  SPA_REDIRECT,
  USERS as CODE_USERS,
  type Framework,
} from '../support/authorization-code';
import { basic, CLIENTS, FRAMEWORKS, ISSUER, recordingLogger } from '../support/spine';

const APP_ORIGIN = 'https://app.example.com';
const SPA_ORIGIN = 'https://spa.example.com';
const EVIL_ORIGIN = 'https://evil.example.net';
const CORS: CorsOptions = { origins: [APP_ORIGIN], clients: { spa: [SPA_ORIGIN] } };

function corsApp(
  framework: Framework,
  cors: CorsOptions | null = CORS,
  extra: Partial<ServerOptions> = {},
): http.RequestListener {
  const stores = memoryStores({
    clients: [...CODE_CLIENTS, ...CLIENTS.filter((c) => c.id !== 'spa')],
    users: CODE_USERS,
  });
  return buildCodeApp(framework, { cors: cors ?? undefined, ...extra }, stores).app;
}

function preflight(
  app: http.RequestListener,
  path: string,
  origin: string,
  method = 'POST',
  headers = 'authorization, content-type',
): request.Test {
  return request(app)
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', method)
    .set('Access-Control-Request-Headers', headers);
}

function expectNoCors(res: request.Response): void {
  for (const name of [
    'access-control-allow-origin',
    'access-control-allow-methods',
    'access-control-allow-headers',
    'access-control-allow-credentials',
  ]) {
    expect(res.headers[name]).toBeUndefined();
  }
}

describe.each(FRAMEWORKS)('CORS under %s', (framework) => {
  const app = corsApp(framework);

  test('a preflight to the token endpoint from an allowed origin is answered 204 with the allowed method and headers', async () => {
    const res = await preflight(app, '/oauth/token', APP_ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-allow-methods']).toBe('POST');
    expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, DPoP');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['vary']).toMatch(/\bOrigin\b/);
    expect(res.text).toBe('');
  });

  test("a preflight from a client's own origin is answered too (a preflight names no client)", async () => {
    const res = await preflight(app, '/oauth/token', SPA_ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
  });

  test('a preflight from any other origin gets no CORS headers: the endpoint answers OPTIONS as it would without CORS', async () => {
    const res = await preflight(app, '/oauth/token', EVIL_ORIGIN);
    expectNoCors(res);
    expect(res.status).toBe(405);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  test('a token response is readable from a global origin, with WWW-Authenticate and Retry-After exposed', async () => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Origin', APP_ORIGIN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Retry-After, DPoP-Nonce');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['vary']).toMatch(/\bOrigin\b/);
  });

  test("a client's own origin can read the answers for that client only, errors included", async () => {
    const { params, verifier } = spaRequest();
    const code = await obtainCode(app, params);
    const ok = await request(app).post('/oauth/token').set('Origin', SPA_ORIGIN).type('form').send({
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: SPA_REDIRECT,
      code_verifier: verifier,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    // The same code again: an error the SPA must be able to read.
    const replay = await request(app).post('/oauth/token').set('Origin', SPA_ORIGIN).type('form').send({
      grant_type: 'authorization_code',
      client_id: 'spa',
      code,
      redirect_uri: SPA_REDIRECT,
      code_verifier: verifier,
    });
    expect(replay.body.error).toBe('invalid_grant');
    expect(replay.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    // Another client's answers are not readable from the SPA's origin.
    const other = await request(app)
      .post('/oauth/token')
      .set('Origin', SPA_ORIGIN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(other.status).toBe(200);
    expectNoCors(other);
  });

  test('an origin that is not allowed gets the answer without CORS headers (the browser then hides it)', async () => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Origin', EVIL_ORIGIN)
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expectNoCors(res);
  });

  test('the revocation endpoint: preflight and per-client answers as at the token endpoint', async () => {
    const pre = await preflight(app, '/oauth/revoke', SPA_ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toBe('POST');
    const res = await request(app)
      .post('/oauth/revoke')
      .set('Origin', SPA_ORIGIN)
      .type('form')
      .send({ client_id: 'spa', token: 'unknown-token' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
  });

  test('the metadata and JWKS documents are readable from every configured origin, preflights included', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/oauth/jwks']) {
      for (const origin of [APP_ORIGIN, SPA_ORIGIN]) {
        const res = await request(app).get(path).set('Origin', origin);
        expect(res.status).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBe(origin);
      }
      const pre = await preflight(app, path, SPA_ORIGIN, 'GET', 'content-type');
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-methods']).toBe('GET, HEAD');
      expectNoCors(await request(app).get(path).set('Origin', EVIL_ORIGIN));
    }
  });

  test('never for the authorization endpoint: no CORS headers on its preflights or its answers', async () => {
    const pre = await preflight(app, '/oauth/authorize', APP_ORIGIN, 'GET');
    expectNoCors(pre);
    expect(pre.status).toBe(405);
    const { params } = spaRequest();
    const res = await request(app)
      .get(`/oauth/authorize?${new URLSearchParams(params as Record<string, string>)}`)
      .set('Origin', SPA_ORIGIN)
      .set(HOOK_HEADERS.user, 'user-alice');
    expectNoCors(res);
  });

  test('never for the introspection endpoint (server to server)', async () => {
    expectNoCors(await preflight(app, '/oauth/introspect', APP_ORIGIN));
    expectNoCors(
      await request(app)
        .post('/oauth/introspect')
        .set('Origin', APP_ORIGIN)
        .set('Authorization', basic('web-app', 'web-secret'))
        .type('form')
        .send({ token: 'x' }),
    );
  });

  test('a 429 from the brute-force limits is readable, with Retry-After exposed', async () => {
    const limited = corsApp(framework, CORS, { bruteForce: { clientId: { points: 1 } } });
    await request(limited)
      .post('/oauth/token')
      .set('Origin', APP_ORIGIN)
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'wrong' });
    const res = await request(limited)
      .post('/oauth/token')
      .set('Origin', APP_ORIGIN)
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: 'web-app', client_secret: 'web-secret' });
    expect(res.status).toBe(429);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-expose-headers']).toContain('Retry-After');
  });
});

describe('CORS options', () => {
  test('without the option there are no CORS headers and OPTIONS is 405', async () => {
    const app = corsApp('express5', null);
    const pre = await preflight(app, '/oauth/token', APP_ORIGIN);
    expectNoCors(pre);
    expect(pre.status).toBe(405);
    expectNoCors(await request(app).get('/.well-known/oauth-authorization-server').set('Origin', APP_ORIGIN));
  });

  test("origins: '*' answers every origin with a literal * (never with credentials)", async () => {
    const app = corsApp('express5', { origins: '*', maxAge: 60 });
    const pre = await preflight(app, '/oauth/token', EVIL_ORIGIN);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-max-age']).toBe('60');
    const res = await request(app)
      .post('/oauth/token')
      .set('Origin', 'https://anything.example')
      .set('Authorization', basic('web-app', 'web-secret'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  test('origins are validated at start-up with a hint', () => {
    const stores = memoryStores({ clients: CLIENTS });
    const make = (cors: unknown) => () =>
      oauthServer(stores, { issuer: ISSUER, logger: recordingLogger(), cors: cors as CorsOptions });
    expect(make({ origins: ['https://app.example.com/'] })).toThrow(
      /options\.cors\.origins must list origins.*did you mean "https:\/\/app\.example\.com"/,
    );
    expect(make({ origins: ['https://app.example.com/callback'] })).toThrow(
      /did you mean "https:\/\/app\.example\.com"/,
    );
    expect(make({ origins: ['app.example.com'] })).toThrow(/options\.cors\.origins must list origins/);
    expect(make({ origins: ['null'] })).toThrow(/options\.cors\.origins must list origins/);
    expect(make({ origins: 'https://app.example.com' })).toThrow(/options\.cors\.origins must be an array of origins/);
    expect(make({ clients: { spa: 'https://spa.example.com' } })).toThrow(
      /options\.cors\.clients\["spa"\] must be an array of origins/,
    );
    expect(make({ clients: { spa: ['https://SPA.example.com:443'] } })).toThrow(
      /did you mean "https:\/\/spa\.example\.com"/,
    );
    expect(make({ maxAge: -1 })).toThrow(/options\.cors\.maxAge must be a whole number of seconds/);
    expect(make(['https://app.example.com'])).toThrow(/options\.cors must be \{ origins\?, clients\?, maxAge\? \}/);
    expect(make({ origins: ['http://localhost:5173'], clients: { spa: ['https://spa.example.com'] } })).not.toThrow();
  });
});

const CHROMIUM = '/usr/bin/chromium';
const browserSuite = existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;
if (!existsSync(CHROMIUM) && process.env.CI !== 'true')
  console.warn(`\n!! SKIPPING the CORS browser tests: ${CHROMIUM} is not installed (apt-get install -y chromium).\n`);

browserSuite('CORS in headless Chromium: the browser sends the preflights and enforces the answers', () => {
  let context: BrowserContext;
  let userDataDir: string;
  const servers: http.Server[] = [];
  let auth: string;
  let spa: string;
  let evil: string;
  const tokenPosts: string[] = [];

  async function serve(listener: http.RequestListener): Promise<string> {
    const server = http.createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const blankPage: http.RequestListener = (_req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end('<!doctype html><title>client</title>');
  };

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    spa = await serve(blankPage);
    evil = await serve(blankPage);
    const server = http.createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    auth = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const app = corsApp('express5', { clients: { spa: [spa], 'web-app': [spa] } }, { issuer: auth });
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.method === 'POST' && req.url === '/oauth/token') tokenPosts.push(req.headers.origin ?? '');
      app(req, res);
    });
    userDataDir = mkdtempSync(join(tmpdir(), 'tokengate-cors-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  async function pageAt(origin: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(origin);
    return page;
  }

  /** fetch() in the page; returns the status and body it could read, or the error it got. */
  function pageFetch(
    page: Page,
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<{ status?: number; body?: unknown; error?: string }> {
    return page.evaluate(
      async ({ url, init }) => {
        try {
          const res = await fetch(url, init);
          return { status: res.status, body: await res.json() };
        } catch (err) {
          return { error: String(err) };
        }
      },
      { url, init },
    );
  }

  test('the SPA redeems its code with PKCE from its own origin and reads the tokens', async () => {
    const { params, verifier } = spaRequest();
    // Signing in and consenting is not what is tested here: the test hooks take the user from a header.
    const liveCode = await obtainCode(auth, params);
    const page = await pageAt(spa);
    const result = await pageFetch(page, `${auth}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'spa',
        code: liveCode,
        redirect_uri: SPA_REDIRECT,
        code_verifier: verifier,
      }).toString(),
    });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      token_type: 'Bearer',
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
    await page.close();
  });

  test('a request that needs a preflight (Authorization header) goes through from an allowed origin', async () => {
    const page = await pageAt(spa);
    const result = await pageFetch(page, `${auth}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic('web-app', 'web-secret') },
      body: 'grant_type=client_credentials',
    });
    expect(result).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    await page.close();
  });

  test('from an origin that is not allowed, the browser stops at the preflight: the POST is never sent', async () => {
    const page = await pageAt(evil);
    const before = tokenPosts.length;
    const result = await pageFetch(page, `${auth}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic('web-app', 'web-secret') },
      body: 'grant_type=client_credentials',
    });
    expect(result.error).toMatch(/TypeError/);
    expect(tokenPosts.length).toBe(before);
    // A simple request (no preflight) reaches the server, but its answer stays unreadable.
    const simple = await pageFetch(page, `${auth}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=spa',
    });
    expect(simple.error).toMatch(/TypeError/);
    await page.close();
  });

  test('the metadata document is readable from an allowed origin and not from another', async () => {
    const allowed = await pageAt(spa);
    expect(await pageFetch(allowed, `${auth}/.well-known/oauth-authorization-server`, {})).toMatchObject({
      status: 200,
      body: { issuer: auth },
    });
    const other = await pageAt(evil);
    expect((await pageFetch(other, `${auth}/.well-known/oauth-authorization-server`, {})).error).toMatch(/TypeError/);
    await allowed.close();
    await other.close();
  });
});
