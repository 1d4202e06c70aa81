/**
 * The lean guard: what a developer writes in twenty lines instead of using a library —
 * Express + `lru-cache` + `jsonwebtoken`, the token itself as the cache key, `req.auth` set
 * from the claims, the scope checked. tokengate's cache hit must keep level with it.
 *
 * Pool: 1 000 ES256 JWTs shaped like tokengate's, all of which stay cached (like `jwt-hit`).
 *
 * Usage: `node bench/servers/lean.js [fixtureDir]`
 * @packageDocumentation
 */
'use strict';
const { generateKeyPairSync } = require('node:crypto');
const jwt = require('jsonwebtoken');
const { LRUCache } = require('lru-cache');
const { GET_BODY, ISSUER, accessClaims, benchApp, fixturePath, serve, writePool } = require('./common');

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const cache = new LRUCache({ max: 10_000 });
const options = { algorithms: /** @type {jwt.Algorithm[]} */ (['ES256']), issuer: ISSUER, audience: ISSUER };

/** @type {import('express').RequestHandler} */
function guard(req, res, next) {
  const header = req.headers.authorization;
  if (!header || !header.startsWith('Bearer ')) return void res.status(401).json({ error: 'invalid_request' });
  const token = header.slice(7);
  let claims = cache.get(token);
  if (claims === undefined || claims.exp * 1000 <= Date.now()) {
    try {
      claims = jwt.verify(token, publicKey, options);
    } catch {
      return void res.status(401).json({ error: 'invalid_token' });
    }
    cache.set(token, claims);
  }
  if (!claims.scope.split(' ').includes('read')) return void res.status(403).json({ error: 'insufficient_scope' });
  /** @type {any} */ (req).auth = {
    token,
    sub: claims.sub,
    clientId: claims.client_id,
    scope: claims.scope.split(' '),
    expiresAt: claims.exp,
    claims,
  };
  next();
}

const app = benchApp();
app.get('/', guard, (_req, res) => {
  res.json(GET_BODY);
});
const pool = Array.from({ length: 1000 }, () =>
  jwt.sign(accessClaims(), privateKey, {
    algorithm: 'ES256',
    keyid: 'x'.repeat(43),
    header: { alg: 'ES256', typ: 'at+jwt' },
  }),
);
const file = fixturePath('lean-guard');
writePool(file, pool);
serve(app, { pool: file });
