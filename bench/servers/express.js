/**
 * The ceilings and the floors: what Express itself costs, and what one raw signature
 * operation adds to it. Every response here has exactly the bytes of tokengate's (the harness
 * checks), so the only difference between a contender and its yardstick is the work done.
 *
 * - `get`: a bare `app.get('/')` answering {@link GET_BODY}: the most a guarded GET route
 *   could ever do.
 * - `post`: the least a token endpoint can do: read the form with `URLSearchParams` (as
 *   tokengate reads its own, not through Express's body parser), check it has a grant type,
 *   answer a fixed token response with tokengate's headers and an access token of the size of
 *   a real one.
 * - `floor-verify`: `get` plus one raw `node:crypto` ES256 verification of the presented
 *   token (split at the last dot, r||s signature): the floor of a cache miss, which must at
 *   least check the signature. 20 000 tokens presented round-robin, like tokengate's miss.
 * - `floor-sign`: `post` plus one raw `node:crypto` ES256 signature over claims shaped like
 *   tokengate's: the floor of a token endpoint that issues ES256 JWTs.
 *
 * Usage: `node bench/servers/express.js get|post|floor-verify|floor-sign [fixtureDir]`
 * @packageDocumentation
 */
'use strict';
const { generateKeyPairSync, sign, verify } = require('node:crypto');
const {
  GET_BODY,
  accessClaims,
  benchApp,
  fixturePath,
  readForm,
  sendTokenJson,
  serve,
  writePool,
} = require('./common');

const mode = process.argv[2];
const app = benchApp();
const MISS_POOL = 20_000;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
// tokengate's header for a key with a 43-character thumbprint kid (its default kid).
const HEADER = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'x'.repeat(43) })).toString('base64url');

/** A compact ES256 JWS of `claims`, signed with one raw node:crypto call. */
function rawJwt(/** @type {object} */ claims) {
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** @param {(body: URLSearchParams, res: import('node:http').ServerResponse) => void} answer */
function tokenRoute(answer) {
  app.post('/oauth/token', (req, res) => {
    readForm(req).then((body) => {
      // Touch the parsed body as a real handler would, so parsing cannot be skipped.
      if (!body.get('grant_type')) sendTokenJson(res, 400, { error: 'invalid_request' });
      else answer(body, res);
    });
  });
}

if (mode === 'get') {
  app.get('/', (_req, res) => {
    res.json(GET_BODY);
  });
  serve(app);
} else if (mode === 'floor-verify') {
  app.get('/', (req, res) => {
    const token = (req.headers.authorization ?? '').slice(7);
    const dot = token.lastIndexOf('.');
    let ok;
    try {
      ok = verify(
        'sha256',
        Buffer.from(token.slice(0, dot)),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(token.slice(dot + 1), 'base64url'),
      );
    } catch {
      ok = false;
    }
    if (ok) res.json(GET_BODY);
    else res.status(401).json({ error: 'invalid_token' });
  });
  const pool = Array.from({ length: MISS_POOL }, () => rawJwt(accessClaims()));
  const file = fixturePath('floor-verify');
  writePool(file, pool);
  serve(app, { pool: file });
} else if (mode === 'post') {
  // A real-sized ES256 token, made once: the ceiling answers it every time.
  const fixed = Object.freeze({
    access_token: rawJwt(accessClaims()),
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'read',
  });
  tokenRoute((_body, res) => sendTokenJson(res, 200, fixed));
  serve(app);
} else if (mode === 'floor-sign') {
  tokenRoute((_body, res) =>
    sendTokenJson(res, 200, {
      access_token: rawJwt(accessClaims()),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read',
    }),
  );
  serve(app);
} else {
  throw new Error(
    `bench/servers/express.js: mode must be get, post, floor-verify or floor-sign (got ${String(mode)}).`,
  );
}
