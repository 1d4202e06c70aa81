/**
 * tokengate, as an app would use it: the built package (`require('tokengate')`, so run
 * `npm run build` first), `app.use(oauth)` for the token endpoint, and
 * `oauth.requireToken({ scope: 'read' })` on the guarded route. Default options except the
 * explicit ES256 key (and the opaque format where the scenario says so).
 *
 * The guarded-route servers do not mount `app.use(oauth)`: what a guard costs is the
 * difference between a guarded and an unguarded route of the same app, and a middleware
 * mounted in front would be paid by both (an API that only checks tokens does not mount the
 * endpoints at all). Likewise the peer's GET server has only its guarded route.
 *
 * Modes:
 * - `jwt-hit`: guarded GET; a pool of 1 000 JWTs, all of which stay in the cache (default size
 *   10 000), so every measured request is a cache hit.
 * - `dpop-hit`: guarded GET with `requireDpop`; one DPoP-bound JWT (cached after its first
 *   use) and, minted before each slice, one fresh proof per request (ES256, with `ath`), so
 *   every measured request is a cache hit that still verifies its proof and records its `jti`.
 * - `jwt-verify`: guarded GET with the cache off (`cache: { max: 0 }`): every request verifies
 *   the signature and asks the store about revocation, and nothing is hashed or cached. Same
 *   20 000-token pool as `jwt-miss`; compared with the `floor-verify` contender.
 * - `jwt-miss`: guarded GET; a pool of 20 000 JWTs, twice the default cache size. The load
 *   generator presents them in one global round-robin, so by the time a token comes round
 *   again the LRU has evicted it: every request pays a full ES256 verification, the
 *   revocation lookup and a cache insert.
 * - `opaque-hit <live>`: guarded GET with opaque tokens in the memory store; `<live>` tokens
 *   are issued (1 000 by default; 1 000 000 for the growth scenario) and the load generator
 *   presents the first 1 000 of them (cache hits).
 * - `jwt-hit-resource`: as `jwt-hit`, through `oauth.protectedResource(...).requireToken()`:
 *   tokens carry a resource as `aud` (RFC 8707) and the guard checks it on every request, so
 *   the difference to `jwt-hit` is what the audience check costs.
 * - `opaque-hit-redis <live>`: the same with the Redis token store (a redis-server the
 *   harness starts; its port in `TOKENGATE_BENCH_REDIS_PORT`): the growth row for comparison.
 * - `rs-jwks-hit`: the standalone `requireToken` of another process (`require('tokengate')
 *   .requireToken({ issuer, audience, jwksUri })`), cache hit: the JWKS is served by a second
 *   listener of this process and fetched once before measuring.
 * - `rs-introspection-hit`: the standalone guard with `introspection` (RFC 7662) and opaque
 *   tokens, cache hit: the introspection endpoint is this process's `oauthServer` on a second
 *   listener, asked once per token before measuring (answers reused for `maxStaleness`, set
 *   longer than the run).
 * - `register`: the registration endpoint (RFC 7591, `registration: { open: true }`) with a
 *   fresh registration per request: validation, a generated secret hashed, a client written.
 * - `token [alg]`: the token endpoint, `client_credentials` with HTTP Basic; the access token
 *   is an ES256 JWT, or signed with `alg` (`HS256` shows what is left once the cost of the
 *   ECDSA signature is taken out).
 * - `refresh`: the token endpoint, `refresh_token` with rotation. Each request presents a
 *   refresh token nobody has used: the harness asks for a pool before every slice (`mint`),
 *   and the tokens are written to the store exactly as the grants write them.
 *
 * Usage: `node bench/servers/tokengate.js <mode> [fixtureDir] [live | alg]`
 * @packageDocumentation
 */
'use strict';
const { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } = require('node:crypto');
const http = require('node:http');
const { oauthServer, memoryStores, hashToken, requireToken } = require('tokengate');
const { GET_BODY, CLIENT, USER, ISSUER, benchApp, quietLogger, serve, writePool, fixturePath } = require('./common');

const mode = process.argv[2];
const opaque = mode === 'opaque-hit' || mode === 'opaque-hit-redis' || mode === 'rs-introspection-hit';
const live = opaque ? Number(process.argv[4] ?? 1000) : 0;
const alg = mode === 'token' && process.argv[4] === 'HS256' ? 'HS256' : 'ES256';
const HIT_POOL = 1000;
const MISS_POOL = 20_000;

const key =
  alg === 'HS256'
    ? { alg, secret: randomBytes(32) }
    : { alg, privateKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey };
const stores = memoryStores({
  clients: [
    {
      id: CLIENT.id,
      secret: CLIENT.secret,
      grants: ['client_credentials', 'refresh_token'],
      scopes: ['read', 'write'],
      // The standalone guard's introspection credentials (rs-introspection-hit).
      resourceServer: true,
    },
  ],
  users: [USER],
  // The memory store holds 10 000 registrations by default, then answers 503; a run registers
  // a few hundred thousand clients (register mode).
  ...(mode === 'register' ? { maxRegisteredClients: 5_000_000 } : {}),
});
if (mode === 'opaque-hit-redis') {
  const Redis = require('ioredis');
  const { redisTokenStore } = require('tokengate/redis');
  const port = Number(process.env.TOKENGATE_BENCH_REDIS_PORT);
  if (!port)
    throw new Error('bench: opaque-hit-redis needs TOKENGATE_BENCH_REDIS_PORT (the harness starts redis-server)');
  // Each server its own prefix: several may share the harness's redis-server.
  // A long timeout: building a million-token fixture queues many commands at once on a
  // shared machine; the measured cache hits never wait for Redis.
  stores.tokens = redisTokenStore({
    client: new Redis({ port, host: '127.0.0.1', enableAutoPipelining: true }),
    prefix: `bench-${process.pid}`,
    timeout: 30,
    logger: quietLogger,
  });
}
const RESOURCE = `${ISSUER}/mcp`;
const oauth = oauthServer(stores, {
  issuer: ISSUER,
  ...(mode === 'jwt-hit-resource' && { resources: { [RESOURCE]: { scopes: ['read'] } } }),
  keys: [/** @type {import('tokengate').KeyInput} */ (key)],
  accessTokenFormat: opaque ? 'opaque' : 'jwt',
  // Verify every request: no cache, so not even a cache key is computed.
  ...(mode === 'jwt-verify' ? { cache: { max: 0 } } : {}),
  // Proofs are minted before a slice and used during it: accept them for its length.
  ...(mode === 'dpop-hit' ? { dpop: { proofLifetime: 600 } } : {}),
  // Open registration without the per-address limit: the load generator is one address.
  ...(mode === 'register' ? { registration: { open: true, perAddress: false } } : {}),
  logger: quietLogger,
});

/**
 * Issue `count` access tokens through the server's own issuer (the code path of the token
 * endpoint, minus HTTP), as client_credentials tokens with scope `read`.
 * @param {number} count
 */
async function issueAccessTokens(count) {
  const client = await stores.clients.findClient(CLIENT.id);
  if (!client) throw new Error('bench: the bench client is missing');
  const tokens = new Array(count);
  // In batches, so a networked store (Redis) is not asked one round trip at a time.
  for (let i = 0; i < count; i += 1000) {
    const resources = mode === 'jwt-hit-resource' ? [RESOURCE] : undefined;
    const batch = Array.from({ length: Math.min(1000, count - i) }, () =>
      oauth.context.issuer.issue({
        client,
        grantType: 'client_credentials',
        sub: client.id,
        scope: ['read'],
        refreshToken: false,
        resources,
      }),
    );
    for (const [j, response] of (await Promise.all(batch)).entries()) tokens[i + j] = response.access_token;
  }
  return tokens;
}

/**
 * Mint `count` unused refresh tokens, each of its own grant (family), as the password grant
 * would have stored them: only the SHA-256 of the token reaches the store.
 * @param {number} count
 */
async function mintRefreshTokens(count) {
  const now = Math.floor(Date.now() / 1000);
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) {
    const raw = randomBytes(32).toString('base64url');
    await oauth.tokens.save({
      kind: 'refresh_token',
      id: hashToken(raw),
      familyId: randomBytes(16).toString('base64url'),
      clientId: CLIENT.id,
      sub: USER.id,
      userId: USER.id,
      scope: ['read'],
      issuedAt: now,
      expiresAt: now + 14 * 24 * 3600,
    });
    tokens[i] = raw;
  }
  return tokens;
}

/**
 * A DPoP client (RFC 9449): its key, one access token bound to it, and `count` proofs for
 * `GET ${ISSUER}/` carrying that token's `ath`, as pool lines "<token> <proof>".
 */
async function dpopClient() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const jkt = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
  const client = await stores.clients.findClient(CLIENT.id);
  if (!client) throw new Error('bench: the bench client is missing');
  const token = (
    await oauth.context.issuer.issue({
      client,
      grantType: 'client_credentials',
      sub: client.id,
      scope: ['read'],
      refreshToken: false,
      jkt,
    })
  ).access_token;
  const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })).toString('base64url');
  const ath = createHash('sha256').update(token).digest('base64url');
  /** @param {number} count */
  return (count) => {
    const iat = Math.floor(Date.now() / 1000);
    return Array.from({ length: count }, () => {
      const input = `${header}.${Buffer.from(JSON.stringify({ jti: randomUUID(), htm: 'GET', htu: `${ISSUER}/`, iat, ath })).toString('base64url')}`;
      return `${token} ${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    });
  };
}

async function main() {
  const app = benchApp();
  if (mode === 'dpop-hit') {
    const mint = await dpopClient();
    app.get('/', oauth.requireToken({ scope: 'read', requireDpop: true }), (_req, res) => {
      res.json(GET_BODY);
    });
    serve(app, { mint });
    return;
  }
  if (mode === 'rs-jwks-hit' || mode === 'rs-introspection-hit') {
    await standaloneGuard(app);
    return;
  }
  if (mode === 'token' || mode === 'refresh' || mode === 'register') {
    app.use(oauth);
    serve(app, mode === 'refresh' ? { mint: mintRefreshTokens } : {});
    return;
  }
  let pool;
  if (mode === 'jwt-hit' || mode === 'jwt-hit-resource') pool = await issueAccessTokens(HIT_POOL);
  else if (mode === 'jwt-miss' || mode === 'jwt-verify') pool = await issueAccessTokens(MISS_POOL);
  else if (opaque) pool = (await issueAccessTokens(live)).slice(0, HIT_POOL);
  else throw new Error(`bench/servers/tokengate.js: unknown mode ${String(mode)}.`);
  const guard =
    mode === 'jwt-hit-resource'
      ? oauth.protectedResource({ resource: RESOURCE, scope: 'read' }).requireToken()
      : oauth.requireToken({ scope: 'read' });
  app.get('/', guard, (_req, res) => {
    res.json(GET_BODY);
  });
  const file = fixturePath(`tokengate-${mode}`);
  writePool(file, pool);
  serve(app, { pool: file });
}

/**
 * The standalone guard of a resource server in another process, with the authorization
 * server on a second listener of this one (its JWKS or its introspection endpoint), the
 * measured route on the first. One request per token before the slices fills the cache.
 * @param {import('express').Express} app
 */
async function standaloneGuard(app) {
  const issuerApp = benchApp();
  issuerApp.use(oauth);
  const issuerServer = http.createServer(issuerApp);
  await new Promise((resolve) => issuerServer.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = issuerServer.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const guard = requireToken({
    issuer: ISSUER,
    audience: ISSUER,
    scope: 'read',
    logger: quietLogger,
    ...(mode === 'rs-jwks-hit'
      ? { jwksUri: `${base}/oauth/jwks` }
      : {
          introspection: {
            endpoint: `${base}/oauth/introspect`,
            clientId: CLIENT.id,
            clientSecret: CLIENT.secret,
            // An answer is reused for this long (default 30 s): longer than the run, so every
            // measured request is a hit; a shorter window adds one introspection per token per window.
            maxStaleness: 3600,
          },
        }),
  });
  const pool = await issueAccessTokens(HIT_POOL);
  app.get('/', guard, (_req, res) => {
    res.json(GET_BODY);
  });
  // Warm the guard's cache through a real request per token, so every measured one is a hit.
  const warm = http.createServer(app);
  await new Promise((resolve) => warm.listen(0, '127.0.0.1', () => resolve(undefined)));
  const warmAddress = warm.address();
  const warmPort = typeof warmAddress === 'object' && warmAddress ? warmAddress.port : 0;
  for (const token of pool) {
    const res = await fetch(`http://127.0.0.1:${warmPort}/`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`bench: the standalone guard refused a fresh token (${res.status})`);
  }
  await new Promise((resolve) => warm.close(() => resolve(undefined)));
  const file = fixturePath(`tokengate-${mode}`);
  writePool(file, pool);
  serve(app, { pool: file });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
