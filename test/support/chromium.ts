/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by
 * playwright-core. Outside CI, without /usr/bin/chromium, a suite skips with a loud message;
 * under CI=true it runs regardless and fails when the browser is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The longest a browser start may take before the test fails (instead of Playwright's 3 minutes). */
export const LAUNCH_TIMEOUT_MS = 30_000;

/** `describe` when Chromium is there (or under CI, to fail loudly), else `describe.skip` with a warning. */
export function describeWithChromium(title: string, body: () => void): void {
  const available = existsSync(CHROMIUM);
  if (!available && process.env.CI !== 'true') {
    console.warn(
      `\n${'!'.repeat(78)}\n!! SKIPPING "${title}": ${CHROMIUM} is not installed.\n` +
        '!! Install Debian\'s "chromium" package (apt-get install -y chromium) to run it;\n' +
        `!! under CI=true this test fails instead of skipping.\n${'!'.repeat(78)}\n`,
    );
    describe.skip(title, body);
    return;
  }
  describe(title, body);
}

/** A running browser: its one context (a profile of its own), and how to close it. */
export interface LaunchedChromium {
  readonly context: BrowserContext;
  /** Close the browser and delete its profile directory. */
  close(): Promise<void>;
}

/**
 * Start headless Chromium with a fresh profile, failing within {@link LAUNCH_TIMEOUT_MS}.
 * `actionTimeoutMs` bounds every page action and wait.
 */
export async function launchChromium(
  options: { viewport?: { width: number; height: number }; actionTimeoutMs?: number } = {},
): Promise<LaunchedChromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install -y chromium).`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'tokengate-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      timeout: LAUNCH_TIMEOUT_MS,
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
      viewport: options.viewport ?? { width: 900, height: 700 },
      deviceScaleFactor: 1,
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(options.actionTimeoutMs ?? 15_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
