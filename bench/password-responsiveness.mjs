/**
 * Password hashing must not block the event loop (issue 8): while 50 password-grant requests
 * are in flight at all times, how fast does a protected route still answer?
 *
 * The server runs in its own process (the built package, `import 'tokengate'`): tokengate's
 * memory store (scrypt N=16384 on libuv's thread pool) with 50 users, default options
 * (brute-force limits on), a protected route `GET /api/me` (requireToken, JWT) and a bare
 * Express route `GET /bare` as the yardstick. This process drives the load:
 *
 * 1. idle: probe `/api/me` and `/bare` alternately, one request at a time, every 5 ms;
 * 2. load: the same probe while 50 connections each send password grants back to back
 *    (autocannon), so 50 are always in flight.
 *
 * The same run is then repeated against a deliberately wrong server whose user store hashes
 * with `scryptSync` on the event loop, to show what blocking would look like and that this
 * measurement sees it. The server also reports its event-loop delay (perf_hooks).
 *
 * Usage: `npm run bench:password` (builds first), or `node bench/password-responsiveness.mjs
 * [--seconds 15] [--only async|blocking]`. A benchmark, not a test: it prints figures for the
 * README and asserts nothing.
 */
import { fork } from 'node:child_process';
import { scryptSync, timingSafeEqual, randomBytes, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const USERS = 50;
const CONCURRENCY = 50;
const CLIENT = { id: 'bench-web', secret: 'bench-web-secret-0123456789' };
const password = (i) => `password-${i}-correct-horse`;

// ---------------------------------------------------------------------------------------------
// Server role (a child process)

async function server(mode) {
  const { default: express } = await import('express');
  const { oauthServer, memoryStores } = await import('tokengate');
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: `user-${i}`,
    username: `user${i}@example.com`,
    password: password(i),
  }));
  const stores = memoryStores({
    clients: [{ id: CLIENT.id, secret: CLIENT.secret, grants: ['password', 'client_credentials'], scopes: ['read'] }],
    users,
  });
  if (mode === 'blocking') {
    // What tokengate does not do: hash on the event loop.
    const salt = randomBytes(16);
    const hashes = new Map(users.map((u) => [u.username, scryptSync(u.password, salt, 32, { N: 16384, r: 8, p: 1 })]));
    const dummy = scryptSync('dummy', salt, 32, { N: 16384, r: 8, p: 1 });
    stores.users = {
      async authenticate(username, pw) {
        const key = scryptSync(pw, salt, 32, { N: 16384, r: 8, p: 1 });
        const expected = hashes.get(username) ?? dummy;
        const user = users.find((u) => u.username === username);
        return timingSafeEqual(key, expected) && user ? { id: user.id } : undefined;
      },
    };
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const oauth = oauthServer(stores, {
    issuer: 'http://127.0.0.1',
    keys: [{ alg: 'ES256', privateKey }],
    logger: { warn: () => {}, error: (m) => console.error(`[bench server] ${m}`) },
  });
  const app = express();
  app.use(oauth);
  app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => res.json({ sub: req.auth.sub }));
  app.get('/bare', (_req, res) => res.json({ sub: 'bare' }));
  const loop = monitorEventLoopDelay({ resolution: 5 });
  app.post('/stats/reset', (_req, res) => {
    loop.reset();
    loop.enable();
    res.end();
  });
  app.get('/stats', (_req, res) =>
    res.json({ p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }),
  );
  // Warm up the password hashes (they are computed in the background at construction).
  await stores.users.authenticate(users[0].username, users[0].password);
  const srv = http.createServer(app);
  srv.keepAliveTimeout = 60_000;
  srv.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: srv.address().port }));
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Load-generator role (this process)

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function call(port, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: body ? { ...headers, 'Content-Length': Buffer.byteLength(body) } : headers,
        agent,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            body: Buffer.concat(chunks).toString(),
            ms: Number(process.hrtime.bigint() - start) / 1e6,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function grantBody(i) {
  return new URLSearchParams({
    grant_type: 'password',
    username: `user${i}@example.com`,
    password: password(i),
    scope: 'read',
  }).toString();
}

const basicAuth = 'Basic ' + Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64');
const formHeaders = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuth };

/** Probe the protected and the bare route alternately until `until`, one request at a time. */
async function probe(port, token, until) {
  const protectedMs = [];
  const bareMs = [];
  let errors = 0;
  while (Date.now() < until) {
    const me = await call(port, 'GET', '/api/me', { headers: { Authorization: `Bearer ${token}` } });
    if (me.status === 200) protectedMs.push(me.ms);
    else errors++;
    const bare = await call(port, 'GET', '/bare');
    bareMs.push(bare.ms);
    await sleep(5);
  }
  return { protected: summary(protectedMs), bare: summary(bareMs), errors };
}

/** 50 connections sending password grants back to back, each for its own user. */
async function passwordLoad(port, until) {
  const latencies = [];
  const statuses = new Map();
  const loadAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      while (Date.now() < until) {
        const start = process.hrtime.bigint();
        const status = await new Promise((resolve, reject) => {
          const body = grantBody(i % USERS);
          const req = http.request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/oauth/token',
              headers: { ...formHeaders, 'Content-Length': Buffer.byteLength(body) },
              agent: loadAgent,
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  loadAgent.destroy();
  return { grants: summary(latencies), statuses: Object.fromEntries(statuses) };
}

async function run(mode, seconds) {
  const child = fork(fileURLToPath(import.meta.url), ['--server', mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  try {
    const grant = await call(port, 'POST', '/oauth/token', { headers: formHeaders, body: grantBody(0) });
    if (grant.status !== 200) throw new Error(`password grant failed: ${grant.status} ${grant.body}`);
    const token = JSON.parse(grant.body).access_token;

    await call(port, 'POST', '/stats/reset');
    const idle = await probe(port, token, Date.now() + Math.max(3, seconds / 3) * 1000);
    const idleLoop = JSON.parse((await call(port, 'GET', '/stats')).body);

    await call(port, 'POST', '/stats/reset');
    const until = Date.now() + seconds * 1000;
    const started = Date.now();
    const [load, busy] = await Promise.all([
      passwordLoad(port, until),
      sleep(500).then(() => probe(port, token, until)),
    ]);
    const elapsed = (Date.now() - started) / 1000;
    const busyLoop = JSON.parse((await call(port, 'GET', '/stats')).body);
    return { mode, idle, idleLoop, load, busy, busyLoop, grantsPerSecond: load.grants.n / elapsed };
  } finally {
    child.disconnect();
    agent.destroy();
  }
}

const f = (ms) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : '-');

function report(r) {
  console.log(
    `\n== ${r.mode === 'async' ? "tokengate's memory store (async scrypt on the thread pool)" : 'contrast: a user store hashing with scryptSync on the event loop'} ==`,
  );
  console.log(
    `password grants: ${r.load.grants.n} in the run, ${r.grantsPerSecond.toFixed(1)}/s, latency p50 ${f(r.load.grants.p50)} p99 ${f(r.load.grants.p99)}; statuses ${JSON.stringify(r.load.statuses)}`,
  );
  console.log('                         idle p50   idle p99   | under 50 password grants: p50   p99      max');
  const row = (name, idle, busy) =>
    console.log(
      `${name.padEnd(24)} ${f(idle.p50).padStart(8)}   ${f(idle.p99).padStart(8)}   |                          ${f(busy.p50).padStart(8)} ${f(busy.p99).padStart(8)} ${f(busy.max).padStart(9)}   (n=${busy.n})`,
    );
  row('GET /api/me (protected)', r.idle.protected, r.busy.protected);
  row('GET /bare (bare Express)', r.idle.bare, r.busy.bare);
  console.log(`ratio protected/bare p99 under load: ${(r.busy.protected.p99 / r.busy.bare.p99).toFixed(2)}`);
  console.log(
    `server event-loop delay: idle p99 ${f(r.idleLoop.p99)}; under load p99 ${f(r.busyLoop.p99)}, max ${f(r.busyLoop.max)}`,
  );
  if (r.busy.errors || r.idle.errors) console.log(`probe errors: ${r.idle.errors + r.busy.errors}`);
}

const args = process.argv.slice(2);
if (args[0] === '--server') {
  await server(args[1]);
} else {
  const seconds = Number(args[args.indexOf('--seconds') + 1] || 15) || 15;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const { cpus } = await import('node:os');
  console.log(
    `password responsiveness: ${CONCURRENCY} concurrent password grants for ${seconds} s; Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
  );
  for (const mode of ['async', 'blocking']) {
    if (only && only !== mode) continue;
    report(await run(mode, seconds));
  }
}
