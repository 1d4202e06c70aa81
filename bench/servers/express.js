/**
 * The ceilings: what Express itself costs, with nothing to check.
 *
 * - `get`: a bare `app.get('/')` answering {@link GET_BODY} — the most a guarded GET route
 *   could ever do.
 * - `post`: `express.urlencoded()` plus a handler that answers a fixed token response of the
 *   same shape and size as a real one, with the same no-store headers — the most a token
 *   endpoint could do (it still has to read and parse the form body).
 *
 * Usage: `node bench/servers/express.js get|post [fixtureDir]`
 * @packageDocumentation
 */
'use strict';
const express = require('express');
const { GET_BODY, serve } = require('./common');

const mode = process.argv[2];
const app = express();

if (mode === 'get') {
  app.get('/', (_req, res) => {
    res.json(GET_BODY);
  });
} else if (mode === 'post') {
  // An ES256 JWT access token is ~400 characters; a fixed one of that size keeps the response
  // bytes equal to the real endpoint's.
  const fixed = Object.freeze({
    access_token: `eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.${'x'.repeat(300)}.${'y'.repeat(86)}`,
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'read',
  });
  app.post('/oauth/token', express.urlencoded({ extended: false }), (req, res) => {
    // Touch the parsed body as a real handler would, so the parser's work cannot be skipped.
    if (req.body.grant_type === undefined) {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(fixed);
  });
} else {
  throw new Error(`bench/servers/express.js: mode must be "get" or "post" (got ${String(mode)}).`);
}

serve(app);
