/**
 * The whole authorization code flow in a real browser: headless Chromium (Debian's `chromium`
 * package, driven by playwright-core) against the demo app of examples/basic, with PKCE done
 * by the page itself (Web Crypto). Screenshots go to test-output/browser-e2e/.
 *
 * Outside CI, without /usr/bin/chromium, the suite skips with a loud message; under CI=true
 * it runs regardless and fails when the browser is missing.
 */
import { spawn } from 'node:child_process';
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
const OUTPUT = join(__dirname, '..', '..', 'test-output', 'browser-e2e');

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPING the browser end-to-end test: ${CHROMIUM} is not installed.\n` +
      '!! Install Debian\'s "chromium" package (apt-get install -y chromium) to run it;\n' +
      `!! under CI=true this test fails instead of skipping (.ci/run installs it).\n${'!'.repeat(78)}\n`,
  );
}

const suite = HAVE_CHROMIUM || IN_CI ? describe : describe.skip;

suite('authorization code flow with PKCE in headless Chromium (examples/basic)', () => {
  let server: http.Server;
  let base: string;
  let context: BrowserContext;
  let userDataDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true); // under CI: a clear failure, not a skip
    mkdirSync(OUTPUT, { recursive: true });
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createDemo } = require('../../examples/basic/app.js');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    server.on('request', createDemo({ issuer: base }).app);
    // The demo has no keys on purpose: tokengate says so, once for access tokens, once for ID tokens.
    expect(warn.mock.calls.map(([line]) => String(line))).toEqual([
      expect.stringMatching(/No signing keys configured: using an ephemeral ES256 key/),
      expect.stringMatching(/using an ephemeral RS256 key for ID tokens/),
    ]);
    warn.mockRestore();

    userDataDir = mkdtempSync(join(tmpdir(), 'tokengate-chromium-'));
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
      viewport: { width: 900, height: 700 },
    });
    context.setDefaultTimeout(15_000);
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

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/client`);
    await page.click('#sign-in');
    await page.waitForURL((url) => url.pathname === '/login');
    await page.fill('input[name=username]', 'alice@example.com');
    await page.fill('input[name=password]', 'wonderland');
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/consent');
  }

  test('open the client, sign in, approve, land back with a code, exchange it, call the protected API', async () => {
    const page = await newPage();
    await signIn(page);
    await expect(page.locator('h1').textContent()).resolves.toBe('Allow access?');
    const consentText = await page.locator('body').innerText();
    expect(consentText).toContain('Demo single-page app');
    expect(consentText).toContain('alice@example.com');
    expect(consentText).toMatch(/read/);
    await page.screenshot({ path: join(OUTPUT, 'consent.png'), fullPage: true });

    await page.click('button[value=approve]');
    await page.waitForURL((url) => url.pathname === '/client');
    await page.locator('#me').waitFor({ state: 'visible' });
    const me = JSON.parse((await page.locator('#me').textContent()) as string);
    expect(me).toEqual({
      sub: 'user-alice',
      client_id: 'demo-spa',
      scope: ['openid', 'profile', 'email', 'read', 'write'],
    });
    await expect(page.locator('#status').textContent()).resolves.toContain('Signed in');
    const tokens = JSON.parse((await page.locator('#tokens').textContent()) as string);
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email read write' });
    // The page removed the code from the address bar once it had read it.
    expect(new URL(page.url()).search).toBe('');
    await page.screenshot({ path: join(OUTPUT, 'final.png'), fullPage: true });
    expect(existsSync(join(OUTPUT, 'consent.png')) && existsSync(join(OUTPUT, 'final.png'))).toBe(true);

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

  test('denying consent brings the user back to the client with access_denied', async () => {
    await context.clearCookies(); // a new browser session: sign in again
    const page = await newPage();
    await signIn(page);
    await page.click('button[value=deny]');
    await page.waitForURL((url) => url.pathname === '/client');
    await expect(page.locator('#status').textContent()).resolves.toContain('access_denied');
    await expect(page.locator('#me').isHidden()).resolves.toBe(true);
    await page.screenshot({ path: join(OUTPUT, 'denied.png'), fullPage: true });
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
      await page.screenshot({ path: join(OUTPUT, 'device-approve.png'), fullPage: true });
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
    expect(pageErrors).toEqual([]);
  });
});
