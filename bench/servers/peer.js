/**
 * The established peer: `@node-oauth/express-oauth-server` with an in-memory model, set up
 * the way its README and the oauth2-server model docs show (a body parser before `token()`,
 * `authenticate()` on the guarded route). The model is deliberately lean — `Map` lookups,
 * plain secret comparison, no hashing — so the peer is measured at its best.
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
const { randomBytes } = require('node:crypto');
const express = require('express');
const OAuthServer = require('@node-oauth/express-oauth-server');
const { GET_BODY, CLIENT, USER, serve, writePool, fixturePath } = require('./common');

const mode = process.argv[2];
const POOL = 1000;

const client = Object.freeze({ id: CLIENT.id, clientSecret: CLIENT.secret, grants: ['client_credentials', 'refresh_token'] });
const user = Object.freeze({ id: USER.id });
/** @type {Map<string, object>} */
const accessTokens = new Map();
/** @type {Map<string, object>} */
const refreshTokens = new Map();

// The model contract: https://node-oauthoauth2-server.readthedocs.io/en/master/model/spec.html
const model = {
  async getClient(clientId, clientSecret) {
    if (clientId !== client.id) return false;
    if (clientSecret !== null && clientSecret !== undefined && clientSecret !== client.clientSecret) return false;
    return client;
  },
  async getUserFromClient() {
    return user;
  },
  async saveToken(token, tokenClient, tokenUser) {
    const saved = { ...token, client: tokenClient, user: tokenUser };
    accessTokens.set(token.accessToken, saved);
    if (token.refreshToken) refreshTokens.set(token.refreshToken, saved);
    return saved;
  },
  async getAccessToken(accessToken) {
    return accessTokens.get(accessToken);
  },
  async getRefreshToken(refreshToken) {
    return refreshTokens.get(refreshToken);
  },
  async revokeToken(token) {
    return refreshTokens.delete(token.refreshToken);
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
const app = express();

/** A token in the peer's own default format (hex of random bytes). */
const newToken = () => randomBytes(20).toString('hex');

/** @param {number} count */
function mintRefreshTokens(count) {
  const tokens = new Array(count);
  const expiresAt = new Date(Date.now() + 14 * 24 * 3600 * 1000);
  for (let i = 0; i < count; i++) {
    const refreshToken = newToken();
    refreshTokens.set(refreshToken, { refreshToken, refreshTokenExpiresAt: expiresAt, scope: ['read'], client, user });
    tokens[i] = refreshToken;
  }
  return tokens;
}

if (mode === 'authenticate') {
  const pool = [];
  const expiresAt = new Date(Date.now() + 3600 * 1000);
  for (let i = 0; i < POOL; i++) {
    const accessToken = newToken();
    accessTokens.set(accessToken, { accessToken, accessTokenExpiresAt: expiresAt, scope: ['read'], client, user });
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
