/**
 * What the memory token store costs per live record, and what a big store does to garbage
 * collection for everyone else in the process.
 *
 * 1. Heap per record: a fresh process saves N refresh-token records exactly as the grants
 *    save them (hashed id, a family of its own, client, user, scope, times) and reports the
 *    growth of V8's heap plus array buffers (where a compact store keeps its columns) after
 *    full collections, per record and per million records.
 * 2. GC under load: with the store holding N records, a loop allocates what a request does
 *    (short-lived objects, some surviving a scavenge) for a fixed number of iterations and
 *    reports the CPU time it took and the scavenge / mark-compact pauses V8 reports with `--trace-gc`.
 *    Run for 1 000 and 1 000 000 records, the ratio of the two loop times is the store's
 *    effect on everything else (the same question as the bench's growth row, without HTTP).
 *
 * Usage: `node --expose-gc --trace-gc bench/store-memory.js [records]`; prints one JSON line
 * (the last line of stdout; the --trace-gc lines come before it).
 * @packageDocumentation
 */
'use strict';
const { randomBytes } = require('node:crypto');
const { memoryTokenStore, hashToken } = require('tokengate');

const count = Number(process.argv[2] ?? 1_000_000);
const gc = /** @type {() => void} */ (global.gc);
if (typeof gc !== 'function') throw new Error('bench/store-memory.js needs node --expose-gc');

async function settle() {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Allocation like a request's: a few objects and strings, a share kept a little longer. */
function requestLikeLoad(iterations) {
  const kept = new Array(256);
  let sink = 0;
  // CPU time, not wall time: on a shared machine the process may wait for a core.
  const started = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const headers = { authorization: `Bearer ${i}`, host: '127.0.0.1', 'user-agent': 'bench' };
    const auth = { sub: 'user', scope: ['read'], claims: { i, headers } };
    kept[i & 255] = auth;
    sink += auth.scope.length + JSON.stringify(headers).length;
  }
  const used = process.cpuUsage(started);
  return { ms: (used.user + used.system) / 1000, sink, kept: kept.length };
}

async function main() {
  const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
  const before = await settle();
  const store = memoryTokenStore();
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) {
    const user = /** @type {string} */ (users[i % users.length]);
    await store.save({
      kind: 'refresh_token',
      id: hashToken(randomBytes(32).toString('base64url')),
      familyId: randomBytes(16).toString('base64url'),
      clientId: 'bench-client',
      sub: user,
      userId: user,
      scope: ['read', 'write'],
      issuedAt: now,
      expiresAt: now + 14 * 24 * 3600,
    });
  }
  const after = await settle();
  process.stdout.write('--- load ---\n');
  requestLikeLoad(500_000); // warm-up
  const load = requestLikeLoad(3_000_000);
  const result = {
    records: count,
    bytesPerRecord: (after - before) / count,
    // Decimal megabytes (10^6 bytes) per million records, i.e. bytes per record.
    mbPerMillion: (after - before) / count,
    loadMs: load.ms,
    size: store.size(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
