/**
 * Configuration errors (issue #12): every start-up check throws a TokengateConfigError with a
 * stable code a caller can match on and a message naming the option; unknown option keys are
 * refused with the nearest known name; docs/configuration-errors.md lists every code.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Pool } from 'pg';
import {
  CONFIG_ERROR_CODES,
  memoryStores,
  memoryTokenStore,
  oauthServer,
  requireToken,
  TokengateConfigError,
  type ConfigErrorCode,
} from '../../src';
import { editDistance, nearestName } from '../../src/core/config';
import { postgresStores, postgresTokenStore } from '../../src/postgres';
import { redisClientStore, redisDeviceStore, redisReplayStore, redisTokenStore } from '../../src/redis';
import { describeTokenStore } from '../../src/testing';
import { CLIENTS, ISSUER, recordingLogger, USERS } from '../support/spine';

const stores = () => memoryStores({ clients: CLIENTS });

function codeOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(TokengateConfigError);
    expect(err).toBeInstanceOf(Error);
    const e = err as TokengateConfigError;
    expect(e.name).toBe('TokengateConfigError');
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a TokengateConfigError, nothing was thrown');
}

const server = (options: Record<string, unknown>) => () =>
  oauthServer(stores(), { logger: recordingLogger(), ...options } as never);
const { privateKey: small } = generateKeyPairSync('rsa', { modulusLength: 1024 });

describe('oauthServer: each configuration error has a stable code and names the option', () => {
  test.each<[string, Record<string, unknown>, ConfigErrorCode, RegExp]>([
    ['no issuer', {}, 'ERR_TOKENGATE_ISSUER_REQUIRED', /options\.issuer is required/],
    [
      'an issuer that is not a URL',
      { issuer: 'not a url' },
      'ERR_TOKENGATE_URL_INVALID',
      /options\.issuer must be an absolute URL/,
    ],
    [
      'an http issuer (RFC 8414 §2)',
      { issuer: 'http://auth.example.com' },
      'ERR_TOKENGATE_ISSUER_HTTPS',
      /options\.issuer must use https/,
    ],
    ['an issuer with a query', { issuer: `${ISSUER}?x=1` }, 'ERR_TOKENGATE_ISSUER_FORM', /query or fragment/],
    ['an issuer that is not ASCII', { issuer: 'https://例え.jp' }, 'ERR_TOKENGATE_ISSUER_FORM', /printable ASCII/],
    [
      'a negative lifetime',
      { issuer: ISSUER, accessTokenLifetime: -5 },
      'ERR_TOKENGATE_NUMBER',
      /options\.accessTokenLifetime must be a positive whole number/,
    ],
    [
      'a code lifetime over 600 s (RFC 6749 §4.1.2)',
      { issuer: ISSUER, authorizationCodeLifetime: 601 },
      'ERR_TOKENGATE_NUMBER',
      /at most 600/,
    ],
    [
      'a fractional cache size',
      { issuer: ISSUER, cache: { max: 1.5 } },
      'ERR_TOKENGATE_NUMBER',
      /options\.cache\.max must be a whole number/,
    ],
    [
      'a body timeout over an hour',
      { issuer: ISSUER, bodyTimeout: 7200 },
      'ERR_TOKENGATE_NUMBER',
      /options\.bodyTimeout must be a number of seconds between 0 and 3600/,
    ],
    [
      'a relative path',
      { issuer: ISSUER, tokenPath: 'token' },
      'ERR_TOKENGATE_PATH',
      /options\.tokenPath must be a path/,
    ],
    [
      'two endpoints on one path',
      { issuer: ISSUER, revocationPath: '/oauth/token' },
      'ERR_TOKENGATE_PATH',
      /must differ/,
    ],
    ['a realm with a quote', { issuer: ISSUER, realm: 'a"b' }, 'ERR_TOKENGATE_REALM', /options\.realm/],
    [
      'an unknown token format',
      { issuer: ISSUER, accessTokenFormat: 'paseto' },
      'ERR_TOKENGATE_CHOICE',
      /"jwt" or "opaque"/,
    ],
    [
      'a logger without error()',
      { issuer: ISSUER, logger: { warn() {} } },
      'ERR_TOKENGATE_LOGGER',
      /options\.logger must have warn\(\) and error\(\)/,
    ],
    [
      'a key without material',
      { issuer: ISSUER, keys: [{ alg: 'ES256' }] },
      'ERR_TOKENGATE_KEY',
      /keys\[0\]: give a privateKey/,
    ],
    [
      'a secret on an ES256 key (a type error too: KeyInput is discriminated on alg)',
      { issuer: ISSUER, keys: [{ alg: 'ES256', secret: 'x'.repeat(32) }] },
      'ERR_TOKENGATE_KEY',
      /keys\[0\]: `secret` is only for HS256/,
    ],
    [
      'a private key on an HS256 key',
      { issuer: ISSUER, keys: [{ alg: 'HS256', secret: 'x'.repeat(32), privateKey: small }] },
      'ERR_TOKENGATE_KEY',
      /keys\[0\]: HS256 takes a `secret` only/,
    ],
    [
      'a short RSA key',
      { issuer: ISSUER, keys: [{ alg: 'RS256', privateKey: small }] },
      'ERR_TOKENGATE_KEY',
      /at least 2048 bits/,
    ],
    [
      'only verify-only keys',
      { issuer: ISSUER, keys: [{ alg: 'HS256', secret: 'x'.repeat(32), verifyOnly: true }] },
      'ERR_TOKENGATE_NO_SIGNING_KEY',
      /no key that can sign/,
    ],
    [
      'a bad scope in scopesSupported',
      { issuer: ISSUER, scopesSupported: ['a b'] },
      'ERR_TOKENGATE_SCOPE',
      /scopesSupported/,
    ],
    [
      'a CORS origin with a path',
      { issuer: ISSUER, cors: { origins: ['https://app.example.com/'] } },
      'ERR_TOKENGATE_CORS_ORIGIN',
      /did you mean "https:\/\/app\.example\.com"/,
    ],
    ['pkce as a string', { issuer: ISSUER, pkce: 'strict' }, 'ERR_TOKENGATE_TYPE', /options\.pkce must be/],
    [
      'a brute-force limit that is not a limiter',
      { issuer: ISSUER, bruteForce: { address: 'off' } },
      'ERR_TOKENGATE_LIMITER',
      /options\.bruteForce\.address/,
    ],
  ])('%s: %j -> %s', (_name, options, code, message) => {
    const error = codeOf(server(options));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith('oauthServer')).toBe(true);
  });

  test('stores that miss a method: ERR_TOKENGATE_STORE', () => {
    expect(codeOf(() => oauthServer({ clients: {} as never }, { issuer: ISSUER })).code).toBe('ERR_TOKENGATE_STORE');
  });

  test('a client listed twice, a code-flow client without redirect URIs: ERR_TOKENGATE_CLIENT; a user listed twice: ERR_TOKENGATE_USER', () => {
    expect(codeOf(() => memoryStores({ clients: [CLIENTS[0]!, CLIENTS[0]!] })).code).toBe('ERR_TOKENGATE_CLIENT');
    expect(
      codeOf(() => memoryStores({ clients: [{ id: 'c', grants: ['authorization_code'], scopes: [] }] })).code,
    ).toBe('ERR_TOKENGATE_CLIENT');
    expect(codeOf(() => memoryStores({ clients: [], users: [USERS[0]!, USERS[0]!] })).code).toBe('ERR_TOKENGATE_USER');
  });
});

describe('unknown option keys are refused at start-up, with "did you mean"', () => {
  test('a misspelt top-level option names the nearest known one', () => {
    const error = codeOf(server({ issuer: ISSUER, bruteforce: false }));
    expect(error.code).toBe('ERR_TOKENGATE_UNKNOWN_OPTION');
    expect(error.message).toBe('oauthServer: options has no option "bruteforce". Did you mean "bruteForce"?');
  });

  test('nested options are checked too (a misspelt pkce.requireForAll would silently weaken PKCE)', () => {
    expect(codeOf(server({ issuer: ISSUER, pkce: { requireForall: true } })).message).toMatch(
      /options\.pkce has no option "requireForall"\. Did you mean "requireForAll"\?/,
    );
    expect(codeOf(server({ issuer: ISSUER, cache: { maxage: 5 } })).message).toMatch(
      /options\.cache has no option "maxage"\. Did you mean "maxAge"\?/,
    );
    expect(codeOf(server({ issuer: ISSUER, cors: { origin: ['https://a.example'] } })).message).toMatch(
      /options\.cors has no option "origin"\. Did you mean "origins"\?/,
    );
    expect(codeOf(server({ issuer: ISSUER, bruteForce: { usernames: { points: 3 } } })).message).toMatch(
      /options\.bruteForce has no option "usernames"\. Did you mean "username"\?/,
    );
    expect(
      codeOf(server({ issuer: ISSUER, keys: [{ alg: 'HS256', secret: 'x'.repeat(32), kidd: 'a' }] })).message,
    ).toMatch(/has no option "kidd"\. Did you mean "kid"\?/);
  });

  test('a key far from every option lists the known ones instead of guessing', () => {
    const error = codeOf(server({ issuer: ISSUER, port: 3000 }));
    expect(error.message).toMatch(/has no option "port"\. Known options: issuer, audience, keys/);
  });

  test('requireToken() checks its option names the same way', () => {
    const error = codeOf(() =>
      requireToken({ issuer: ISSUER, audience: 'api', jwks_uri: 'https://x.example/jwks' } as never),
    );
    expect(error.code).toBe('ERR_TOKENGATE_UNKNOWN_OPTION');
    expect(error.message).toMatch(/Did you mean "jwksUri"\?/);
  });

  test('the edit distance is Levenshtein, case-insensitive; only near names are suggested', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('bruteforce', 'bruteForce')).toBe(0);
    expect(nearestName('tokenpath', ['tokenPath', 'jwksPath'])).toBe('tokenPath');
    expect(nearestName('zzz', ['tokenPath', 'jwksPath'])).toBeUndefined();
  });
});

describe('requireToken() and the store adapters use the same codes', () => {
  test.each<[string, () => unknown, ConfigErrorCode]>([
    [
      'an http issuer',
      () => requireToken({ issuer: 'http://auth.example.com', audience: 'api' }),
      'ERR_TOKENGATE_ISSUER_HTTPS',
    ],
    ['no audience', () => requireToken({ issuer: ISSUER } as never), 'ERR_TOKENGATE_TYPE'],
    [
      'a zero issuerTimeout',
      () => requireToken({ issuer: ISSUER, audience: 'api', issuerTimeout: 0 }),
      'ERR_TOKENGATE_NUMBER',
    ],
    [
      'jwksUri and secret',
      () => requireToken({ issuer: ISSUER, audience: 'api', jwksUri: `${ISSUER}/jwks`, secret: 'x'.repeat(32) }),
      'ERR_TOKENGATE_CONFLICT',
    ],
    ['no options', () => requireToken(undefined as never), 'ERR_TOKENGATE_OPTIONS_REQUIRED'],
    ['redisTokenStore without a client', () => redisTokenStore({} as never), 'ERR_TOKENGATE_STORE_OPTION'],
    [
      'postgresTokenStore without a pool',
      () => postgresTokenStore({ pool: undefined as never }),
      'ERR_TOKENGATE_STORE_OPTION',
    ],
  ])('%s -> %s', (_name, run, code) => {
    expect(codeOf(run).code).toBe(code);
  });
});

describe('every duration option is in seconds: a former milliseconds name is refused, naming the new one (#17)', () => {
  // Never connected: the checks run before any command is sent.
  const redis = new Redis({ lazyConnect: true });
  const pool = new Pool();
  afterAll(async () => {
    redis.disconnect();
    await pool.end();
  });
  const renamed = (options: Record<string, unknown>) => options as never;

  test.each<[string, () => unknown, RegExp]>([
    [
      'requireToken timeout',
      () => requireToken(renamed({ issuer: ISSUER, audience: 'api', timeout: 5000 })),
      /^requireToken: options\.timeout is now options\.issuerTimeout in seconds: timeout: 5000 is issuerTimeout: 5\.$/,
    ],
    [
      'redisTokenStore timeoutMs',
      () => redisTokenStore(renamed({ client: redis, timeoutMs: 500 })),
      /redisTokenStore: options\.timeoutMs is now options\.timeout in seconds: timeoutMs: 500 is timeout: 0\.5\./,
    ],
    [
      'redisTokenStore heartbeatMs',
      () => redisTokenStore(renamed({ client: redis, heartbeatMs: 1000 })),
      /options\.heartbeatMs is now options\.heartbeatInterval in seconds: heartbeatMs: 1000 is heartbeatInterval: 1\./,
    ],
    [
      'redisReplayStore timeoutMs',
      () => redisReplayStore(renamed({ client: redis, timeoutMs: 250 })),
      /redisReplayStore: options\.timeoutMs is now options\.timeout .* timeout: 0\.25\./,
    ],
    [
      'redisClientStore timeoutMs',
      () => redisClientStore(renamed({ client: redis, timeoutMs: 2000 })),
      /redisClientStore: options\.timeoutMs is now options\.timeout .* timeout: 2\./,
    ],
    [
      'redisDeviceStore timeoutMs',
      () => redisDeviceStore(renamed({ client: redis, timeoutMs: 1000 })),
      /redisDeviceStore: options\.timeoutMs is now options\.timeout .* timeout: 1\./,
    ],
    [
      'postgresStores heartbeatMs',
      () => postgresStores(renamed({ pool, heartbeatMs: 2000 })),
      /postgresTokenStore: options\.heartbeatMs is now options\.heartbeatInterval .* heartbeatInterval: 2\./,
    ],
    [
      'memoryTokenStore sweepIntervalMs',
      () => memoryTokenStore(renamed({ sweepIntervalMs: 100 })),
      /memoryTokenStore: options\.sweepIntervalMs is now options\.sweepInterval .* sweepInterval: 0\.1\./,
    ],
    [
      'bruteForce.slowdown stepMs',
      server({ issuer: ISSUER, bruteForce: { slowdown: { username: { stepMs: 250 } } } }),
      /options\.bruteForce\.slowdown\.username\.stepMs is now options\.bruteForce\.slowdown\.username\.step .* step: 0\.25\./,
    ],
    [
      'bruteForce.slowdown maxMs',
      server({ issuer: ISSUER, bruteForce: { slowdown: { clientId: { maxMs: 5000 } } } }),
      /slowdown\.clientId\.maxMs is now options\.bruteForce\.slowdown\.clientId\.maxDelay .* maxDelay: 5\./,
    ],
    [
      'clientIdMetadataDocuments timeoutMs',
      server({ issuer: ISSUER, clientIdMetadataDocuments: { timeoutMs: 3000 } }),
      /options\.clientIdMetadataDocuments\.timeoutMs is now options\.clientIdMetadataDocuments\.timeout .* timeout: 3\./,
    ],
    [
      'describeTokenStore propagationMs',
      () => describeTokenStore('x', renamed({ create: () => memoryTokenStore(), dump: () => [], propagationMs: 2000 })),
      /describeTokenStore: harness\.propagationMs is now harness\.propagationTimeout .* propagationTimeout: 2\./,
    ],
  ])('%s: ERR_TOKENGATE_RENAMED_OPTION with the value to give', (_name, run, message) => {
    const error = codeOf(run);
    expect(error.code).toBe('ERR_TOKENGATE_RENAMED_OPTION');
    expect(error.message).toMatch(message);
  });

  test('the new names take seconds, fractions included', () => {
    expect(() => requireToken({ issuer: ISSUER, audience: 'api', issuerTimeout: 0.5 })).not.toThrow();
    expect(() => memoryTokenStore({ sweepInterval: 0.25 })).not.toThrow();
    const slow = oauthServer(stores(), {
      issuer: ISSUER,
      logger: recordingLogger(),
      bruteForce: { slowdown: { username: { step: 0.1, maxDelay: 2 } } },
    });
    expect(slow).toBeInstanceOf(Function);
  });
});

describe('docs/configuration-errors.md', () => {
  const doc = readFileSync(join(__dirname, '../../docs/configuration-errors.md'), 'utf8');
  test('lists every code, and no code that does not exist', () => {
    const documented = [...new Set(doc.match(/ERR_TOKENGATE_[A-Z_]+/g) ?? [])].sort();
    expect(documented).toEqual(Object.keys(CONFIG_ERROR_CODES).sort());
  });
});
