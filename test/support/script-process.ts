/**
 * A Node script (an example's server, a client fixture) run in a child process, as a user runs
 * it. Its output is collected; `waitFor` fails with that output instead of hanging when the
 * script never prints what a test waits for, and `stop` returns only once the child is gone, so
 * no test leaves a process (and the pipes that keep a Jest worker alive) behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A running script. */
export interface ScriptProcess {
  readonly child: ChildProcess;
  /** What it printed so far on stdout. */
  stdout(): string;
  /** What it printed so far on stderr. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in its stdout; rejects if it exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` (SIGKILL after 5 s if it is still running) and resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node <script> ...args` from the repository root, with `env` added to this process's environment. */
export function startScript(
  script: string,
  env: Record<string, string | undefined> = {},
  args: string[] = [],
): ScriptProcess {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  // 'close': the process has exited and its pipes are drained and closed. One that could not be
  // started says so with 'error', and may never 'close'.
  let closed = false;
  let failed: Error | undefined;
  const gone = new Promise<void>((resolve) => {
    child.once('close', () => {
      closed = true;
      resolve();
    });
    child.once('error', (error) => {
      failed = error;
      if (child.pid === undefined) {
        closed = true;
        resolve();
      }
    });
  });
  // On Linux, what the process is doing (running, sleeping, stopped) helps read a hang.
  const state = (): string => {
    try {
      const proc = `/proc/${child.pid}`;
      const status = readFileSync(`${proc}/status`, 'utf8');
      const command = readFileSync(`${proc}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const threads = readdirSync(`${proc}/task`).map(
        (id) =>
          `${readFileSync(`${proc}/task/${id}/comm`, 'utf8').trim()}:${readFileSync(`${proc}/task/${id}/wchan`, 'utf8') || '-'}`,
      );
      return `pid ${child.pid} (${command}) ${/^State:\s*(.*)$/m.exec(status)?.[1] ?? '?'}, threads ${threads.join(' ')}`;
    } catch {
      return `pid ${child.pid}`;
    }
  };
  const printed = (): string => `${state()}; stdout:\n${out}\nstderr:\n${err}`;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('close', onClose);
          child.off('error', onClose);
        };
        const check = (): void => {
          const match = pattern.exec(out);
          if (match) {
            done();
            resolve(match);
          }
        };
        const onClose = (): void => {
          done();
          const how = failed?.message ?? child.signalCode ?? child.exitCode;
          reject(new Error(`${script} exited (${how}) before printing ${pattern}; ${printed()}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${script} did not print ${pattern} within ${timeoutMs} ms; ${printed()}`));
        }, timeoutMs);
        child.stdout.on('data', check);
        child.once('close', onClose);
        child.once('error', onClose);
        check();
        if (closed) onClose();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(force);
    },
  };
}
