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
 *   mint?: boolean,
 *   sanity: { status: number, bad?: number, reuse?: number },
 * }} Contender
 *
 * `request.tokens.file` is filled in by the harness from the server's `ready` message (or a
 * fresh mint before each slice). `ceiling`/`peer` name the contenders a ratio is taken to.
 * `sanity` is what the harness expects before measuring: the status of one valid request;
 * for guards, of a request with a forged token (proof the guard really runs); for single-use
 * tokens, of presenting the same token again (proof rotation really happens).
 */

/** @type {readonly Contender[]} */
const contenders = [
  {
    id: 'express-get',
    label: 'bare Express GET (ceiling)',
    group: 'get',
    server: ['express.js', 'get'],
    request: { method: 'GET', path: '/' },
    sanity: { status: 200 },
  },
  {
    id: 'peer-authenticate',
    label: 'peer authenticate()',
    group: 'get',
    server: ['peer.js', 'authenticate'],
    request: { method: 'GET', path: '/', tokens: { file: '', as: 'bearer', order: 'per-connection' } },
    ceiling: 'express-get',
    sanity: { status: 200, bad: 401 },
  },
  {
    id: 'jwt-hit',
    label: 'requireToken() JWT ES256, cache hit',
    group: 'get',
    server: ['tokengate.js', 'jwt-hit'],
    request: { method: 'GET', path: '/', tokens: { file: '', as: 'bearer', order: 'per-connection' } },
    ceiling: 'express-get',
    peer: 'peer-authenticate',
    sanity: { status: 200, bad: 401 },
  },
  {
    id: 'jwt-hit-resource',
    label: 'protectedResource().requireToken() JWT ES256, cache hit, aud checked (RFC 8707)',
    group: 'get',
    server: ['tokengate.js', 'jwt-hit-resource'],
    request: { method: 'GET', path: '/', tokens: { file: '', as: 'bearer', order: 'per-connection' } },
    ceiling: 'express-get',
    peer: 'peer-authenticate',
    sanity: { status: 200, bad: 401 },
  },
  {
    id: 'jwt-miss',
    label: 'requireToken() JWT ES256, cache miss',
    group: 'get',
    server: ['tokengate.js', 'jwt-miss'],
    request: { method: 'GET', path: '/', tokens: { file: '', as: 'bearer', order: 'global-cycle' } },
    ceiling: 'express-get',
    peer: 'peer-authenticate',
    sanity: { status: 200, bad: 401 },
  },
  {
    id: 'opaque-hit',
    label: 'requireToken() opaque, memory store, cache hit (1k live tokens)',
    group: 'get',
    server: ['tokengate.js', 'opaque-hit', '1000'],
    request: { method: 'GET', path: '/', tokens: { file: '', as: 'bearer', order: 'per-connection' } },
    ceiling: 'express-get',
    peer: 'peer-authenticate',
    sanity: { status: 200, bad: 401 },
  },
  {
    id: 'opaque-hit-1m',
    label: 'requireToken() opaque, memory store, cache hit (1M live tokens)',
    group: 'get',
    server: ['tokengate.js', 'opaque-hit', '1000000'],
    request: { method: 'GET', path: '/', tokens: { file: '', as: 'bearer', order: 'per-connection' } },
    ceiling: 'express-get',
    peer: 'peer-authenticate',
    sanity: { status: 200, bad: 401 },
  },
  {
    id: 'express-post',
    label: 'Express + urlencoded, fixed token JSON (ceiling)',
    group: 'post',
    server: ['express.js', 'post'],
    request: { method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM }, body: 'grant_type=client_credentials&scope=read' },
    sanity: { status: 200 },
  },
  {
    id: 'peer-token',
    label: 'peer token() client_credentials',
    group: 'post',
    server: ['peer.js', 'token'],
    request: { method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM, authorization: BASIC }, body: 'grant_type=client_credentials&scope=read' },
    ceiling: 'express-post',
    sanity: { status: 200 },
  },
  {
    id: 'token-cc',
    label: 'token endpoint client_credentials, ES256 JWT',
    group: 'post',
    server: ['tokengate.js', 'token'],
    request: { method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM, authorization: BASIC }, body: 'grant_type=client_credentials&scope=read' },
    ceiling: 'express-post',
    peer: 'peer-token',
    sanity: { status: 200 },
  },
  {
    id: 'token-cc-hs256',
    label: 'token endpoint client_credentials, HS256 JWT (no ECDSA: what the signature costs)',
    group: 'post',
    server: ['tokengate.js', 'token', 'HS256'],
    request: { method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM, authorization: BASIC }, body: 'grant_type=client_credentials&scope=read' },
    ceiling: 'express-post',
    peer: 'peer-token',
    sanity: { status: 200 },
  },
  {
    id: 'peer-refresh',
    label: 'peer token() refresh_token (rotating)',
    group: 'post',
    server: ['peer.js', 'refresh'],
    request: { method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM, authorization: BASIC }, tokens: { file: '', as: 'refresh', order: 'global-once' } },
    ceiling: 'express-post',
    mint: true,
    sanity: { status: 200, reuse: 400 },
  },
  {
    id: 'refresh',
    label: 'token endpoint refresh_token with rotation',
    group: 'post',
    server: ['tokengate.js', 'refresh'],
    request: { method: 'POST', path: '/oauth/token', headers: { 'content-type': FORM, authorization: BASIC }, tokens: { file: '', as: 'refresh', order: 'global-once' } },
    ceiling: 'express-post',
    peer: 'peer-refresh',
    mint: true,
    sanity: { status: 200, reuse: 400 },
  },
];

/**
 * The targets of issue 5. `ratio` targets compare medians of per-round ratios (each round's
 * contenders ran minutes apart at most); `memory` is bytes of RSS per cached token.
 * @typedef {{ id: string, scenario: string, kind: 'ratio', of: string, to: string, min: number, max?: number }
 *   | { id: string, scenario: string, kind: 'memory', format: 'jwt' | 'opaque', maxBytes: number }} Target
 * @type {readonly Target[]}
 */
const targets = [
  { id: 'jwt-hit', scenario: 'requireToken() cache hit, JWT (ES256)', kind: 'ratio', of: 'jwt-hit', to: 'express-get', min: 0.95 },
  { id: 'jwt-miss', scenario: 'requireToken() cache miss, JWT (fresh token each request)', kind: 'ratio', of: 'jwt-miss', to: 'express-get', min: 0.6 },
  { id: 'opaque-hit', scenario: 'requireToken() opaque, memory store, cache hit', kind: 'ratio', of: 'opaque-hit', to: 'express-get', min: 0.95 },
  { id: 'token-cc-ceiling', scenario: 'token endpoint client_credentials, ES256 JWT vs POST ceiling', kind: 'ratio', of: 'token-cc', to: 'express-post', min: 0.8 },
  { id: 'token-cc-peer', scenario: "token endpoint client_credentials vs the peer's token()", kind: 'ratio', of: 'token-cc', to: 'peer-token', min: 1.2 },
  { id: 'refresh', scenario: 'token endpoint refresh_token with rotation', kind: 'ratio', of: 'refresh', to: 'express-post', min: 0.6 },
  { id: 'memory-jwt', scenario: 'LRU cache memory per cached token at 100k (JWT)', kind: 'memory', format: 'jwt', maxBytes: 600 },
  { id: 'memory-opaque', scenario: 'LRU cache memory per cached token at 100k (opaque)', kind: 'memory', format: 'opaque', maxBytes: 600 },
  { id: 'growth', scenario: 'growth: cache-hit throughput, 1M live tokens vs 1k', kind: 'ratio', of: 'opaque-hit-1m', to: 'opaque-hit', min: 0.95, max: 1.05 },
];

module.exports = { contenders, targets };
