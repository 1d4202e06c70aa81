/**
 * The established peer: `@node-oauth/express-oauth-server` with an in-memory model, set up
 * the way its README and the oauth2-server model docs show (a body parser before `token()`,
 * `authenticate()` on the guarded route), doing the same work tokengate does so the ratio
 * compares like with like:
 * - client secrets are kept as SHA-256 hashes and compared in constant time (as tokengate's
 *   `verifyClientSecret`), not in plain text;
 * - access tokens are ES256 JWTs with tokengate's claims, signed by `jsonwebtoken` with the key
 *   imported once (`generateAccessToken`), so its token responses have our bytes;
 * - access and refresh tokens are kept under their SHA-256 (as tokengate's stores keep them),
 *   refresh tokens are 256 random bits, base64url, like ours.
 * The model is otherwise lean: `Map` lookups, nothing the contract does not ask for.
 *
 * Modes:
 * - `authenticate`: `authenticate({ scope: 'read' })` on `GET /`, with 1 000 stored tokens the
 *   load generator rotates through (like tokengate's cache-hit scenarios).
 * - `token`: `token()` for `client_credentials` with HTTP Basic.
 * - `refresh`: `token()` for `refresh_token`; each request presents an unused refresh token
 *   minted before the slice (the peer rotates them: `alwaysIssueNewRefreshToken` defaults on).
 *
 * Usage: `node bench/servers/peer.js <mode> [fixtureDir]`
 * @packageDocumentation
 */
'use strict';
const { generateKeyPairSync, hash, randomBytes, timingSafeEqual } = require('node:crypto');
const OAuthServer = require('@node-oauth/express-oauth-server');
const express = require('express');
const jwt = require('jsonwebtoken');
const { GET_BODY, CLIENT, USER, accessClaims, benchApp, serve, writePool, fixturePath } = require('./common');

const mode = process.argv[2];
const POOL = 1000;

/** SHA-256, base64url: how secrets and tokens are kept (tokengate's `hashToken`). */
const sha256 = (/** @type {string} */ value) => hash('sha256', value, 'base64url');
const client = Object.freeze({
  id: CLIENT.id,
  secretHash: Buffer.from(sha256(CLIENT.secret)),
  grants: ['client_credentials', 'refresh_token'],
});
const user = Object.freeze({ id: USER.id });
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const signOptions = {
  algorithm: /** @type {const} */ ('ES256'),
  keyid: 'x'.repeat(43),
  header: { alg: 'ES256', typ: 'at+jwt' },
};
/** @type {Map<string, object>} */
const accessTokens = new Map();
/** @type {Map<string, object>} */
const refreshTokens = new Map();

// The model contract: https://node-oauthoauth2-server.readthedocs.io/en/master/model/spec.html
const model = {
  async getClient(clientId, clientSecret) {
    if (clientId !== client.id) return false;
    if (clientSecret !== null && clientSecret !== undefined) {
      const presented = Buffer.from(sha256(clientSecret));
      if (presented.length !== client.secretHash.length || !timingSafeEqual(presented, client.secretHash)) return false;
    }
    return client;
  },
  async getUserFromClient() {
    return user;
  },
  async generateAccessToken() {
    return jwt.sign(accessClaims(mode === 'refresh' ? { fid: true, sub: USER.id } : {}), privateKey, signOptions);
  },
  async generateRefreshToken() {
    return randomBytes(32).toString('base64url');
  },
  async saveToken(token, tokenClient, tokenUser) {
    const saved = { ...token, client: tokenClient, user: tokenUser };
    // JWT access tokens need no row (like tokengate's); refresh tokens are kept by hash.
    if (token.refreshToken) refreshTokens.set(sha256(token.refreshToken), saved);
    return saved;
  },
  async getAccessToken(accessToken) {
    return accessTokens.get(sha256(accessToken));
  },
  async getRefreshToken(refreshToken) {
    return refreshTokens.get(sha256(refreshToken));
  },
  async revokeToken(token) {
    return refreshTokens.delete(sha256(token.refreshToken));
  },
  async validateScope(_user, _client, scope) {
    if (!scope) return ['read'];
    return scope.every((s) => s === 'read' || s === 'write') ? scope : false;
  },
  async verifyScope(token, scope) {
    return scope.every((s) => token.scope.includes(s));
  },
};

const oauth = new OAuthServer({ model });
const app = benchApp();

/** @param {number} count */
function mintRefreshTokens(count) {
  const tokens = new Array(count);
  const expiresAt = new Date(Date.now() + 14 * 24 * 3600 * 1000);
  for (let i = 0; i < count; i++) {
    const refreshToken = randomBytes(32).toString('base64url');
    refreshTokens.set(sha256(refreshToken), {
      refreshToken,
      refreshTokenExpiresAt: expiresAt,
      scope: ['read'],
      client,
      user,
    });
    tokens[i] = refreshToken;
  }
  return tokens;
}

if (mode === 'authenticate') {
  const pool = [];
  const expiresAt = new Date(Date.now() + 3600 * 1000);
  for (let i = 0; i < POOL; i++) {
    const accessToken = jwt.sign(accessClaims(), privateKey, signOptions);
    accessTokens.set(sha256(accessToken), {
      accessToken,
      accessTokenExpiresAt: expiresAt,
      scope: ['read'],
      client,
      user,
    });
    pool.push(accessToken);
  }
  app.get('/', oauth.authenticate({ scope: 'read' }), (_req, res) => {
    res.json(GET_BODY);
  });
  const file = fixturePath('peer-authenticate');
  writePool(file, pool);
  serve(app, { pool: file });
} else if (mode === 'token' || mode === 'refresh') {
  app.post('/oauth/token', express.urlencoded({ extended: false }), oauth.token());
  serve(app, mode === 'refresh' ? { mint: mintRefreshTokens } : {});
} else {
  throw new Error(`bench/servers/peer.js: mode must be authenticate, token or refresh (got ${String(mode)}).`);
}
