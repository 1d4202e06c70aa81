/**
 * Installed for every test file (jest.config.js `setupFilesAfterEnv`): watches every HTTP
 * exchange any server in the test process answers, everything written to the console, and
 * every log line a tokengate server emits (the `tokengate:log` diagnostics channel, whatever
 * logger the test configured), and fails the file in `afterAll` if a secret, token or stack
 * trace showed up where it must not (rules in ./hygiene.ts).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import util from 'node:util';
import { HygieneCollector } from './hygiene';

const LIMIT = 256 * 1024;
const STATE = Symbol.for('tokengate.test.hygiene');
const REQ_BODY = Symbol.for('tokengate.test.requestBody');
const RES_BODY = Symbol.for('tokengate.test.responseBody');

interface Shared {
  collector: HygieneCollector | undefined;
}
type Chunks = { parts: Buffer[]; size: number };

function keep(target: Record<symbol, unknown>, key: symbol, chunk: unknown, encoding?: unknown): void {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
  const store = (target[key] ??= { parts: [], size: 0 }) as Chunks;
  if (store.size >= LIMIT) return;
  const buf = Buffer.isBuffer(chunk)
    ? chunk
    : chunk instanceof Uint8Array
      ? Buffer.from(chunk)
      : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  store.parts.push(buf);
  store.size += buf.length;
}

function text(target: Record<symbol, unknown>, key: symbol): string {
  const store = target[key] as Chunks | undefined;
  return store ? Buffer.concat(store.parts).toString('latin1') : '';
}

// Core modules are shared by every test file of a worker: patch once, and point the patches
// at the current file's collector.
const shared = ((http as unknown as Record<symbol, Shared>)[STATE] ??= (() => {
  const state: Shared = { collector: undefined };
  const incoming = http.IncomingMessage.prototype as unknown as {
    push: (chunk: unknown, encoding?: unknown) => boolean;
  } & Record<symbol, unknown>;
  const push = incoming.push;
  incoming.push = function (this: http.IncomingMessage & Record<symbol, unknown>, chunk: unknown, encoding?: unknown) {
    // Server side only: a request has a method; a client's response does not.
    if (state.collector && typeof this.method === 'string') keep(this, REQ_BODY, chunk, encoding);
    return push.call(this, chunk, encoding);
  };
  const outgoing = http.ServerResponse.prototype as unknown as {
    write: (...args: unknown[]) => boolean;
    end: (...args: unknown[]) => unknown;
  };
  const write = outgoing.write;
  const end = outgoing.end;
  outgoing.write = function (this: http.ServerResponse & Record<symbol, unknown>, ...args: unknown[]) {
    if (state.collector) keep(this, RES_BODY, args[0], args[1]);
    return write.apply(this, args);
  };
  outgoing.end = function (
    this: http.ServerResponse & Record<symbol, unknown> & { _header?: string },
    ...args: unknown[]
  ) {
    const collector = state.collector;
    if (collector) keep(this, RES_BODY, args[0], args[1]);
    const result = end.apply(this, args);
    const req = this.req as (http.IncomingMessage & Record<symbol, unknown>) | undefined;
    if (collector && req) {
      collector.exchange({
        method: req.method ?? '',
        url: req.url ?? '',
        requestHeaders: req.headers,
        requestBody: Buffer.concat(((req[REQ_BODY] as Chunks | undefined)?.parts ?? []) as Buffer[]).toString('utf8'),
        status: this.statusCode,
        responseHead: typeof this._header === 'string' ? this._header : '',
        responseBody: text(this, RES_BODY),
      });
    }
    return result;
  };
  return state;
})());

const collector = new HygieneCollector();
shared.collector = collector;

const onLog = (message: unknown): void => {
  const {
    level,
    message: line,
    detail,
    fields,
  } = message as {
    level: string;
    message: string;
    detail: unknown;
    fields?: unknown;
  };
  const extra = [detail, fields].filter((v) => v !== undefined).map((v) => util.inspect(v, { depth: 4 }));
  collector.log(`logger.${level}`, `${line} ${extra.join(' ')}`, false);
};
diagnosticsChannel.subscribe('tokengate:log', onLog);

for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[method];
  console[method] = (...args: unknown[]) => {
    const line = util.format(...args);
    collector.log(`console.${method}`, line, line.startsWith('[tokengate]'));
    original.apply(console, args);
  };
}

afterAll(() => {
  diagnosticsChannel.unsubscribe('tokengate:log', onLog);
  if (shared.collector === collector) shared.collector = undefined;
  const violations = collector.finish();
  if (violations.length > 0) {
    throw new Error(
      `Secret hygiene (test/support/hygiene.ts): ${violations.length} violation(s) in this file:\n- ${violations.join('\n- ')}`,
    );
  }
});
