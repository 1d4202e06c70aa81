/**
 * The demo of examples/basic in a real browser: headless Chromium (Debian's `chromium`
 * package, driven by playwright-core) through the authorization code flow, with PKCE done by
 * the page itself (Web Crypto); what the user sees on the way (who is signed in, a primary
 * Allow beside a secondary Deny, the token and API answers labelled apart, errors in words);
 * signing out; and the device flow's verification page.
 *
 * Screenshots go to test-output/browser-e2e/; with DOCS_SCREENSHOTS=1 also to docs/images/
 * (the ones docs/getting-started.md shows): `DOCS_SCREENSHOTS=1 npx jest test/e2e/browser.test.ts`.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { describeWithChromium } from '../support/chromium';
import { demoInChromium, type DemoInChromium } from '../support/demo-browser';

// The example requires 'tokengate' as an app would; here that is the source under test.
jest.mock('tokengate', () => jest.requireActual('../../src'), { virtual: true });

const OUTPUT = join(__dirname, '..', '..', 'test-output', 'browser-e2e');
const DOCS_IMAGES = join(__dirname, '..', '..', 'docs', 'images');

describeWithChromium('the demo (examples/basic) in headless Chromium', () => {
  let demo: DemoInChromium;
  let base: string;
  let context: BrowserContext;
  const newPage = (): Promise<Page> => demo.newPage();

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    demo = await demoInChromium({ viewport: { width: 900, height: 700 } });
    ({ base, context } = demo);
  }, 60_000);

  afterAll(async () => {
    await demo?.close();
  });

  /** A screenshot into test-output/, and into docs/images/ when DOCS_SCREENSHOTS=1. */
  async function screenshot(page: Page, name: string): Promise<void> {
    const path = join(OUTPUT, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    expect(existsSync(path)).toBe(true);
    if (process.env.DOCS_SCREENSHOTS === '1') {
      mkdirSync(DOCS_IMAGES, { recursive: true });
      copyFileSync(path, join(DOCS_IMAGES, `demo-${name}.png`));
    }
  }

  // Runs in the page; this project's types have no DOM, hence the cast.
  type Styles = { getComputedStyle(el: unknown): { backgroundColor: string } };
  const background = (locator: Locator) =>
    locator.evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).backgroundColor);

  async function signIn(page: Page, shot?: string): Promise<void> {
    await page.goto(`${base}/client`);
    await page.click('#sign-in');
    await page.waitForURL((url) => url.pathname === '/login');
    await page.fill('input[name=username]', 'alice@example.com');
    await page.fill('input[name=password]', 'wonderland');
    if (shot) await screenshot(page, shot);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/consent');
  }

  test('sign in, see who is asking for what, Allow (primary) beside Deny (secondary), back at the client with labelled token and API answers', async () => {
    const page = await newPage();
    await signIn(page, 'sign-in');
    await expect(page.locator('h1').textContent()).resolves.toBe('Allow access?');
    const consentText = await page.locator('body').innerText();
    expect(consentText).toContain('Demo single-page app');
    expect(consentText).toMatch(/read: Read your profile/);
    // The site says who is signed in, and offers to sign out.
    await expect(page.locator('#signed-in-as').innerText()).resolves.toBe(
      'Signed in as Alice Liddell (alice@example.com) · Sign out',
    );
    // Allow is the filled primary button, Deny the plain secondary one.
    const allow = page.locator('button[value=approve]');
    const deny = page.locator('button[value=deny]');
    await expect(allow.getAttribute('class')).resolves.toBe('primary');
    await expect(deny.getAttribute('class')).resolves.toBe('secondary');
    await expect(background(allow)).resolves.toBe('rgb(11, 87, 208)');
    await expect(background(deny)).resolves.toBe('rgb(255, 255, 255)');
    await screenshot(page, 'consent');

    await allow.click();
    await page.waitForURL((url) => url.pathname === '/client');
    await page.locator('#me').waitFor({ state: 'visible' });
    // Two blocks, each saying what it is: the token endpoint's answer and the API's.
    await expect(page.locator('#tokens-block h2').innerText()).resolves.toMatch(/^Token response\nPOST \/oauth\/token/);
    await expect(page.locator('#me-block h2').innerText()).resolves.toMatch(/^API response\nGET \/api\/me/);
    const tokens = JSON.parse((await page.locator('#tokens').textContent()) as string);
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email read write' });
    expect(tokens.access_token).toMatch(/…$/); // shortened on screen
    const me = JSON.parse((await page.locator('#me').textContent()) as string);
    expect(me).toEqual({
      sub: 'user-alice',
      client_id: 'demo-spa',
      scope: ['openid', 'profile', 'email', 'read', 'write'],
    });
    await expect(page.locator('#who').innerText()).resolves.toBe('Signed in as Alice Liddell');
    await expect(page.locator('#sign-out').isVisible()).resolves.toBe(true);
    await expect(page.locator('#status').textContent()).resolves.toBe(
      'Signed in as Alice Liddell. The API accepted the access token.',
    );
    // The page removed the code from the address bar once it had read it.
    expect(new URL(page.url()).search).toBe('');
    await screenshot(page, 'signed-in');

    // Signed in and approved: a second run goes straight through, no login or consent page.
    await page.goto(`${base}/client`);
    const visited: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && visited.push(new URL(frame.url()).pathname));
    await page.click('#sign-in');
    await page.locator('#me', { hasText: 'user-alice' }).waitFor();
    expect(visited).not.toContain('/login');
    expect(visited).not.toContain('/consent');
    expect(visited).toContain('/client');
    await page.close();
  }, 60_000);

  test('signing out of the site: the header link asks first, a POST ends the session, and the next sign-in asks for the password again', async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await expect(page.locator('#signed-in-as').innerText()).resolves.toContain('Signed in as Alice Liddell');
    await page.click('#signed-in-as a');
    await page.waitForURL((url) => url.pathname === '/logout');
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign out?');
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.locator('[role=status]').textContent()).resolves.toBe('You are signed out.');
    await expect(page.locator('header.bar').innerText()).resolves.toContain('Not signed in');
    await page.goto(`${base}/client`);
    await page.click('#sign-in');
    await page.waitForURL((url) => url.pathname === '/login');
    await page.close();
  }, 60_000);

  test('denying consent: back at the client, told in words what happened; the OAuth code only under Technical details', async () => {
    await context.clearCookies(); // a new browser session: sign in again
    const page = await newPage();
    await signIn(page);
    await page.click('button[value=deny]');
    await page.waitForURL((url) => url.pathname === '/client');
    await expect(page.locator('#status').textContent()).resolves.toBe(
      'You chose not to allow the demo client. Nothing was shared with it.',
    );
    await expect(page.locator('#status').textContent()).resolves.not.toContain('access_denied');
    await expect(page.locator('#error-details').isVisible()).resolves.toBe(true);
    await expect(page.locator('#error-code').textContent()).resolves.toMatch(/^access_denied/);
    await expect(page.locator('#me-block').isHidden()).resolves.toBe(true);
    await expect(page.locator('#who').innerText()).resolves.toBe('Not signed in');
    await page.click('#error-details summary');
    await screenshot(page, 'denied');
    await page.close();
  }, 60_000);

  test("device flow (RFC 8628): openid-client on the device, approval on the demo's verification page, tokens by polling", async () => {
    await context.clearCookies();
    const device = spawn(
      process.execPath,
      [
        join(__dirname, '../fixtures/openid-client-device.mjs'),
        JSON.stringify({ issuer: base, clientId: 'demo-tv', scope: 'read' }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    const waiters: (() => void)[] = [];
    device.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        lines.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
        waiters.splice(0).forEach((w) => w());
      }
    });
    let exited = false;
    device.on('exit', () => {
      exited = true;
      waiters.splice(0).forEach((w) => w());
    });
    const line = async (n: number): Promise<Record<string, unknown>> => {
      while (lines.length <= n) {
        if (exited) throw new Error(`the device client exited after ${lines.length} lines: ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return lines[n] as Record<string, unknown>;
    };
    try {
      const started = await line(0);
      expect(started).toMatchObject({
        user_code: expect.stringMatching(/^[B-Z]{4}-[B-Z]{4}$/),
        verification_uri: `${base}/device`,
      });
      const page = await newPage();
      await page.goto(started.verification_uri_complete as string);
      await page.waitForURL((url) => url.pathname === '/login');
      await page.fill('input[name=username]', 'alice@example.com');
      await page.fill('input[name=password]', 'wonderland');
      await page.click('button[type=submit]');
      await page.waitForURL((url) => url.pathname === '/device');
      await expect(page.locator('#device-code').textContent()).resolves.toBe(started.user_code);
      expect(await page.locator('body').innerText()).toContain('Demo TV app');
      await expect(page.locator('button[value=approve]').getAttribute('class')).resolves.toBe('primary');
      await screenshot(page, 'device');
      await page.click('button[value=approve]');
      await expect(page.locator('#device-done').textContent()).resolves.toContain('Done');
      await page.close();

      const tokens = await line(1);
      expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read', refresh_token: expect.any(String) });
      const me = await fetch(`${base}/api/me`, {
        headers: { authorization: `Bearer ${tokens.access_token as string}` },
      });
      expect(await me.json()).toEqual({ sub: 'user-alice', client_id: 'demo-tv', scope: ['read'] });
    } finally {
      device.kill();
    }
  }, 60_000);

  test('the pages ran without script errors', () => {
    expect(demo.pageErrors).toEqual([]);
  });
});
