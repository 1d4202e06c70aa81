import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

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

/** Starts examples/basic/server.js from the built package (`npm run build` first; `npm test` does). */
export async function startDemo(): Promise<DemoProcess> {
  if (!existsSync(join(ROOT, 'dist', 'cjs', 'index.js')))
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does).');
  const child = spawn(process.execPath, [join(ROOT, 'examples', 'basic', 'server.js')], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo printed no address; output so far:\n${out}`)), 15_000);
      child.stdout.on('data', () => {
        const match = /listening on (http:\/\/localhost:\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the demo exited (${code}):\n${out}`));
      });
    });
    return { url, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
