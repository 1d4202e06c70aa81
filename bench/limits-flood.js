/**
 * What a flood of malformed password requests costs the brute-force limits (issue #11 item 4):
 * N requests over HTTP (keep-alive, 32 in flight) that name a new username each but carry no
 * password, or a scope the client may not have; then the limiter entries left and the V8 heap
 * growth of the process after full collections. A last pass sends N wrong passwords spread
 * over addresses, for the cost of the entries real failures do leave.
 *
 * Usage: `node --expose-gc bench/limits-flood.js [count]` (default 200 000); prints JSON lines.
 * @packageDocumentation
 */
'use strict';
const http = require('node:http');
const { RateLimiterMemory } = require('rate-limiter-flexible');
const { oauthServer, memoryStores } = require('tokengate');

const count = Number(process.argv[2] ?? 200_000);
const gc = /** @type {() => void} */ (global.gc);
if (typeof gc !== 'function') throw new Error('bench/limits-flood.js needs node --expose-gc');

async function settle() {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function main() {
  const limiters = [];
  const oauth = oauthServer(
    {
      clients: memoryStores({ clients: [{ id: 'app', secret: 'app-secret', grants: ['password'], scopes: ['read'] }] })
        .clients,
      // A user store that answers at once: this measures the limits, not scrypt.
      users: { authenticate: async () => undefined },
    },
    {
      issuer: 'http://localhost',
      logger: { warn() {}, error() {} },
      bruteForce: {
        remoteAddress: (req) => req.headers['x-bench-address'],
        // High limits: every request reaches the point where the old code reserved an entry.
        username: { points: 1e9 },
        address: { points: 1e9 },
        createLimiter: (config) => {
          const limiter = new RateLimiterMemory(config);
          limiters.push(limiter);
          return limiter;
        },
      },
    },
  );
  const server = http.createServer((req, res) => oauth(req, res, () => res.end()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const auth = 'Basic ' + Buffer.from('app:app-secret').toString('base64');
  const post = (fields, address) =>
    new Promise((resolve, reject) => {
      const body = new URLSearchParams(fields).toString();
      const req = http.request({
        port,
        host: '127.0.0.1',
        path: '/oauth/token',
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          Authorization: auth,
          'X-Bench-Address': address,
        },
      });
      req.on('response', (res) => (res.resume(), res.on('end', () => resolve(res.statusCode))));
      req.on('error', reject);
      req.end(body);
    });
  const entries = () => limiters.reduce((n, l) => n + l._memoryStorage._storage.size, 0);

  async function run(name, make) {
    const before = await settle();
    const started = Date.now();
    const statuses = {};
    for (let i = 0; i < count; i += 32) {
      const batch = await Promise.all(Array.from({ length: Math.min(32, count - i) }, (_, j) => post(...make(i + j))));
      for (const s of batch) statuses[s] = (statuses[s] ?? 0) + 1;
    }
    const seconds = (Date.now() - started) / 1000;
    const after = await settle();
    console.log(
      JSON.stringify({
        flood: name,
        requests: count,
        seconds,
        statuses,
        limiterEntries: entries(),
        heapGrowthMB: +((after - before) / 1048576).toFixed(1),
      }),
    );
  }

  await run('password grant without a password, a new username each', (i) => [
    { grant_type: 'password', username: `flood-${i}@example.com` },
    `10.0.${(i >> 8) & 255}.${i & 255}`,
  ]);
  await run('password grant with a scope the client may not have', (i) => [
    { grant_type: 'password', username: `scope-${i}@example.com`, password: 'x', scope: 'admin' },
    `10.1.${(i >> 8) & 255}.${i & 255}`,
  ]);
  await run('wrong passwords (real failures), a new username each, 65 536 addresses', (i) => [
    { grant_type: 'password', username: `wrong-${i}@example.com`, password: 'x' },
    `10.2.${(i >> 8) & 255}.${i & 255}`,
  ]);
  agent.destroy();
  server.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
