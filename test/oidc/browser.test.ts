/**
 * OpenID Connect in a real browser: headless Chromium (playwright-core) against the demo app
 * of examples/basic, whose client page checks the ID token itself (RS256 signature against
 * the JWKS, iss, aud, exp, nonce). Sign-in and consent, prompt=none before sign-in
 * (login_required) and after (silent success), and RP-Initiated Logout.
 * Screenshots go to test-output/oidc-browser/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describeWithChromium } from '../support/chromium';
import { demoInChromium, type DemoInChromium } from '../support/demo-browser';

// The example requires 'tokengate' as an app would; here that is the source under test.
jest.mock('tokengate', () => jest.requireActual('../../src'), { virtual: true });

const OUTPUT = join(__dirname, '..', '..', 'test-output', 'oidc-browser');

describeWithChromium('OpenID Connect sign-in in headless Chromium (examples/basic)', () => {
  let demo: DemoInChromium;
  let base: string;
  const newPage = (): Promise<Page> => demo.newPage();

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    // The demo's key file has an RS256 key, so ID tokens verify against its JWKS across restarts.
    demo = await demoInChromium({ viewport: { width: 900, height: 900 }, actionTimeoutMs: 20_000 });
    ({ base } = demo);
  }, 60_000);

  afterAll(async () => {
    await demo?.close();
  });

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
    await page.locator('#error-code', { hasText: 'login_required' }).waitFor({ state: 'attached' });
    await expect(page.locator('#status').textContent()).resolves.toMatch(/^You are not signed in/);
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
    await page.locator('#error-code', { hasText: 'login_required' }).waitFor({ state: 'attached' });
    await page.close();
  }, 60_000);

  test('the pages ran without script errors', () => {
    expect(demo.pageErrors).toEqual([]);
  });
});
