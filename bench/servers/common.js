/**
 * What every bench server shares: listening on a free port of 127.0.0.1, the IPC protocol
 * with the harness (`bench/run.js`), and writing token pools to files for the load generator.
 *
 * Protocol (over the Node IPC channel the harness opens):
 * - server → harness `{ type: 'ready', port, pool? }` once it listens and its fixtures exist;
 *   `pool` is the path of a file of tokens, one per line, for the load generator to present.
 * - harness → server `{ type: 'mint', count, file }`: mint `count` more single-use tokens into
 *   `file` (refresh scenarios, between slices, outside the measured time), answered by
 *   `{ type: 'minted', file, count }`.
 * - the server exits when the IPC channel closes, so a crashed or interrupted harness never
 *   leaves a server behind.
 * @packageDocumentation
 */
'use strict';
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');

/** A JSON body every GET contender answers with, so response sizes are equal across contenders. */
const GET_BODY = Object.freeze({ ok: true });

/** The client every contender knows; the load generator authenticates as it with HTTP Basic. */
const CLIENT = Object.freeze({ id: 'bench-client', secret: 'bench-secret-0123456789abcdef' });

/** The user refresh tokens belong to (refresh scenarios). */
const USER = Object.freeze({ id: 'user-bench', username: 'bench@example.com', password: 'bench-password' });

/** The issuer (and audience) every contender's JWTs name, so tokens are the same size everywhere. */
const ISSUER = 'http://127.0.0.1';

/**
 * The claims of an access token shaped exactly like tokengate's (src/tokens/issue.ts): the
 * floors, the lean guard and the peer sign these, so their tokens and token responses have
 * the same number of bytes as ours.
 * @param {{ fid?: boolean, sub?: string }} [options] - with a family id, as a refresh grant's
 *   tokens carry; `sub` defaults to the client (a client_credentials token)
 */
function accessClaims(options = {}) {
  const now = Math.floor(Date.now() / 1000);
  /** @type {Record<string, string | number>} */
  const claims = {
    iss: ISSUER,
    sub: options.sub ?? CLIENT.id,
    aud: ISSUER,
    client_id: CLIENT.id,
    scope: 'read',
    jti: randomBytes(16).toString('base64url'),
    iat: now,
    exp: now + 3600,
  };
  if (options.fid) claims.fid = randomBytes(16).toString('base64url');
  return claims;
}

/**
 * An Express app as every contender builds it. ETags off: tokengate's own responses carry
 * none, and a contender that hashes its body for one would both pay for it and send more
 * bytes. (`X-Powered-By` stays: every Express contender sends it alike.)
 */
function benchApp() {
  const app = require('express')();
  app.set('etag', false);
  return app;
}

/**
 * Answer JSON with exactly the headers tokengate's `sendJson` (src/http/respond.ts) writes,
 * so a ceiling or floor token response has the same bytes as ours.
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function sendTokenJson(res, status, body) {
  const payload = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}

/**
 * The least a token endpoint can do to read its form: collect the body and parse it with
 * `URLSearchParams` (no body-parser, no qs). tokengate reads its form itself, so the POST
 * ceiling must not pay for Express's urlencoded parser either.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<URLSearchParams>}
 */
function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

/** Silence expected noise; real errors still reach stderr. */
const quietLogger = {
  warn: () => {},
  error: (message, detail) => console.error(`[bench server] ${message}`, detail),
};

/**
 * Write tokens to a file, one per line. The load generator reads it; tokens never travel
 * through IPC (a 100k-token pool is several MB).
 * @param {string} file
 * @param {readonly string[]} tokens
 */
/**
 * The headers of a DPoP pool line, "<access token> <proof>" (RFC 9449 §7.1); a line without a
 * proof (a forged token in the sanity check) is sent without one.
 * @param {string} line
 */
function dpopHeaders(line) {
  const space = line.indexOf(' ');
  return space === -1
    ? { authorization: `DPoP ${line}` }
    : { authorization: `DPoP ${line.slice(0, space)}`, dpop: line.slice(space + 1) };
}

function writePool(file, tokens) {
  fs.writeFileSync(file, tokens.join('\n'));
}

/**
 * Listen on 127.0.0.1 with a free port and report readiness to the harness.
 * @param {import('node:http').RequestListener} app - an Express app or any request listener
 * @param {{ pool?: string, mint?: (count: number) => string[] | Promise<string[]> }} [fixtures]
 */
function serve(app, fixtures = {}) {
  // The harness starts servers with --expose-gc: collect what building the fixtures left
  // behind (a million-token pool and its promises, say), so every contender starts measured
  // from its steady state rather than paying for its own set-up in the first slices.
  if (typeof global.gc === 'function') global.gc();
  const server = http.createServer(app);
  // autocannon keeps its connections open for the whole slice; Node's 5 s default keep-alive
  // timeout would close idle ones between slices for no reason.
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    // `monotonicUs` lets bench/profile.js leave start-up out of a --cpu-prof profile (V8's
    // profile timestamps are on the same monotonic clock).
    send({ type: 'ready', port, pool: fixtures.pool, monotonicUs: Number(process.hrtime.bigint() / 1000n) });
  });
  process.on('message', async (message) => {
    if (message && message.type === 'mint' && fixtures.mint) {
      const tokens = await fixtures.mint(message.count);
      writePool(message.file, tokens);
      send({ type: 'minted', file: message.file, count: tokens.length });
    }
  });
  process.on('disconnect', () => process.exit(0));
  // A normal exit on a signal, so a server started by hand with --cpu-prof writes its profile.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
}

/** @param {unknown} message */
function send(message) {
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

/**
 * Where fixtures go: the harness's temporary directory (argv[3]), or the OS temp dir when a
 * server is started by hand.
 * @param {string} name
 */
function fixturePath(name) {
  const dir = process.argv[3] ?? require('node:os').tmpdir();
  return require('node:path').join(dir, `${name}-${process.pid}.txt`);
}

module.exports = {
  GET_BODY,
  CLIENT,
  USER,
  ISSUER,
  accessClaims,
  benchApp,
  sendTokenJson,
  readForm,
  quietLogger,
  serve,
  writePool,
  fixturePath,
  dpopHeaders,
};
