/**
 * A Node script (an example's server, a client fixture) run in a child process, as a user runs
 * it. Its output is collected; `waitFor` fails with that output instead of hanging when the
 * script never prints what a test waits for, and `stop` returns only once the child is gone, so
 * no test leaves a process (and the pipes that keep a Jest worker alive) behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordMeasurement } from './measurements';

const ROOT = join(__dirname, '..', '..');

/**
 * Rarely (about one start in a few hundred, in full runs on a loaded machine), a Node child
 * started from a Jest worker prints nothing at all and sits with its main thread in a futex
 * wait; the cause is not known. A start that is silent this long is recorded in
 * `test-output/measurements/script-process.log` with the process's state, killed, and started
 * once more. Every script here prints within a second or two when it works.
 */
const SILENT_START_MS = 10_000;

/** A running script. */
export interface ScriptProcess {
  /** The running process (a new one if a silent start was retried). */
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

interface Run {
  child: ChildProcess;
  /** The process exited and its pipes are drained and closed, or it could not be started. */
  gone: Promise<void>;
  closed: boolean;
  failed?: Error;
}

/** On Linux, what the process is doing: its command line, state and each thread's wait channel. */
function processState(pid: number | undefined): string {
  try {
    const proc = `/proc/${pid}`;
    const status = readFileSync(`${proc}/status`, 'utf8');
    const command = readFileSync(`${proc}/cmdline`, 'utf8').split('\0').join(' ').trim();
    const threads = readdirSync(`${proc}/task`).map(
      (id) =>
        `${readFileSync(`${proc}/task/${id}/comm`, 'utf8').trim()}:${readFileSync(`${proc}/task/${id}/wchan`, 'utf8') || '-'}`,
    );
    return `pid ${pid} (${command}) ${/^State:\s*(.*)$/m.exec(status)?.[1] ?? '?'}, threads ${threads.join(' ')}`;
  } catch {
    return `pid ${pid}`;
  }
}

/** Starts `node <script> ...args` from the repository root, with `env` added to this process's environment. */
export function startScript(
  script: string,
  env: Record<string, string | undefined> = {},
  args: string[] = [],
): ScriptProcess {
  let out = '';
  let err = '';
  let stopping = false;
  const launch = (): Run => {
    // Its own process group, so that a SIGKILL reaches what the script started too (the Redis
    // example's redis-server and instances): they hold copies of its pipes, which would keep
    // 'close' from ever coming.
    const child = spawn(process.execPath, [join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const run = { child, closed: false } as Run;
    // Only the current run's output counts: a run killed for a silent start prints no more.
    child.stdout.on('data', (chunk: Buffer) => current() === run && (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => current() === run && (err += chunk.toString()));
    run.gone = new Promise<void>((resolve) => {
      const end = (): void => {
        run.closed = true;
        resolve();
      };
      child.once('close', end);
      // A process that could not be started says so with 'error', and may never 'close'.
      child.once('error', (error) => {
        run.failed = error;
        if (child.pid === undefined) end();
      });
      // Exited, but something it left behind still holds its pipes: stop reading them.
      child.once('exit', () => {
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, 2000).unref();
      });
    });
    return run;
  };
  const killGroup = (run: Run): void => {
    try {
      if (run.child.pid !== undefined) process.kill(-run.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const runs = [launch()];
  const current = (): Run => runs[runs.length - 1] as Run;
  const printed = (): string => `${processState(current().child.pid)}; stdout:\n${out}\nstderr:\n${err}`;

  return {
    get child() {
      return current().child;
    },
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 20_000) {
      const started = Date.now();
      return new Promise((resolve, reject) => {
        const poll = setInterval(() => {
          const match = pattern.exec(out);
          const run = current();
          const waited = Date.now() - started;
          if (match) {
            clearInterval(poll);
            resolve(match);
          } else if (run.closed) {
            clearInterval(poll);
            const how = run.failed?.message ?? run.child.signalCode ?? run.child.exitCode;
            reject(new Error(`${script} exited (${how}) before printing ${pattern}; ${printed()}`));
          } else if (waited > SILENT_START_MS && out === '' && err === '' && runs.length === 1 && !stopping) {
            recordMeasurement(
              'script-process',
              `${script} printed nothing in ${waited} ms, started again: ${printed()}`,
            );
            killGroup(run);
            runs.push(launch());
          } else if (waited > timeoutMs) {
            clearInterval(poll);
            reject(new Error(`${script} did not print ${pattern} within ${timeoutMs} ms; ${printed()}`));
          }
        }, 20);
      });
    },
    async stop(signal = 'SIGTERM') {
      stopping = true;
      const run = current();
      // SIGTERM to the script alone, which stops what it started itself (a test checks that);
      // SIGKILL, now or as the fallback after 5 s, to its whole process group.
      if (signal === 'SIGKILL') killGroup(run);
      else if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      const force = setTimeout(() => killGroup(run), 5000);
      await Promise.all(runs.map((r) => r.gone));
      clearTimeout(force);
    },
  };
}
