/**
 * Runs `auth-server-process.ts` as a separate Node process and talks to it over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { KeyInput } from '../../src';

/** A handle on the authorization server process. */
export interface AuthServerProcess {
  /** The JWT issuer (root); the opaque one is `${issuer}/opaque`. */
  issuer: string;
  /** Redeploy the JWT issuer with other keys (same URL and stores). */
  rotate(keys: KeyInput[]): Promise<void>;
  /** Requests seen so far, by path. */
  hits(): Promise<Record<string, number>>;
  /** Stop the process (the issuer becomes unreachable). */
  stop(): Promise<void>;
}

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }): void => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`the authorization server process exited (${code}) before "${type}"`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Start the authorization server process with these initial JWT signing keys. */
export async function startAuthServerProcess(keys: KeyInput[]): Promise<AuthServerProcess> {
  const child = fork(path.join(__dirname, 'auth-server-process.ts'), [], {
    execArgv: ['--require', path.join(__dirname, 'register-ts.js')],
    env: { ...process.env, TOKENGATE_TEST_KEYS: JSON.stringify(keys) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { issuer } = await next<{ issuer: string }>(child, 'ready');
  let stopped = false;
  return {
    issuer,
    async rotate(newKeys) {
      const done = next(child, 'rotated');
      child.send({ type: 'rotate', keys: newKeys });
      await done;
    },
    async hits() {
      const reply = next<{ hits: Record<string, number> }>(child, 'stats');
      child.send({ type: 'stats' });
      return (await reply).hits;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
}
