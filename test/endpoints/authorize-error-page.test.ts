/**
 * The authorization endpoint's error page is no client-id oracle and no reflection point
 * (RFC 6749 §4.1.2.1, RFC 9700 §4.11): an unknown client_id and a known one whose redirect URI
 * does not fit get the very same page (still 400, still no redirect), and the page does not
 * echo the client_id it was sent. The app may render the page itself (`authorize.errorPage`,
 * or its error handler with `errors: 'next'`); the library still never redirects, and its own
 * page escapes what it echoes. Real HTTP under Express 4, Express 5 and Connect.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import request from 'supertest';
import { isOAuthError, memoryStores, type AuthorizeHooks, type OAuthError, type ServerOptions } from '../../src';
import { escapeHtml } from '../../src/http/error-page';
import { appErrorHandler, RENDERED_BY_APP, type AppErrorHandler } from '../support/app-errors';
import {
  AUTHORIZE,
  CLIENTS,
  FRAMEWORKS,
  HOOK_HEADERS,
  SPA_REDIRECT,
  authorizeUrl,
  buildCodeApp,
  pkcePair,
  testHooks,
} from '../support/authorization-code';

const PROBE = 'probe-client-7f3a9c';
type Mountable = { use: (handler: AppErrorHandler['handler']) => void };

describe.each(FRAMEWORKS)('the authorize error page under %s', (framework) => {
  const { app } = buildCodeApp(framework);

  async function page(url: string) {
    const res = await request(app).get(url).set(HOOK_HEADERS.user, 'user-alice');
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const { date: _date, ...headers } = res.headers;
    return { text: res.text, headers };
  }

  const request_ = (params: Record<string, string | undefined>) =>
    authorizeUrl({
      response_type: 'code',
      state: 's',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...params,
    });

  test('an unknown client_id and a known one with an unregistered redirect_uri get the same page (RFC 9700 §4.11)', async () => {
    const unknown = await page(request_({ client_id: PROBE, redirect_uri: 'https://evil.example/cb' }));
    const known = await page(request_({ client_id: 'spa', redirect_uri: 'https://evil.example/cb' }));
    expect(known).toEqual(unknown);
  });

  test('without redirect_uri: unknown, several registered, and none registered all get the same page', async () => {
    const unknown = await page(request_({ client_id: PROBE }));
    expect(await page(request_({ client_id: 'web' }))).toEqual(unknown); // two registered URIs
    expect(await page(request_({ client_id: 'no-redirect' }))).toEqual(unknown); // none registered
    expect(await page(request_({ client_id: 'no-redirect', redirect_uri: 'https://x.example/cb' }))).toEqual(unknown);
  });

  test('a repeated redirect_uri gets the same page for unknown and known clients', async () => {
    const twice = (clientId: string) =>
      `${AUTHORIZE}?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(SPA_REDIRECT)}&redirect_uri=x`;
    expect(await page(twice('spa'))).toEqual(await page(twice(PROBE)));
  });

  test('the page does not echo the client_id it was sent', async () => {
    const { text } = await page(request_({ client_id: PROBE, redirect_uri: 'https://evil.example/cb' }));
    expect(text).not.toContain(PROBE);
    expect(text).not.toContain('evil.example');
    const known = await page(request_({ client_id: 'spa', redirect_uri: 'https://evil.example/cb' }));
    expect(known.text).not.toContain('"spa"');
  });
});

describe.each(FRAMEWORKS)('branding the authorize error page under %s (issue #17)', (framework) => {
  const unknownClient = authorizeUrl({
    response_type: 'code',
    client_id: PROBE,
    redirect_uri: 'https://evil.example/cb',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
  });

  /** An app whose authorize hooks are the tests' plus `errorPage` (no user store: nothing to hash). */
  function appWithPage(errorPage: AuthorizeHooks['errorPage'], options: Partial<ServerOptions> = {}) {
    const calls = { authenticate: 0, consent: 0 };
    const authorize = { ...testHooks(framework, calls), ...(errorPage && { errorPage }) };
    return buildCodeApp(framework, { authorize, ...options }, memoryStores({ clients: CLIENTS }));
  }
  // One app per behaviour, built once; each test says what its page hook does.
  let hook: NonNullable<AuthorizeHooks['errorPage']> = () => undefined;
  const branded = appWithPage((err, req, res) => hook(err, req, res));
  const handed = appWithPage(undefined, { errors: 'next' });
  const handedErrors = appErrorHandler(framework);
  (handed.app as unknown as Mountable).use(handedErrors.handler);
  const both = appWithPage((err, req, res) => hook(err, req, res), { errors: 'next' });
  const bothErrors = appErrorHandler(framework);
  (both.app as unknown as Mountable).use(bothErrors.handler);

  function expectNoRedirect(res: request.Response): void {
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).not.toContain('evil.example');
  }

  test("authorize.errorPage renders the page: it gets the error, the status and the page's safety headers are already set", async () => {
    const seen: { err: unknown; url: string | undefined; status: number }[] = [];
    hook = (err, req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push({ err, url: req.url, status: res.statusCode });
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(`<h1>Example Corp</h1><p>${escapeHtml(err.message)}</p>`);
    };
    const res = await request(branded.app).get(unknownClient);
    expectNoRedirect(res);
    expect(res.text).toContain('<h1>Example Corp</h1>');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(seen).toHaveLength(1);
    const { err, url, status } = seen[0] as (typeof seen)[number];
    expect(isOAuthError(err)).toBe(true);
    expect(err).toMatchObject({ status: 400, error: 'invalid_request' });
    expect((err as OAuthError).message).toMatch(/client_id is not registered here/);
    expect((err as OAuthError).message).not.toContain(PROBE);
    expect((err as OAuthError).headers['Cache-Control']).toBe('no-store');
    expect(url).toContain(AUTHORIZE);
    expect(status).toBe(400);
  });

  test("a hook's error carries the response's headers: a PUT gets 405 with Allow", async () => {
    const seen: OAuthError[] = [];
    hook = (err, _req, res: http.ServerResponse) => {
      seen.push(err);
      res.end('branded');
    };
    const res = await request(branded.app).put(AUTHORIZE);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(seen[0]?.headers.Allow).toBe('GET, POST');
  });

  test('a hook that returns without responding, even with a URL, gets the default page: never a redirect', async () => {
    hook = (() => 'https://evil.example/cb') as never;
    const res = await request(branded.app).get(unknownClient);
    expectNoRedirect(res);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('This sign-in request cannot continue');
  });

  test('a hook that throws: the default page, and the failure goes to the logger', async () => {
    hook = async () => {
      throw new Error('template missing');
    };
    const before = branded.logger.lines.length;
    const res = await request(branded.app).get(unknownClient);
    expectNoRedirect(res);
    expect(res.text).toContain('This sign-in request cannot continue');
    expect(branded.logger.lines.slice(before)).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/authorize\.errorPage failed/) }),
    ]);
  });

  test("errors: 'next' without a hook: the app's error handler gets the page's error, and nothing redirects", async () => {
    const res = await request(handed.app).get(unknownClient);
    expectNoRedirect(res);
    expect(res.headers[RENDERED_BY_APP]).toBe('1');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body.error).toBe('invalid_request');
    expect(handedErrors.received).toHaveLength(1);
    expect(handedErrors.received[0]).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  test("the hook takes precedence over errors: 'next'", async () => {
    hook = (_err, _req, res: http.ServerResponse) => void res.end('branded');
    const res = await request(both.app).get(unknownClient);
    expect(res.text).toBe('branded');
    expect(bothErrors.received).toEqual([]);
  });
});

describe.each(FRAMEWORKS)('the default authorize error page under %s', (framework) => {
  const { app } = buildCodeApp(framework, {}, memoryStores({ clients: CLIENTS }));
  const HOSTILE = `<img src=x onerror="alert('1')">&`;

  test('hostile input echoed in the page is escaped', async () => {
    const name = encodeURIComponent(HOSTILE);
    const res = await request(app).post(AUTHORIZE).type('form').send(`${name}=1&${name}=2`);
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('<img');
    expect(res.text).toContain('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
  });

  test("the CSP allows the page's own style sheet by its hash, and nothing else", async () => {
    const res = await request(app).get(AUTHORIZE);
    expect(res.status).toBe(400);
    const style = /<style>([^<]*)<\/style>/.exec(res.text)?.[1];
    expect(style).toBeDefined();
    const hash = createHash('sha256')
      .update(style as string)
      .digest('base64');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain(`style-src 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.text).not.toMatch(/<script|style=/);
  });
});
