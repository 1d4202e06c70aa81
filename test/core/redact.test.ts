/**
 * The masking rule for free text in log lines (issue #17), in both directions: what is secret
 * is masked (JWTs, HTTP credentials, Authorization values, credential parameters, PEM keys,
 * random 32+ character runs such as every token, code, secret and hash this library makes);
 * what an operator needs stays readable (relation and constraint names, constants, camelCase
 * names, UUIDs, registered client ids, paths, addresses).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { hashToken, randomToken } from '../../src/core/crypto';
import { isIdentifier, loggableError, maskTokens, serializedError } from '../../src/core/redact';

const MASK = '[redacted]';

describe('masked: what is secret', () => {
  test.each([
    ['a token this library issues', () => `refresh ${randomToken()} failed`, `refresh ${MASK} failed`],
    ['a token hash (a store id)', () => `key ${hashToken('x')} missing`, `key ${MASK} missing`],
    ['a 32-byte secret in hex', () => `secret ${'0f1e2d3c4b5a6978'.repeat(4)}`, `secret ${MASK}`],
    ['a base64 secret with + / and padding', () => 'k=Zm9v+YmFy/YmF6cXV4cXV1eHF1dXhxdXV4cXV1eA==', `k=${MASK}`],
    ['a JWT', () => 'bad eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl here', `bad ${MASK} here`],
    ['a Bearer credential', () => 'Authorization: Bearer abc.def-ghi', `Authorization: ${MASK}`],
    ['a Basic credential', () => 'sent Basic d2ViLWFwcDp3ZWItc2VjcmV0', `sent ${MASK}`],
    ['a DPoP credential', () => 'sent DPoP Kq9xW2v.L0-3', `sent ${MASK}`],
    ['any Authorization header value', () => '{"authorization":"token ghp_abc"}', `{"authorization":${MASK}}`],
    [
      'credential parameters in a URL',
      () => 'GET /cb?code=abc&state=s1&access_token=x2',
      `GET /cb?code=${MASK}&state=s1&access_token=${MASK}`,
    ],
    [
      'credential members in JSON',
      () => '{"client_secret":"s3","password":"p\\"w","code":"XX000"}',
      `{"client_secret":"${MASK}","password":"${MASK}","code":"XX000"}`,
    ],
  ])('%s', (_, text, expected) => {
    expect(maskTokens(text())).toBe(expected);
  });

  test('a PEM private key', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(maskTokens(`key: ${String(pem).trim()} end`)).toBe(`key: ${MASK} end`);
  });

  test('no token this library makes reads as an identifier (100 000 draws of 43 characters, the same every run)', () => {
    // SHA-256 digests of a counter are as random as a token (32 bytes, base64url), and the
    // same in every run: a rare draw cannot make the suite flaky.
    let readable = 0;
    for (let i = 0; i < 100_000; i++)
      if (isIdentifier(createHash('sha256').update(`draw ${i}`).digest('base64url'))) readable++;
    expect(readable).toBe(0);
  });

  test('a token of random letters that happens to split into long words is still masked: its words are not pronounceable', () => {
    // Drawn by randomToken() in a CI run, where the word-length rule alone let it through.
    const token = 'kglwylazrHgennWMWkfZONfkxaecRtntYyuMdXimtpw';
    expect(isIdentifier(token)).toBe(false);
    expect(maskTokens(`refresh ${token} failed`)).toBe(`refresh ${MASK} failed`);
  });
});

describe('readable: what an operator needs', () => {
  test.each([
    ['a relation in a Postgres error', `relation "tokengate_refresh_token_families_family_id_idx" does not exist`],
    ['a constraint name', 'duplicate key value violates unique constraint "tokengate_tokens_pkey_family_id_index"'],
    ['configuration error codes', 'ERR_TOKENGATE_STORE_OPTION_INVALID_VALUE and ERR_TOKENGATE_LOGGER'],
    [
      'camelCase and PascalCase names',
      'postgresTokenStoreRevocationChannelListener HTTPServerConnectionResetByPeerError',
    ],
    ['a UUID client id', 'client 3f2b6c1e-8a4d-4b2e-9c1f-0d2e3f4a5b6c'],
    ['a registered client id (tgc_ and 24 random characters)', 'client tgc_Q2xpZW50SWRGcm9tUmVnaXN0cg'],
    ['a family id or jti (22 characters)', 'family gT5k2hXb0LqN8vRz1Yc3Aw'],
    ['a path', '/usr/local/lib/node_modules/tokengate/dist/cjs/stores/postgres/tokens.js:10:5'],
    ['an address', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ['prose after an auth scheme', 'HTTP Basic authentication failed; Bearer token required'],
  ])('%s', (_, text) => {
    expect(maskTokens(text)).toBe(text);
  });
});

describe('errors for structured loggers', () => {
  test('loggableError keeps the class, identifying fields and cause; masks message and stack; drops the rest', () => {
    class DatabaseError extends Error {}
    const token = randomToken();
    const err = Object.assign(new DatabaseError(`lookup of ${token} in "tokengate_tokens" failed`), {
      code: '57P01',
      table: 'tokengate_tokens',
      parameters: ['alice', 'wonderland'],
      config: { headers: { Authorization: 'Bearer x' } },
      cause: Object.assign(new Error('terminating connection'), { errno: -104, syscall: 'read' }),
    });
    const copy = loggableError(err);
    expect(copy).toBeInstanceOf(DatabaseError);
    expect(copy.message).toBe(`lookup of ${MASK} in "tokengate_tokens" failed`);
    expect(copy.stack).not.toContain(token);
    expect({ ...copy }).toEqual({ code: '57P01', table: 'tokengate_tokens' });
    expect(copy.cause).toMatchObject({ message: 'terminating connection', errno: -104, syscall: 'read' });
    expect(serializedError(err)).toMatchObject({
      type: 'DatabaseError',
      message: `lookup of ${MASK} in "tokengate_tokens" failed`,
      code: '57P01',
      cause: { type: 'Error', errno: -104 },
    });
    expect(JSON.stringify(serializedError(err))).not.toMatch(/wonderland|parameters|Bearer/);
  });
});
