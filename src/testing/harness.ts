/**
 * What the contract kits share: how they find `describe`/`it`, how a broken rule is reported,
 * and how they look through what an adapter stored.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';

/** `describe` as Jest, Vitest, Mocha and `node:test` all spell it. */
export type DescribeFn = (name: string, body: () => void) => unknown;
/** `it`/`test` as Jest, Vitest, Mocha and `node:test` all spell it: the body returns a promise. */
export type ItFn = (name: string, body: () => Promise<void>) => unknown;

/**
 * Options every kit takes besides its factory: the test framework's functions, when they are
 * not globals (always the case for `node:test`).
 */
export interface KitTestApi {
  /** `describe` to group the kit's tests under. Default: the global `describe` (Jest, Vitest, Mocha). */
  describe?: DescribeFn;
  /** `it` to register each rule as a test. Default: the global `it`. */
  it?: ItFn;
}

/**
 * A broken store contract: thrown by the kits' tests, naming the method at fault and the rule
 * it broke, so a failing test says what to fix without reading the kit's source.
 */
export class StoreContractError extends Error {
  /** The method at fault, e.g. `TokenStore.consume`. */
  readonly method: string;
  /** The rule it broke, e.g. `atomic single use`. */
  readonly rule: string;

  constructor(method: string, rule: string, detail: string) {
    super(`${method} broke "${rule}": ${detail}`);
    this.name = 'StoreContractError';
    this.method = method;
    this.rule = rule;
  }
}

/**
 * The test framework's `describe` and `it`, looked up when a kit is called (never at import
 * time, so importing `tokengate/testing` under `node:test` does not touch Jest's globals).
 */
export function testApi(options: KitTestApi, kit: string): { describe: DescribeFn; it: ItFn } {
  const g = globalThis as { describe?: DescribeFn; it?: ItFn; test?: ItFn };
  const describe = options.describe ?? g.describe;
  const it = options.it ?? g.it ?? g.test;
  if (typeof describe !== 'function' || typeof it !== 'function') {
    throw new Error(
      `${kit}: no describe/it found. Under Jest, Vitest (globals) or Mocha call it from a test file; ` +
        `under node:test pass them: ${kit}(name, { ...harness, describe, it }) with ` +
        `import { describe, it } from 'node:test'.`,
    );
  }
  return { describe, it };
}

/** A rule's checks, bound to the method they are about. */
export interface Rule {
  /** Fail with a {@link StoreContractError} unless `condition` holds. */
  check(condition: unknown, detail: string): void;
  /** The error to throw for this rule (for checks that also narrow a type: `if (!x) throw r.fail(...)`). */
  fail(detail: string): StoreContractError;
  /** Fail unless `actual` deep-equals `expected`, showing both. */
  equal(actual: unknown, expected: unknown, what: string): void;
  /** Run `fn`; if it throws, fail saying the method must not throw here. */
  noThrow<T>(fn: () => Promise<T>, what: string): Promise<T>;
}

/** The checks for one method and rule: `rule('TokenStore.consume', 'atomic single use')`. */
export function rule(method: string, name: string): Rule {
  return {
    check(condition, detail) {
      if (!condition) throw new StoreContractError(method, name, detail);
    },
    fail(detail) {
      return new StoreContractError(method, name, detail);
    },
    equal(actual, expected, what) {
      if (canonical(actual) !== canonical(expected)) {
        throw new StoreContractError(method, name, `${what}: expected ${show(expected)}, got ${show(actual)}`);
      }
    },
    async noThrow(fn, what) {
      try {
        return await fn();
      } catch (err) {
        throw new StoreContractError(
          method,
          name,
          `${what} threw (${err instanceof Error ? err.message : String(err)}); it must resolve instead`,
        );
      }
    },
  };
}

/**
 * A plain copy of an object without its `undefined` fields, for comparing a record as saved
 * with one as found (a field left out and one set to `undefined` mean the same to the library).
 */
export function defined<T extends object>(value: T | undefined): Partial<T> | undefined {
  if (value === undefined || value === null) return value ?? undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    if (v !== undefined) out[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
  return out as Partial<T>;
}

/**
 * A value as data: JSON with object keys sorted and `undefined` fields dropped. Compares what
 * a store gives back with what it was given, whatever realm or class made the arrays.
 */
export function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }) ?? 'undefined'
  );
}

/** A copy of plain data (records, fixtures), so a store cannot share objects with the kit. */
export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A value as it appears in a failure message: compact, depth-limited. */
export function show(value: unknown): string {
  return inspect(value, { depth: 4, breakLength: Infinity, maxStringLength: 120 });
}

/** `make`, called at most once, on first use: the kits create stores lazily, inside a test. */
export function once<T>(make: () => T | Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= Promise.resolve().then(make));
}

/** Unix time in whole seconds, the unit of every time in a store. */
export { nowSeconds } from '../core/clock';

/** Resolve after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `ms` after the given Unix second has begun. */
export async function sleepPast(second: number, ms = 100): Promise<void> {
  const wait = second * 1000 + ms - Date.now();
  if (wait > 0) await sleep(wait);
}

/** A random marker for ids and values, so kit runs never collide in a shared database. */
export function marker(prefix: string): string {
  return `${prefix}-${createHash('sha256')
    .update(String(Math.random()) + process.hrtime.bigint())
    .digest('hex')
    .slice(0, 12)}`;
}

/** Every string a dump holds: strings as they are, bytes decoded every usual way, numbers as text. */
export function dumpStrings(value: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string') {
    out.push(value);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    out.push(String(value));
    return out;
  }
  if (typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof Uint8Array) {
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    out.push(
      buf.toString('utf8'),
      buf.toString('latin1'),
      buf.toString('hex'),
      buf.toString('base64'),
      buf.toString('base64url'),
    );
    return out;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      dumpStrings(k, out, seen);
      dumpStrings(v, out, seen);
    }
    return out;
  }
  if (value instanceof Set || Array.isArray(value)) {
    for (const v of value) dumpStrings(v, out, seen);
    return out;
  }
  if (value instanceof Date) {
    out.push(value.toISOString());
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    out.push(k);
    dumpStrings(v, out, seen);
  }
  return out;
}

/**
 * The forms a secret takes when stored carelessly: as it is (also hex or base64), and, with
 * `withFastHashes`, as an unsalted fast hash (MD5, SHA-1, SHA-256, SHA-512) in hex, base64 or
 * base64url. Passwords must match none of them. Tokens and client secrets are checked without
 * the hashes, because the library itself stores them as one SHA-256 (they are high-entropy).
 */
export function carelessForms(secret: string, withFastHashes: boolean): string[] {
  const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')];
  if (withFastHashes) {
    for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) {
      const digest = createHash(alg).update(secret).digest();
      forms.push(digest.toString('hex'), digest.toString('base64'), digest.toString('base64url'));
    }
  }
  return forms;
}

/** The first careless form of `secret` found in the dump's strings, if any. */
export function findLeak(strings: readonly string[], forms: readonly string[]): string | undefined {
  for (const form of forms) if (strings.some((s) => s.includes(form))) return form;
  return undefined;
}
