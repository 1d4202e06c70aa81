/**
 * OpenID Connect in a real browser: headless Chromium (playwright-core) against the demo app
 * of examples/basic, whose client page checks the ID token itself (RS256 signature against
 * the JWKS, iss, aud, exp, nonce). Sign-in and consent, prompt=none before sign-in
 * (login_required) and after (silent success), and RP-Initiated Logout.
 * Screenshots go to test-output/oidc-browser/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

// The example requires 'tokengate' as an app would; here that is the source under test.
jest.mock('tokengate', () => jest.requireActual('../../src'), { virtual: true });

const CHROMIUM = '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const OUTPUT = join(__dirname, '..', '..', 'test-output', 'oidc-browser');

if (!HAVE_CHROMIUM && !IN_CI)
  console.warn(
    `SKIPPING the OpenID Connect browser test: ${CHROMIUM} is not installed (apt-get install -y chromium); under CI=true it fails instead.`,
  );
const suite = HAVE_CHROMIUM || IN_CI ? describe : describe.skip;

suite('OpenID Connect sign-in in headless Chromium (examples/basic)', () => {
  let server: http.Server;
  let base: string;
  let context: BrowserContext;
  let userDataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    mkdirSync(OUTPUT, { recursive: true });
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createDemo } = require('../../examples/basic/app.js');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    server.on('request', createDemo({ issuer: base }).app);
    // The demo runs on ephemeral keys: one warning for access tokens, one for ID tokens.
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/ephemeral RS256 key for ID tokens/);
    warn.mockRestore();
    userDataDir = mkdtempSync(join(tmpdir(), 'tokengate-oidc-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 900, height: 900 },
    });
    context.setDefaultTimeout(20_000);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function newPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    return page;
  }

  /** The paths the page navigates to from now on, redirects included. */
  function visits(page: Page): string[] {
    const visited: string[] = [];
    page.on(
      'request',
      (req) =>
        req.isNavigationRequest() && req.frame() === page.mainFrame() && visited.push(new URL(req.url()).pathname),
    );
    return visited;
  }

  test('prompt=none before sign-in comes back with login_required, without a login page (OIDC Core §3.1.2.6)', async () => {
    const page = await newPage();
    await page.goto(`${base}/client`);
    const visited = visits(page);
    await page.click('#silent-sign-in');
    await page.locator('#status', { hasText: 'login_required' }).waitFor();
    expect(visited).toEqual(['/oauth/authorize', '/client']);
    await page.screenshot({ path: join(OUTPUT, 'silent-before.png'), fullPage: true });
    await page.close();
  }, 60_000);

  test('sign in and consent: the client page shows the checked ID token claims and UserInfo', async () => {
    const page = await newPage();
    await page.goto(`${base}/client`);
    await page.click('#sign-in');
    await page.waitForURL((url) => url.pathname === '/login');
    await page.fill('input[name=username]', 'alice@example.com');
    await page.fill('input[name=password]', 'wonderland');
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/consent');
    await expect(page.locator('body').innerText()).resolves.toContain('Sign you in');
    await page.click('button[value=approve]');
    await page.locator('#id-token').waitFor({ state: 'visible' });
    const claims = JSON.parse((await page.locator('#id-token').textContent()) as string);
    expect(claims).toMatchObject({
      iss: base,
      sub: 'user-alice',
      aud: 'demo-spa',
      amr: ['pwd'],
      nonce: expect.any(String),
      auth_time: expect.any(Number),
    });
    await page.locator('#userinfo').waitFor({ state: 'visible' });
    expect(JSON.parse((await page.locator('#userinfo').textContent()) as string)).toEqual({
      sub: 'user-alice',
      name: 'Alice Liddell',
      email: 'alice@example.com',
      email_verified: true,
    });
    await expect(page.locator('#status').textContent()).resolves.toContain('Signed in as Alice Liddell');
    await page.screenshot({ path: join(OUTPUT, 'signed-in.png'), fullPage: true });
    await page.close();
  }, 60_000);

  test('prompt=none after sign-in: a silent success, no login or consent page, a fresh ID token', async () => {
    const page = await newPage();
    await page.goto(`${base}/client`);
    const visited = visits(page);
    await page.click('#silent-sign-in');
    await page.locator('#id-token').waitFor({ state: 'visible' });
    expect(JSON.parse((await page.locator('#id-token').textContent()) as string).sub).toBe('user-alice');
    expect(visited).toContain('/oauth/authorize');
    expect(visited).not.toContain('/login');
    expect(visited).not.toContain('/consent');
    await page.close();
  }, 60_000);

  test('sign out (RP-Initiated Logout): back on the client with its state, and the session is gone', async () => {
    const page = await newPage();
    await page.goto(`${base}/client`);
    await page.click('#sign-in'); // still signed in: straight back with tokens
    await page.locator('#sign-out').waitFor({ state: 'visible' });
    const visited = visits(page);
    await page.click('#sign-out');
    await page.locator('#status', { hasText: 'Signed out.' }).waitFor();
    expect(visited).toEqual(['/oauth/logout', '/client']);
    await page.screenshot({ path: join(OUTPUT, 'signed-out.png'), fullPage: true });
    await page.click('#silent-sign-in');
    await page.locator('#status', { hasText: 'login_required' }).waitFor();
    await page.close();
  }, 60_000);

  test('the pages ran without script errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
