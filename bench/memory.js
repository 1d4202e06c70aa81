/**
 * What the `requireToken()` cache costs in memory per cached token: RSS and V8 heap growth
 * of a fresh process when N distinct valid tokens go through a guard whose cache holds N.
 *
 * The tokens are issued (and, for opaque tokens, stored) by a first server before the
 * baseline is taken, and stay referenced until the end, so neither they nor the store count.
 * The measured server (same key, same stores) is created after the baseline: its cache's
 * preallocated slots, LRU index and entries all count — the strict reading of "per cached
 * token". A second pass then checks that every token is answered from the cache (the token
 * store is never asked again), so the figure is for N tokens really in the cache.
 *
 * Usage: `node --expose-gc bench/memory.js <jwt|opaque> [count]`; prints one JSON line.
 * @packageDocumentation
 */
'use strict';
const { generateKeyPairSync } = require('node:crypto');
const { oauthServer, memoryStores } = require('tokengate');
const { CLIENT, quietLogger } = require('./servers/common');

const format = process.argv[2] === 'opaque' ? 'opaque' : 'jwt';
const count = Number(process.argv[3] ?? 100_000);

const gc = /** @type {() => void} */ (global.gc);
if (typeof gc !== 'function') throw new Error('bench/memory.js needs node --expose-gc');

/** Settle the heap: several full collections, with turns of the event loop between. */
async function settle() {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

/**
 * Run a token through the guard as a request would; resolves when the guard calls next,
 * rejects if it answers with an error instead.
 * @param {import('tokengate').Middleware} guard
 * @param {string} token
 */
function present(guard, token) {
  return new Promise((resolve, reject) => {
    const req = { headers: { authorization: `Bearer ${token}` }, method: 'GET', url: '/' };
    const res = {
      headersSent: false,
      setHeader() {},
      end: () => reject(new Error('bench/memory.js: the guard refused a valid token')),
    };
    guard(/** @type {any} */ (req), /** @type {any} */ (res), (err) => (err ? reject(err) : resolve(undefined)));
  });
}

async function main() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const stores = memoryStores({
    clients: [{ id: CLIENT.id, secret: CLIENT.secret, grants: ['client_credentials'], scopes: ['read', 'write'] }],
  });
  const options = {
    issuer: 'http://127.0.0.1',
    keys: [{ kid: 'bench', alg: /** @type {const} */ ('ES256'), privateKey }],
    accessTokenFormat: format,
    logger: quietLogger,
  };
  const issuing = oauthServer(stores, { ...options, cache: { max: 0 } });
  const client = await stores.clients.findClient(CLIENT.id);
  if (!client) throw new Error('bench: the bench client is missing');
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) {
    tokens[i] = (
      await issuing.context.issuer.issue({
        client,
        grantType: 'client_credentials',
        sub: client.id,
        scope: ['read'],
        refreshToken: false,
      })
    ).access_token;
  }

  // Count token-store lookups: validation asks the store (isRevoked for JWTs, find for opaque
  // tokens), a cache hit does not.
  let storeCalls = 0;
  const tokenStore = stores.tokens;
  const find = tokenStore.find.bind(tokenStore);
  const isRevoked = tokenStore.isRevoked.bind(tokenStore);
  tokenStore.find = (kind, id) => (storeCalls++, find(kind, id));
  tokenStore.isRevoked = (ids) => (storeCalls++, isRevoked(ids));

  const before = await settle();
  const measured = oauthServer(stores, { ...options, cache: { max: count } });
  const guard = measured.requireToken({ scope: 'read' });
  for (const token of tokens) await present(guard, token);
  const after = await settle();

  const missesOnFill = storeCalls;
  storeCalls = 0;
  for (const token of tokens) await present(guard, token);
  const missesOnReplay = storeCalls;

  const result = {
    format,
    count,
    rssBytesPerToken: (after.rss - before.rss) / count,
    heapBytesPerToken: (after.heapUsed - before.heapUsed) / count,
    missesOnFill,
    missesOnReplay,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (tokens.length !== count) throw new Error('unreachable: keeps the tokens alive until here');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
