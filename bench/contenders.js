/**
 * Who runs in a bench run, how each is started and loaded, and what ours must reach
 * (the targets of issue 5). One place, so the harness, the report and a reader agree.
 * @packageDocumentation
 */
'use strict';
const { CLIENT } = require('./servers/common');

const BASIC = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

/**
 * @typedef {import('./loadgen').RequestSpec} RequestSpec
 * @typedef {{
 *   id: string,
 *   label: string,
 *   group: 'get' | 'post',
 *   server: [file: string, ...args: string[]],
 *   request: RequestSpec,
 *   ceiling?: string,
 *   peer?: string,
 *   floor?: string,
 *   needs?: 'redis',
 *   bytesNote?: string,
 *   mint?: boolean,
 *   sanity: { status: number, bad?: number, reuse?: number },
 * }} Contender
 *
 * `request.tokens.file` is filled in by the harness from the server's `ready` message (or a
 * fresh mint before each slice). `ceiling`/`peer`/`floor` name the contenders a ratio is
 * taken to (`floor`: the yardstick that does the least work the contender must do, e.g. one
 * raw signature check; for the 1M rows, the 1k row). `needs: 'redis'`: the harness starts a
 * redis-server for it (skipped, and said so, without one). `bytesNote`: why its responses
 * may differ in size from its ceiling's (otherwise a difference is reported as a problem).
 * `sanity` is what the harness expects before measuring: the status of one valid request;
 * for guards, of a request with a forged token (proof the guard really runs); for single-use
 * tokens, of presenting the same token again (proof rotation really happens).
 */

const GET_TOKENS = { file: '', as: /** @type {const} */ ('bearer'), order: /** @type {const} */ ('per-connection') };
const MISS_TOKENS = { file: '', as: /** @type {const} */ ('bearer'), order: /** @type {const} */ ('global-cycle') };
/**
 * A bearer guard behind GET / against bare Express: 200 for a valid token, 401 for a forged
 * one. `tokens`: how tokens are presented (default: each connection reuses its own).
 * @param {Pick<Contender, 'id' | 'label' | 'server' | 'peer' | 'floor' | 'needs'> & { tokens?: RequestSpec['tokens'] }} row
 * @returns {Contender}
 */
function guard({ tokens = GET_TOKENS, ...row }) {
  return {
    group: 'get',
    request: { method: 'GET', path: '/', tokens },
    ceiling: 'express-get',
    sanity: { status: 200, bad: 401 },
    ...row,
  };
}

const CC = {
  method: /** @type {const} */ ('POST'),
  path: '/oauth/token',
  headers: { 'content-type': FORM, authorization: BASIC },
  body: 'grant_type=client_credentials&scope=read',
};
const REFRESH = {
  method: /** @type {const} */ ('POST'),
  path: '/oauth/token',
  headers: { 'content-type': FORM, authorization: BASIC },
  tokens: { file: '', as: /** @type {const} */ ('refresh'), order: /** @type {const} */ ('global-once') },
};

/**
 * Every contender, in table order. To add a row for a new hot-path feature: give it a mode in
 * one of `bench/servers/*.js` (tokengate's: `tokengate.js`, built from `require('tokengate')`
 * with default options plus the feature's), then an entry here with its group's `ceiling`,
 * the `peer` or `floor` it should be read against if there is one, and a `sanity` that proves
 * the feature really runs (e.g. `bad: 401` for a request the feature must refuse). Its response
 * must have the ceiling's bytes (the harness checks) or say why not in `bytesNote`. Add a
 * `targets` line below only for a requirement an issue states.
 * @type {readonly Contender[]}
 */
const contenders = [
  {
    id: 'express-get',
    label: 'bare Express GET (ceiling)',
    group: 'get',
    server: ['express.js', 'get'],
    request: { method: 'GET', path: '/' },
    sanity: { status: 200 },
  },
  guard({
    id: 'floor-verify',
    label: 'bare Express + one raw node:crypto ES256 verify (floor of a miss)',
    server: ['express.js', 'floor-verify'],
    tokens: MISS_TOKENS,
  }),
  guard({
    id: 'lean-guard',
    label: 'lean guard: Express + lru-cache + jsonwebtoken in 20 lines, cache hit',
    server: ['lean.js', ''],
  }),
  guard({
    id: 'peer-authenticate',
    label: 'peer authenticate() (tokens kept hashed)',
    server: ['peer.js', 'authenticate'],
  }),
  guard({
    id: 'jwt-hit',
    label: 'requireToken() JWT ES256, cache hit',
    server: ['tokengate.js', 'jwt-hit'],
    peer: 'peer-authenticate',
    floor: 'lean-guard',
  }),
  {
    id: 'dpop-hit',
    label: 'requireToken() DPoP-bound JWT ES256, cache hit + one ES256 proof check per request',
    group: 'get',
    server: ['tokengate.js', 'dpop-hit'],
    // Every request carries a proof never used before (single use, RFC 9449 §11.1): minted
    // before each slice, presented once each.
    request: {
      method: 'GET',
      path: '/',
      tokens: { file: '', as: /** @type {const} */ ('dpop'), order: /** @type {const} */ ('global-once') },
    },
    ceiling: 'express-get',
    peer: 'jwt-hit',
    mint: true,
    sanity: { status: 200, bad: 401, reuse: 401 },
  },
  guard({
    id: 'jwt-verify',
    label: 'requireToken() JWT ES256, cache off (verify every request)',
    server: ['tokengate.js', 'jwt-verify'],
    tokens: MISS_TOKENS,
    peer: 'peer-authenticate',
    floor: 'floor-verify',
  }),
  guard({
    id: 'jwt-hit-resource',
    label: 'protectedResource().requireToken() JWT ES256, cache hit, aud checked (RFC 8707)',
    server: ['tokengate.js', 'jwt-hit-resource'],
    peer: 'peer-authenticate',
    floor: 'lean-guard',
  }),
  guard({
    id: 'rs-jwks-hit',
    label: 'standalone requireToken() (resource server in another process), JWKS, cache hit',
    server: ['tokengate.js', 'rs-jwks-hit'],
    peer: 'peer-authenticate',
    floor: 'lean-guard',
  }),
  guard({
    id: 'rs-introspection-hit',
    label: 'standalone requireToken() with introspection (RFC 7662), opaque, cache hit',
    server: ['tokengate.js', 'rs-introspection-hit'],
    peer: 'peer-authenticate',
    floor: 'lean-guard',
  }),
  guard({
    id: 'jwt-miss',
    label: 'requireToken() JWT ES256, cache miss (cache on, every token evicted before reuse)',
    server: ['tokengate.js', 'jwt-miss'],
    tokens: MISS_TOKENS,
    peer: 'peer-authenticate',
    floor: 'floor-verify',
  }),
  guard({
    id: 'opaque-hit',
    label: 'requireToken() opaque, memory store, cache hit (1k live tokens)',
    server: ['tokengate.js', 'opaque-hit', '1000'],
    peer: 'peer-authenticate',
  }),
  guard({
    id: 'opaque-hit-1m',
    label: 'requireToken() opaque, memory store, cache hit (1M live tokens)',
    server: ['tokengate.js', 'opaque-hit', '1000000'],
    peer: 'peer-authenticate',
    floor: 'opaque-hit',
  }),
  guard({
    id: 'opaque-hit-redis',
    label: 'requireToken() opaque, Redis store, cache hit (1k live tokens)',
    server: ['tokengate.js', 'opaque-hit-redis', '1000'],
    peer: 'peer-authenticate',
    needs: 'redis',
  }),
  guard({
    id: 'opaque-hit-redis-1m',
    label: 'requireToken() opaque, Redis store, cache hit (1M live tokens)',
    server: ['tokengate.js', 'opaque-hit-redis', '1000000'],
    peer: 'peer-authenticate',
    floor: 'opaque-hit-redis',
    needs: 'redis',
  }),
  {
    id: 'express-post',
    label: 'Express + URLSearchParams form read, fixed token JSON (ceiling)',
    group: 'post',
    server: ['express.js', 'post'],
    request: {
      method: 'POST',
      path: '/oauth/token',
      headers: { 'content-type': FORM },
      body: 'grant_type=client_credentials&scope=read',
    },
    sanity: { status: 200 },
  },
  {
    id: 'floor-sign',
    label: 'ceiling + one raw node:crypto ES256 sign (floor of an ES256 token endpoint)',
    group: 'post',
    server: ['express.js', 'floor-sign'],
    request: {
      method: 'POST',
      path: '/oauth/token',
      headers: { 'content-type': FORM },
      body: 'grant_type=client_credentials&scope=read',
    },
    ceiling: 'express-post',
    sanity: { status: 200 },
  },
  {
    id: 'peer-token',
    label: 'peer token() client_credentials (hashed secret, ES256 JWT)',
    group: 'post',
    server: ['peer.js', 'token'],
    request: CC,
    ceiling: 'express-post',
    sanity: { status: 200 },
  },
  {
    id: 'token-cc',
    label: 'token endpoint client_credentials, ES256 JWT',
    group: 'post',
    server: ['tokengate.js', 'token'],
    request: CC,
    ceiling: 'express-post',
    peer: 'peer-token',
    floor: 'floor-sign',
    sanity: { status: 200 },
  },
  {
    id: 'token-cc-hs256',
    label: 'token endpoint client_credentials, HS256 JWT (no ECDSA: what the signature costs)',
    group: 'post',
    server: ['tokengate.js', 'token', 'HS256'],
    request: CC,
    ceiling: 'express-post',
    peer: 'peer-token',
    bytesNote: 'an HS256 signature is 43 base64url characters shorter than an ES256 one',
    sanity: { status: 200 },
  },
  {
    id: 'register',
    label: 'registration endpoint (RFC 7591, open), one new client per request',
    group: 'post',
    server: ['tokengate.js', 'register'],
    request: {
      method: 'POST',
      path: '/oauth/register',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'bench',
        redirect_uris: ['https://app.example.com/callback'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    },
    ceiling: 'express-post',
    bytesNote: 'a registration answer is a 201 with the registered metadata, a client id and a secret',
    sanity: { status: 201 },
  },
  {
    id: 'peer-refresh',
    label: 'peer token() refresh_token (rotating)',
    group: 'post',
    server: ['peer.js', 'refresh'],
    request: REFRESH,
    ceiling: 'express-post',
    mint: true,
    bytesNote: 'a refresh response also carries the new refresh token, and its access token a family id (as ours)',
    sanity: { status: 200, reuse: 400 },
  },
  {
    id: 'refresh',
    label: 'token endpoint refresh_token with rotation',
    group: 'post',
    server: ['tokengate.js', 'refresh'],
    request: REFRESH,
    ceiling: 'express-post',
    peer: 'peer-refresh',
    mint: true,
    bytesNote: 'a refresh response also carries the new refresh token, and its access token a family id',
    sanity: { status: 200, reuse: 400 },
  },
];

/**
 * The targets of issue 18 (and the ones of issue 5 still standing). `ratio` targets compare
 * medians of per-round ratios; without `min` a row is shown for information only. `memory`
 * is bytes of RSS per cached token; `store` is MB of heap per million records.
 * @typedef {{ id: string, scenario: string, kind: 'ratio', of: string, to: string, min?: number, max?: number }
 *   | { id: string, scenario: string, kind: 'memory', format: 'jwt' | 'opaque', maxBytes: number }
 *   | { id: string, scenario: string, kind: 'store', maxMBPerMillion: number }} Target
 * @type {readonly Target[]}
 */
const targets = [
  {
    id: 'jwt-verify-floor',
    scenario: 'cache off (verify every request) vs the floor: bare + one raw ES256 verify',
    kind: 'ratio',
    of: 'jwt-verify',
    to: 'floor-verify',
    min: 0.95,
  },
  {
    id: 'jwt-miss-floor',
    scenario: 'cache miss (cache on) vs the floor: bare + one raw ES256 verify',
    kind: 'ratio',
    of: 'jwt-miss',
    to: 'floor-verify',
    min: 0.95,
  },
  {
    id: 'jwt-hit-lean',
    scenario: 'cache hit, JWT vs the lean guard',
    kind: 'ratio',
    of: 'jwt-hit',
    to: 'lean-guard',
    min: 0.98,
  },
  {
    id: 'jwt-hit-peer',
    scenario: "cache hit, JWT vs the peer's authenticate()",
    kind: 'ratio',
    of: 'jwt-hit',
    to: 'peer-authenticate',
    min: 1.1,
  },
  {
    id: 'opaque-hit-peer',
    scenario: "cache hit, opaque vs the peer's authenticate()",
    kind: 'ratio',
    of: 'opaque-hit',
    to: 'peer-authenticate',
    min: 1.1,
  },
  {
    id: 'growth',
    scenario: 'growth, memory store: cache hits with 1M live tokens vs 1k',
    kind: 'ratio',
    of: 'opaque-hit-1m',
    to: 'opaque-hit',
    min: 0.9,
  },
  {
    id: 'growth-redis',
    scenario: 'growth, Redis store: cache hits with 1M live tokens vs 1k (for comparison)',
    kind: 'ratio',
    of: 'opaque-hit-redis-1m',
    to: 'opaque-hit-redis',
  },
  {
    id: 'store-heap',
    scenario: 'memory store: heap (V8 heap + array buffers) per million live refresh-token records',
    kind: 'store',
    maxMBPerMillion: 150,
  },
  {
    id: 'token-cc-floor',
    scenario: 'token endpoint client_credentials ES256 vs the floor: ceiling + one raw ES256 sign',
    kind: 'ratio',
    of: 'token-cc',
    to: 'floor-sign',
  },
  {
    id: 'token-cc-peer',
    scenario: "token endpoint client_credentials vs the peer's token() (both hash the secret and sign ES256)",
    kind: 'ratio',
    of: 'token-cc',
    to: 'peer-token',
  },
  {
    id: 'refresh-peer',
    scenario: "token endpoint refresh_token with rotation vs the peer's",
    kind: 'ratio',
    of: 'refresh',
    to: 'peer-refresh',
  },
  {
    id: 'memory-jwt',
    scenario: 'LRU cache memory per cached token at 100k (JWT)',
    kind: 'memory',
    format: 'jwt',
    maxBytes: 600,
  },
  {
    id: 'memory-opaque',
    scenario: 'LRU cache memory per cached token at 100k (opaque)',
    kind: 'memory',
    format: 'opaque',
    maxBytes: 600,
  },
];

module.exports = { contenders, targets };
