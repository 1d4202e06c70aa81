import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScript } from './script-process';

const ROOT = join(__dirname, '..', '..');

/** The demo of examples/basic, run as `npm start` runs it, in a child process on a free port. */
export interface DemoProcess {
  /** What the demo printed as its address, e.g. `http://localhost:41234`. */
  readonly url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Stops it and waits until it has exited. */
  stop(): Promise<void>;
}

/** A fresh directory for a demo's key file, and how to remove it. */
export function keysDir(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-demo-keys-'));
  return { file: join(dir, 'signing-keys.json'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The demo app of examples/basic for `issuer`, in this process, with its signing keys in a key
 * file of its own (so tokengate has no ephemeral key to warn about). The test file maps
 * `tokengate` to the source under test (`jest.mock('tokengate', ...)`), as the example requires it.
 */
export function demoApp(issuer: string): { app: RequestListener; keysFile: string; close(): void } {
  const dir = keysDir();
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { demoKeys } = require('../../examples/basic/keys.js');
  const { createDemo } = require('../../examples/basic/app.js');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { app } = createDemo({ issuer, keys: demoKeys(dir.file).keys });
  return { app, keysFile: dir.file, close: dir.remove };
}

/**
 * Starts examples/basic/server.js from the built package (`npm run build` first; `npm test`
 * does). `keysFile`: the demo's key file (default: a fresh one, removed on stop); `port`:
 * where it listens (default: a free port).
 */
export async function startDemo(keysFile?: string, port = 0): Promise<DemoProcess> {
  if (!existsSync(join(ROOT, 'dist', 'cjs', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does).');
  const own = keysFile === undefined ? keysDir() : undefined;
  const demo = startScript('examples/basic/server.js', { PORT: String(port), DEMO_KEYS_FILE: keysFile ?? own?.file });
  const stop = async (): Promise<void> => {
    await demo.stop();
    own?.remove();
  };
  try {
    const url = (await demo.waitFor(/listening on (http:\/\/localhost:\d+)/, 25_000))[1] as string;
    return { url, output: () => demo.stdout() + demo.stderr(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
