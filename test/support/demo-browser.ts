/**
 * The demo app of examples/basic served on a local port, with headless Chromium pointed at it:
 * the set-up both browser suites (test/e2e/browser, test/oidc/browser) share. Each suite still
 * maps 'tokengate' to the source under test with its own `jest.mock` (mocks are per file).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import { demoApp } from './demo';

/** A running demo and browser. */
export interface DemoInChromium {
  /** The demo's origin, which is also its issuer. */
  readonly base: string;
  readonly context: BrowserContext;
  /** Script errors of every page opened with {@link DemoInChromium.newPage}; a suite expects none. */
  readonly pageErrors: string[];
  /** A new tab whose script errors are collected. */
  newPage(): Promise<Page>;
  /** Close the browser, the demo and its server. */
  close(): Promise<void>;
}

/** Serve the demo on a free port of 127.0.0.1 and start Chromium (see `launchChromium` for the options). */
export async function demoInChromium(
  options: { viewport?: { width: number; height: number }; actionTimeoutMs?: number } = {},
): Promise<DemoInChromium> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const demo = demoApp(base);
  server.on('request', demo.app);
  const closeServer = async (): Promise<void> => {
    demo.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  let browser;
  try {
    browser = await launchChromium(options);
  } catch (err) {
    await closeServer();
    throw err;
  }
  const { context } = browser;
  const pageErrors: string[] = [];
  return {
    base,
    context,
    pageErrors,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      return page;
    },
    async close() {
      await browser.close();
      await closeServer();
    },
  };
}
