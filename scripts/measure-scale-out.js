// Measures what docs/scale-out.md ("Running several instances") reports, on this machine: a
// throwaway redis-server and two instances of examples/redis/server.js (the built package).
//
//   npm run build && node scripts/measure-scale-out.js [rounds]
//
// 1. Revocation latency: a token cached by B is revoked on A; time until B answers 401.
// 2. Redis killed: time until each instance refuses a cached token (503), and how fast the
//    503s come; Redis restarted: time until each instance issues tokens again.
// 3. Redis frozen (SIGSTOP: connections stay open, nothing answers): how long a token request
//    takes to get its 503, and how long B keeps serving a cached token before the heartbeat
//    notices and drops its cache.
// Each instance is polled over HTTP in a tight loop, so every figure includes one request's
// round trip (about 1 ms here) as its resolution.
'use strict';
const { fork, spawn } = require('node:child_process');
const { generateKeyPairSync } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const net = require('node:net');
const { tmpdir, cpus } = require('node:os');
const path = require('node:path');

const ROUNDS = Number(process.argv[2] ?? 200);
const BASIC = `Basic ${Buffer.from('web-app:web-secret').toString('base64')}`;

const freePort = () =>
  new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

function redisServer(port, dir) {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) {
        child.stdout.resume();
        resolve(child);
      }
    });
  });
}

function instance(name, env) {
  const child = fork(path.join(__dirname, '../examples/redis/server.js'), [], {
    env: { ...process.env, ...env, PORT: '0', INSTANCE: name },
    stdio: ['ignore', 'ignore', process.env.VERBOSE ? 'inherit' : 'ignore', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code})`)));
    child.on('message', (m) => m?.type === 'listening' && resolve({ name, url: m.url, child }));
  });
}

async function post(url, fields) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { Authorization: BASIC, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, body: await res.json() };
}
const me = async (inst, token) =>
  (
    await fetch(`${inst.url}/api/me`, { headers: { Authorization: `Bearer ${token}` } }).then(
      async (r) => (await r.arrayBuffer(), r),
    )
  ).status;
const grant = (inst) =>
  post(`${inst.url}/oauth/token`, {
    grant_type: 'password',
    username: 'alice@example.com',
    password: 'wonderland',
    scope: 'read',
  });

async function until(condition, ms = 15_000) {
  const start = performance.now();
  while (!(await condition())) if (performance.now() - start > ms) throw new Error('timed out');
  return performance.now() - start;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tokengate-measure-'));
  const port = await freePort();
  let redis = await redisServer(port, dir);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const env = {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ISSUER: 'https://auth.example.com',
  };
  const [a, b] = await Promise.all([instance('A', env), instance('B', env)]);
  const lines = [`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`];
  try {
    await until(async () => (await grant(a)).status === 200);

    // 1. Revocation latency.
    const afterResponse = [];
    const fromRequest = [];
    for (let i = 0; i < ROUNDS; i++) {
      const { body } = await grant(a);
      if ((await me(b, body.access_token)) !== 200) throw new Error('B refused a fresh token');
      const sent = performance.now();
      await post(`${a.url}/oauth/revoke`, { token: i % 2 ? body.refresh_token : body.access_token });
      const answered = performance.now();
      await until(async () => (await me(b, body.access_token)) === 401, 5000);
      afterResponse.push(performance.now() - answered);
      fromRequest.push(performance.now() - sent);
    }
    lines.push(`revocation on A until B refuses (B had the token cached): from A's 200: ${stats(afterResponse)}`);
    lines.push(`  from sending the revocation to A: ${stats(fromRequest)}`);

    // 2. Redis killed, then restarted.
    const { body: held } = await grant(a);
    await me(b, held.access_token);
    redis.kill('SIGKILL');
    const killed = performance.now();
    const detect = {};
    await Promise.all(
      [a, b].map(
        async (inst) => (detect[inst.name] = await until(async () => (await me(inst, held.access_token)) === 503)),
      ),
    );
    const refusals = [];
    for (let i = 0; i < 100; i++) {
      const inst = i % 2 ? a : b;
      const t = performance.now();
      const r = await post(`${inst.url}/oauth/token`, {
        grant_type: 'refresh_token',
        refresh_token: held.refresh_token,
      });
      if (r.status !== 503) throw new Error(`expected 503, got ${r.status}`);
      refusals.push(performance.now() - t);
    }
    lines.push(
      `Redis killed: cached token refused (503) after A ${detect.A.toFixed(1)} ms, B ${detect.B.toFixed(1)} ms; refresh requests answered 503 in ${stats(refusals)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5000 - (performance.now() - killed))));
    redis = await redisServer(port, dir);
    const restarted = performance.now();
    const back = {};
    await Promise.all(
      [a, b].map(async (inst) => (back[inst.name] = await until(async () => (await grant(inst)).status === 200))),
    );
    lines.push(
      `Redis down ${((restarted - killed) / 1000).toFixed(1)} s, restarted: tokens issued again after A ${back.A.toFixed(0)} ms, B ${back.B.toFixed(0)} ms (retryStrategy capped at 1 s)`,
    );
    const fanout = await until(async () => {
      const { body } = await grant(a);
      if ((await me(b, body.access_token)) !== 200) return false;
      await post(`${a.url}/oauth/revoke`, { token: body.access_token });
      return (
        (await me(b, body.access_token)) === 401 ||
        (await until(async () => (await me(b, body.access_token)) === 401, 3000).then(
          () => true,
          () => false,
        ))
      );
    });
    lines.push(`  revocation fan-out working again ${(back.B + fanout).toFixed(0)} ms after the restart`);

    // 3. Redis frozen.
    const { body: cached } = await grant(a);
    await me(b, cached.access_token);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // let one heartbeat pass
    redis.kill('SIGSTOP');
    const frozen = performance.now();
    let lastServed = 0;
    const [[r, stuck]] = await Promise.all([
      post(`${a.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: cached.refresh_token }).then((res) => [
        res,
        performance.now() - frozen,
      ]),
      // B answers from its cache until the heartbeat notices; the first request after that goes
      // to the frozen Redis and gets its 503 after timeoutMs.
      until(async () => {
        const sent = performance.now();
        if ((await me(b, cached.access_token)) !== 200) return true;
        lastServed = sent - frozen;
        return false;
      }),
    ]);
    lines.push(
      `Redis frozen: a refresh request got ${r.status} after ${stuck.toFixed(0)} ms (timeoutMs 1000); B served its cached token until ${lastServed.toFixed(0)} ms after the freeze, then dropped its cache (bound: heartbeatMs 1000 + timeoutMs 1000)`,
    );
    redis.kill('SIGCONT');
    const thawed = performance.now();
    const recovered = await until(async () => (await grant(b)).status === 200);
    lines.push(
      `  thawed: tokens issued again after ${recovered.toFixed(0)} ms (thaw at ${((thawed - frozen) / 1000).toFixed(1)} s)`,
    );
  } finally {
    for (const inst of [a, b]) inst.child.send({ type: 'stop' });
    redis.kill('SIGCONT');
    redis.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
