/**
 * A real, throwaway redis-server for tests: started on a free local port with a temporary
 * directory and no persistence, stopped (and its directory removed) at the end. It can also
 * be killed, frozen and restarted on the same port, to test what the app does meanwhile.
 *
 * Without a `redis-server` binary the suites are skipped with a loud warning, except under
 * CI (`CI=true`), where that is a failure: `.ci/run` installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports';

/** The `redis-server` executable on PATH, or `undefined`. */
export function redisServerBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `describe` when redis-server is available; otherwise a loud skip, or under CI a failure.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisServerBinary() !== undefined) return describe(name, body);
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('redis-server is installed (CI installs it in .ci/run)', () => {
        throw new Error('redis-server is not on PATH; under CI these tests must run (apt-get install redis-server).');
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPED "${name}": no redis-server on PATH. Install it (apt-get install redis-server) to run these tests. ***\n`,
  );
  describe.skip(name, body);
}

/** A running redis-server under the test's control. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Kill it at once (SIGKILL): connections drop, nothing is saved. */
  kill(): Promise<void>;
  /** Start it again on the same port (empty, since nothing is persisted). */
  restart(): Promise<void>;
  /** Freeze it (SIGSTOP): connections stay open but nothing answers. */
  freeze(): void;
  /** Thaw a frozen server (SIGCONT). */
  thaw(): void;
  /** Stop it and remove its directory. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function launch(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
    child.once('error', reject);
  });
}

// A child left running when a test process dies would hold its port; kill them all on exit.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Start a redis-server on a free local port with a throwaway directory. */
export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerBinary();
  if (binary === undefined) throw new Error('redis-server is not on PATH');
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // Another process may take the port between our probe and redis's bind: try a few.
  for (let attempt = 0; child === undefined; attempt++) {
    port = freePort();
    try {
      child = await launch(binary, port, dir);
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
  running.add(child);

  const self: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (!child) return;
      const c = child;
      child = undefined;
      c.kill('SIGKILL');
      await exited(c);
      running.delete(c);
    },
    async restart() {
      if (child) throw new Error('restart(): the server is still running');
      // The old socket is gone at once (SIGKILL), but give the kernel a few tries anyway.
      for (let attempt = 0; ; attempt++) {
        try {
          child = await launch(binary, port, dir);
          running.add(child);
          return;
        } catch (err) {
          if (attempt >= 20) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async stop() {
      if (child) {
        const c = child;
        child = undefined;
        c.kill('SIGCONT');
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
        await exited(c);
        clearTimeout(timer);
        running.delete(c);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/**
 * Poll `condition` (every few ms) until it holds; returns how long that took. Throws, naming
 * `what`, after `ms`.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 5000): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - start;
}

/**
 * Disconnect an ioredis client and wait until its connection is closed. A bare `disconnect()`
 * leaves ioredis's 2-second "force close" timer running when the socket does not close at once
 * (e.g. just after the server was killed or restarted), which keeps a Jest worker alive.
 */
export async function disconnectClient(client: {
  status: string;
  disconnect(): void;
  once(event: 'end', listener: () => void): unknown;
}): Promise<void> {
  const before = client.status;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  client.disconnect();
  if (before === 'end') return;
  // Waiting to reconnect after the server died: the dead socket never reports 'close' again,
  // so ioredis's force-close timer (2 s) runs out instead, and no 'end' follows. Outwait it.
  if (before === 'close' || before === 'reconnecting') {
    await new Promise((resolve) => setTimeout(resolve, 2100));
    return;
  }
  await ended;
}
