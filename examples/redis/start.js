// One command for a scaled-out demo: a throwaway redis-server (unless REDIS_URL is set) and
// two app instances (separate processes) sharing it and one signing key. Prints curl lines
// that show a token from A working on B and a revocation on A reaching B. Ctrl-C stops all.
//
//   npm run example:redis            (builds tokengate first)
//   PORT_A=4001 PORT_B=4002 node examples/redis/start.js
'use strict';
const { fork, spawn } = require('node:child_process');
const { generateKeyPairSync } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const path = require('node:path');

const PORT_A = Number(process.env.PORT_A ?? 3001);
const PORT_B = Number(process.env.PORT_B ?? 3002);

function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// redis-server on a free port, no persistence, in a temporary directory removed at the end.
async function startRedis() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tokengate-example-redis-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((resolve, reject) => {
    let out = '';
    child.on('error', (err) =>
      reject(
        new Error(
          `could not start redis-server (${err.message}); install it (apt-get install redis-server, brew install redis) or set REDIS_URL`,
        ),
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  child.stdout.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function startInstance(name, port, env) {
  const child = fork(path.join(__dirname, 'server.js'), [], {
    env: { ...process.env, ...env, PORT: String(port), INSTANCE: name },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code})`)));
    child.on('message', (m) => m?.type === 'listening' && resolve({ name, url: m.url, child }));
  });
}

async function main() {
  const redis = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop() {} } : await startRedis();
  // One key for both instances: either can verify what the other signed. A real deployment
  // loads its key from a secret store instead of generating one at start.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const env = {
    REDIS_URL: redis.url,
    SIGNING_KEY: process.env.SIGNING_KEY ?? privateKey.export({ type: 'pkcs8', format: 'pem' }),
    // The public URL clients use (your load balancer's); here, instance A's.
    ISSUER: process.env.ISSUER ?? `http://localhost${PORT_A ? `:${PORT_A}` : ''}`,
  };
  let instances = [];
  const stop = () => {
    for (const { child } of instances) if (child.connected) child.send({ type: 'stop' });
    redis.stop();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    instances = await Promise.all([startInstance('A', PORT_A, env), startInstance('B', PORT_B, env)]);
  } catch (err) {
    redis.stop();
    throw err;
  }
  const [a, b] = instances;
  console.log(`Redis:      ${redis.url}
Instance A: ${a.url}
Instance B: ${b.url}

Get a token from A (put access_token in TOKEN, refresh_token in REFRESH):
  curl -X POST ${a.url}/oauth/token -u web-app:web-secret -d grant_type=password -d username=alice@example.com -d password=wonderland -d scope=read

Use it on B:
  curl ${b.url}/api/me -H "Authorization: Bearer $TOKEN"

Refresh it on B:
  curl -X POST ${b.url}/oauth/token -u web-app:web-secret -d grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH"

Revoke it on A, then see B refuse it:
  curl -X POST ${a.url}/oauth/revoke -u web-app:web-secret --data-urlencode "token=$TOKEN"
  curl -i ${b.url}/api/me -H "Authorization: Bearer $TOKEN"

Ctrl-C stops both instances and Redis.`);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
