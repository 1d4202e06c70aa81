/**
 * Installed for every test file (jest.config.js `setupFilesAfterEnv`): the file ends only once
 * the scrypt work it started has finished.
 *
 * `memoryStores({ users })` hashes every password with async scrypt at construction, on libuv's
 * thread pool (so start-up is not blocked and no plain value is kept). A test that builds such
 * stores and ends at once leaves that work running; a Jest worker cannot exit until it is done,
 * and when it is still busy 500 ms after its last file Jest force-exits it and prints "A worker
 * process has failed to exit gracefully". Waiting for it here keeps that work inside the file
 * that started it.
 */
import crypto from 'node:crypto';

const STATE = Symbol.for('tokengate.test.scrypt');

interface Pending {
  running: number;
  idle: (() => void)[];
}

type Scrypt = (...args: unknown[]) => void;

// Core modules are shared by every test file of a worker, so patch once per process. The
// compiled source copies `node:crypto`'s functions when a file first loads it, and each test
// file loads the source afresh after this setup file ran, so it copies the patched function.
// (So no setup file listed before this one may import the source.) afterAll hooks run in the
// order they are declared: scrypt that a test file starts in its own afterAll is not awaited.
const pending = ((crypto as unknown as Record<symbol, Pending>)[STATE] ??= (() => {
  const state: Pending = { running: 0, idle: [] };
  const scrypt = crypto.scrypt as unknown as Scrypt;
  const done = (): void => {
    state.running--;
    if (state.running === 0) state.idle.splice(0).forEach((resolve) => resolve());
  };
  (crypto as unknown as { scrypt: Scrypt }).scrypt = function (...args: unknown[]) {
    // A call without a callback is Node's to refuse, synchronously.
    if (typeof args.at(-1) !== 'function') return scrypt(...args);
    const callback = args.pop() as (...results: unknown[]) => void;
    state.running++;
    try {
      scrypt(...args, (...results: unknown[]) => {
        done();
        callback(...results);
      });
    } catch (err) {
      done();
      throw err;
    }
  };
  return state;
})());

afterAll(() => (pending.running === 0 ? undefined : new Promise<void>((resolve) => pending.idle.push(resolve))));
