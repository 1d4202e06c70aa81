// The demo's signing keys, kept in a key file so that a restart keeps issued tokens valid: made
// on first start with tokengate's generateKeys (what `npx tokengate keygen` runs), read back
// with loadKeys on every start after. The file is private (mode 0600) and git-ignored.
'use strict';
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { generateKeys, loadKeys } = require('tokengate');

/** Where `npm start` keeps the demo's keys unless DEMO_KEYS_FILE says otherwise. */
const DEFAULT_KEYS_FILE = join(__dirname, '.data', 'signing-keys.json');

/**
 * The keys in `file` as `options.keys`, after creating the file if there is none: an ES256 key
 * for access tokens (the first key that signs) and an RS256 key for ID tokens (OpenID Connect
 * Core §15.1 wants every provider to sign with RS256). `created` says whether it was made now.
 */
function demoKeys(file = DEFAULT_KEYS_FILE) {
  if (existsSync(file)) return { keys: loadKeys(file), file, created: false };
  const accessTokens = generateKeys({ alg: 'ES256' }).privateJwks.keys;
  const idTokens = generateKeys({ alg: 'RS256' }).privateJwks.keys;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // `wx`: never overwrite a key file another process just wrote.
  writeFileSync(file, JSON.stringify({ keys: [...accessTokens, ...idTokens] }, null, 2) + '\n', {
    mode: 0o600,
    flag: 'wx',
  });
  return { keys: loadKeys(file), file, created: true };
}

module.exports = { demoKeys, DEFAULT_KEYS_FILE };
