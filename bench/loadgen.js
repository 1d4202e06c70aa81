/**
 * The load generator: one long-lived process (pinned to its own core by the harness) that
 * runs autocannon against one contender per `run` message and answers with the slice's
 * figures. Keeping it alive across slices keeps its JIT warm, so it costs the same in every
 * slice.
 *
 * Per slice: a warm-up run (discarded), then the measured run, bracketed by readings of the
 * server's CPU time from `/proc/<pid>/stat` (no request to the server, so measuring costs it
 * nothing). Latencies are collected from autocannon's per-response event as exact
 * microseconds: its own histogram records whole milliseconds, too coarse for ~1 ms latencies.
 * @packageDocumentation
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const autocannon = require('autocannon');
const { dpopHeaders } = require('./servers/common');

/**
 * What to send. `tokens.order` says how a pool of tokens is used:
 * - `per-connection`: each connection cycles through the pool on its own (tokens repeat:
 *   right for cache hits, and the request buffers are built once);
 * - `global-cycle`: one round-robin shared by all connections, so a token comes back only
 *   after the whole pool has been presented (cache misses);
 * - `global-once`: like `global-cycle` but never wrapping (single-use refresh tokens); past
 *   the end a request carries an unusable token, fails, and the slice is reported invalid.
 * @typedef {{ file: string, as: 'bearer' | 'refresh' | 'dpop', order: 'per-connection' | 'global-cycle' | 'global-once' }} TokenSpec
 * @typedef {{ method: 'GET' | 'POST', path: string, headers?: Record<string, string>, body?: string, tokens?: TokenSpec }} RequestSpec
 * @typedef {{ type: 'run', id: number, port: number, serverPid: number, request: RequestSpec,
 *   connections: number, warmupSeconds: number, durationSeconds: number }} RunMessage
 */

const EXHAUSTED = 'pool-exhausted';
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** @type {Map<string, string[]>} */
const poolCache = new Map();
/**
 * The tokens of a pool file. Reusable pools are kept (read once per run); single-use pools
 * are fresh files every slice and are not.
 * @param {string} file
 * @param {boolean} keep
 */
function readPool(file, keep) {
  let pool = poolCache.get(file);
  if (!pool) {
    pool = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((t) => t !== '');
    if (keep) poolCache.set(file, pool);
  }
  return pool;
}

/**
 * The server's user+system CPU time in microseconds, all threads; `undefined` where there
 * is no `/proc` (the table then shows n/a).
 * @param {number} pid
 */
function serverCpuMicros(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** @param {number} pid */
function serverRssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where each `global-cycle` pool's round-robin stands, across slices: a slice continues
 * where the last one stopped, so a token comes back only after the whole pool has been
 * presented (restarting at the first token would make the start of every slice cache hits).
 * @type {Map<string, number>}
 */
const cyclePosition = new Map();

/**
 * One request builder per token use; the shared counter of the global orders lives in
 * `state`, so warm-up and measured run of a slice never present the same single-use token.
 * @param {RequestSpec} spec
 * @param {{ next: number }} state
 */
function autocannonRequests(spec, state) {
  const base = { method: spec.method, path: spec.path, headers: { ...spec.headers } };
  if (spec.body !== undefined) base.body = spec.body;
  const tokens = spec.tokens;
  if (!tokens) return [base];
  const pool = readPool(tokens.file, tokens.order !== 'global-once');
  /** @param {string} token */
  const apply = (token) =>
    tokens.as === 'bearer'
      ? { ...base, headers: { ...base.headers, authorization: `Bearer ${token}` } }
      : tokens.as === 'dpop'
        ? { ...base, headers: { ...base.headers, ...dpopHeaders(token) } }
        : { ...base, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}` };
  if (tokens.order === 'per-connection') return pool.map(apply);
  const take = () => {
    const i = state.next++;
    if (i < pool.length) return /** @type {string} */ (pool[i]);
    return tokens.order === 'global-cycle' ? /** @type {string} */ (pool[i % pool.length]) : EXHAUSTED;
  };
  return [{ ...base, setupRequest: (/** @type {object} */ req) => ({ ...req, ...apply(take()) }) }];
}

/**
 * Run autocannon once; resolve with its result and the exact latencies of 2xx responses.
 * @param {RunMessage} msg
 * @param {number} seconds
 * @param {{ next: number }} state
 */
function cannon(msg, seconds, state) {
  return new Promise((resolve, reject) => {
    /** @type {number[]} */
    const latencies = [];
    let started = process.hrtime.bigint();
    let ownCpu = process.cpuUsage();
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${msg.port}`,
        connections: msg.connections,
        pipelining: 1,
        duration: seconds,
        // autocannon checks for the end of the run once per sample; its default of 1 s
        // would stretch every slice to a whole number of seconds.
        sampleInt: 50,
        timeout: 10,
        requests: autocannonRequests(msg.request, state),
      },
      (err, result) => {
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        const own = process.cpuUsage(ownCpu);
        if (err) reject(err);
        else resolve({ result, latencies, elapsed, ownCpuSeconds: (own.user + own.system) / 1e6 });
      },
    );
    // The clock starts once the clients are built (a 1 000-token pool takes a while to turn
    // into request buffers), when the first requests go out.
    instance.on('start', () => {
      started = process.hrtime.bigint();
      ownCpu = process.cpuUsage();
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** @param {number[]} sorted @param {number} q */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** @param {RunMessage} msg */
async function runSlice(msg) {
  const tokens = msg.request.tokens;
  const cycling = tokens?.order === 'global-cycle' ? tokens.file : undefined;
  const state = { next: cycling === undefined ? 0 : (cyclePosition.get(cycling) ?? 0) };
  const startedAt = state.next;
  if (msg.warmupSeconds > 0) await cannon(msg, msg.warmupSeconds, state);
  const cpuBefore = serverCpuMicros(msg.serverPid);
  const { result, latencies, elapsed, ownCpuSeconds } = await cannon(msg, msg.durationSeconds, state);
  const cpuAfter = serverCpuMicros(msg.serverPid);
  if (cycling !== undefined) cyclePosition.set(cycling, state.next % readPool(cycling, true).length);
  const ok = result['2xx'];
  latencies.sort((a, b) => a - b);
  return {
    // Completed 2xx responses over the measured wall time (autocannon's own per-second
    // average drops the partial last second).
    rps: ok / elapsed,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    serverCpuUsPerReq:
      cpuBefore === undefined || cpuAfter === undefined || ok === 0 ? null : (cpuAfter - cpuBefore) / ok,
    serverRssBytes: serverRssBytes(msg.serverPid) ?? null,
    // Share of one core the load generator used: near 1 means it, not the server, was the limit.
    loadgenCpu: ownCpuSeconds / elapsed,
    tokensUsed: state.next - startedAt,
  };
}

process.on('message', (/** @type {RunMessage} */ msg) => {
  if (!msg || msg.type !== 'run') return;
  runSlice(msg).then(
    (slice) => process.send?.({ type: 'result', id: msg.id, slice }),
    (err) => process.send?.({ type: 'result', id: msg.id, error: String(err && err.stack ? err.stack : err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
