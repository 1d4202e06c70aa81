/**
 * What OpenID Connect adds to the token endpoint: the code exchange with and without the
 * `openid` scope (one ID token signed per exchange), RS256 (the default, OIDC Core §15.1)
 * against ES256 (a client's `idTokenSignedResponseAlg`), and the bare signing cost.
 *
 * One server per variant in this process (the built package), a keep-alive HTTP client, one
 * exchange at a time: authorize (not timed), then the timed token request. Variants are
 * interleaved round by round so a busy machine slows them alike; medians are reported.
 *
 * Usage: `npm run bench:oidc` (builds first), or `node bench/id-token.mjs [--rounds 5] [--n 200]`.
 * A benchmark, not a test: it prints figures for docs/openid-connect.md and asserts nothing.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { memoryStores, oauthServer } from '../dist/esm/index.mjs';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, n: { type: 'string', default: '200' } },
});
const ROUNDS = Number(values.rounds);
const N = Number(values.n);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const REDIRECT = 'https://rp.example/cb';
const SECRET = 'bench-rp-secret';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function start(openid) {
  const clients = [
    { id: 'rp', secret: SECRET, grants: ['authorization_code'], scopes: ['openid', 'read'], redirectUris: [REDIRECT] },
    {
      id: 'rp-es',
      secret: SECRET,
      grants: ['authorization_code'],
      scopes: ['openid', 'read'],
      redirectUris: [REDIRECT],
      idTokenSignedResponseAlg: 'ES256',
    },
  ];
  const oauth = oauthServer(memoryStores({ clients }), {
    issuer: 'http://127.0.0.1',
    keys: [
      { alg: 'ES256', privateKey: ec },
      { alg: 'RS256', privateKey: rsa },
    ],
    bruteForce: false,
    logger: { warn() {}, error: (m, d) => console.error(m, d) },
    authorize: { authenticate: () => ({ user: { id: 'user-1' }, authTime: Math.floor(Date.now() / 1000) }) },
    ...(openid && { openid: {} }),
  });
  const server = http.createServer((req, res) => oauth(req, res, () => ((res.statusCode = 404), res.end())));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

async function exchanges(base, clientId, scope, n) {
  const basic = 'Basic ' + Buffer.from(`${clientId}:${SECRET}`).toString('base64');
  const times = [];
  for (let i = 0; i < n; i++) {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope,
      nonce: 'n',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const authorized = await fetch(`${base}/oauth/authorize?${query}`, { redirect: 'manual' });
    const code = new URL(authorized.headers.get('location')).searchParams.get('code');
    const t0 = process.hrtime.bigint();
    const res = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }),
    });
    const body = await res.json();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!body.access_token || (scope.includes('openid') && !body.id_token))
      throw new Error(`unexpected answer: ${res.status}`);
  }
  return median(times);
}

function signing(key, alg, n) {
  const claims = {
    iss: 'https://auth.example.com',
    sub: 'user-1',
    aud: 'rp',
    exp: 2e9,
    iat: 1.9e9,
    nonce: 'n',
    at_hash: 'x'.repeat(22),
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) jwt.sign(claims, key, { algorithm: alg, keyid: 'k' });
  return Number(process.hrtime.bigint() - t0) / n / 1e3;
}

const plain = await start(false);
const oidc = await start(true);
const variants = {
  'code exchange, plain OAuth (no openid option)': () => exchanges(plain.base, 'rp', 'read', N),
  'code exchange, openid + RS256 ID token': () => exchanges(oidc.base, 'rp', 'openid read', N),
  'code exchange, openid + ES256 ID token': () => exchanges(oidc.base, 'rp-es', 'openid read', N),
};
const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const signs = { RS256: [], ES256: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) results[name].push(await run());
  signs.RS256.push(signing(rsa, 'RS256', 200));
  signs.ES256.push(signing(ec, 'ES256', 200));
}
plain.server.close();
oidc.server.close();
console.log(`median of ${ROUNDS} rounds (each the median of ${N} sequential exchanges):`);
for (const [name, xs] of Object.entries(results)) console.log(`  ${name.padEnd(48)} ${median(xs).toFixed(2)} ms`);
for (const [alg, xs] of Object.entries(signs))
  console.log(`  ${`jsonwebtoken sign, ${alg} (per token)`.padEnd(48)} ${median(xs).toFixed(0)} µs`);
