/**
 * The standalone resource server's JWKS cache under attack: unauthenticated JWTs with made-up
 * `kid`s must never make a known key refused nor stop a rotated-in key from being learnt
 * (stale-while-revalidate, one refetch per interval for unknown kids), and every fetch is
 * bounded (size, time, no redirects). Real HTTP: a JWKS endpoint the test controls and a
 * resource server on its own port.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { requireToken, type ResourceServerOptions } from '../../src';
import { findKey, parseKeySet } from '../../src/resource-server/jwk-set';
import {
  accessToken,
  startJwksServer,
  testKey,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type JwksServer,
  type TestKey,
} from '../support/jwks';
import { waitFor } from '../support/redis-server';
import { listen, recordingLogger } from '../support/spine';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

async function jwksServer(keys: TestKey[]): Promise<JwksServer> {
  const server = await startJwksServer(keys);
  closers.push(server.close);
  return server;
}

/** A resource server on its own port guarding GET /me with the keys of `jwks`. */
async function resourceServer(jwks: JwksServer, options: Partial<ResourceServerOptions> = {}) {
  const logger = recordingLogger();
  const guard = requireToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: jwks.url, logger, ...options });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const app = require('express5')();
  app.get('/me', guard, (_req: unknown, res: { json: (v: unknown) => void }) => res.json({ ok: true }));
  const server = await listen(app);
  closers.push(server.close);
  const get = async (token: string): Promise<number> =>
    (await fetch(`${server.url}/me`, { headers: { Authorization: `Bearer ${token}` } })).status;
  return { logger, get };
}

/** A token with a made-up kid, signed by a key the issuer never published. */
const attacker = testKey('attacker');
const garbage = (i: number): string => accessToken(attacker, { kid: `made-up-${i}-${Math.random()}` });

/** Send garbage tokens, `width` at a time, until `stop()`; returns how many were not 401. */
function flood(get: (token: string) => Promise<number>, width = 8): { stop: () => Promise<number> } {
  let running = true;
  let accepted = 0;
  let i = 0;
  const loop = (async () => {
    while (running) {
      const statuses = await Promise.all(Array.from({ length: width }, () => get(garbage(i++))));
      accepted += statuses.filter((s) => s !== 401).length;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return accepted;
    },
  };
}

describe('JWKS refresh under a flood of made-up kids (stale-while-revalidate)', () => {
  test('made-up kids never make a known key refused, and a rotated-in key is learnt while the flood goes on', async () => {
    const current = testKey('key-2026-05');
    const rotated = testKey('key-2026-11');
    const jwks = await jwksServer([current]);
    // One refetch per 30 s for unknown kids, keys fresh for 1 s: the flood uses up the refetch
    // budget long before the real key's cache age runs out.
    const rs = await resourceServer(jwks, { jwks: { cacheMaxAge: 1, requestsPerMinute: 2 } });
    expect(await rs.get(accessToken(current))).toBe(200);

    jwks.keys = [rotated, current]; // the issuer publishes its next key
    const floodStarted = Date.now();
    const attack = flood(rs.get);
    await sleep(1100); // the known key's cache age runs out during the flood
    // Fresh tokens each time (a validated token is cached by the guard, whatever the keys do).
    expect(await rs.get(accessToken(current))).toBe(200);
    expect(await rs.get(accessToken(rotated))).toBe(200);
    expect(await rs.get(accessToken(current))).toBe(200);
    expect(await attack.stop()).toBe(0);
    // The flood cost the issuer a bounded number of fetches: the first, one unknown-kid refetch
    // (the interval is 30 s), and one refresh per cache age (1 s) the flood lasted.
    expect(jwks.hits).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - floodStarted) / 1000));
    expect(rs.logger.lines.some((l) => l.level === 'warn' && l.message.includes('rate limit'))).toBe(true);
  });

  test('an unknown kid triggers at most one refetch per interval, and concurrent ones share it', async () => {
    const key = testKey('only');
    const jwks = await jwksServer([key]);
    const rs = await resourceServer(jwks, { jwks: { requestsPerMinute: 1 } });
    expect(await rs.get(accessToken(key))).toBe(200);
    expect(jwks.hits).toBe(1);
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => rs.get(garbage(i))));
    expect(statuses.every((s) => s === 401)).toBe(true);
    for (let i = 0; i < 50; i++) expect(await rs.get(garbage(i))).toBe(401);
    expect(jwks.hits).toBe(2);
    // Logged, but not once per request of the flood.
    expect(rs.logger.lines.filter((l) => l.level === 'warn').length).toBeLessThanOrEqual(2);
    expect(await rs.get(accessToken(key))).toBe(200);
  });

  test('known keys are served past their cache age while the refetch fails (stale-while-revalidate)', async () => {
    const key = testKey('k1');
    const jwks = await jwksServer([key]);
    const rs = await resourceServer(jwks, { jwks: { cacheMaxAge: 1, requestsPerMinute: 60 } });
    expect(await rs.get(accessToken(key))).toBe(200);
    jwks.mode = 'fail';
    await sleep(1100);
    expect(await rs.get(accessToken(key))).toBe(200); // answered from the stale set; refresh starts
    await waitFor('the refresh to fail', () => rs.logger.lines.some((l) => l.level === 'error'));
    expect(jwks.hits).toBe(2);
    expect(await rs.get(accessToken(key))).toBe(200); // still served after the failure
    const logged = rs.logger.lines.find((l) => l.level === 'error');
    expect(logged?.message).toContain('the keys fetched before stay in use');
  });

  test('known keys are served past their cache age while a refetch is pending', async () => {
    const key = testKey('k1');
    const jwks = await jwksServer([key]);
    const rs = await resourceServer(jwks, { jwks: { cacheMaxAge: 1 }, issuerTimeout: 60 });
    expect(await rs.get(accessToken(key))).toBe(200);
    jwks.mode = 'hang';
    await sleep(1100);
    expect(await rs.get(accessToken(key))).toBe(200); // did not wait for the refresh it started
    await waitFor('the refresh to reach the issuer', () => jwks.hits === 2);
    expect(await rs.get(accessToken(key))).toBe(200);
    expect(await rs.get(accessToken(key))).toBe(200);
    // One refetch is hanging at the issuer; the requests above did not wait for it, nor start more.
    expect(jwks.hits).toBe(2);
    jwks.mode = 'ok';
    jwks.release();
  });

  test('a refetch that succeeds replaces the set: a retired key is no longer accepted', async () => {
    const old = testKey('old');
    const next = testKey('next');
    const jwks = await jwksServer([next, old]);
    const rs = await resourceServer(jwks, { jwks: { cacheMaxAge: 1 } });
    expect(await rs.get(accessToken(old))).toBe(200);
    jwks.keys = [next];
    await sleep(1100);
    expect(await rs.get(accessToken(next))).toBe(200); // served, and starts the refresh
    await waitFor('the refreshed set to drop the retired key', async () => (await rs.get(accessToken(old))) === 401);
    expect(await rs.get(accessToken(next))).toBe(200);
  });
});

describe('JWKS fetches are bounded (size, time, redirects)', () => {
  test.each([
    ['a body larger than 256 KiB', 'huge' as const, {}, 'larger than'],
    ['a redirect, even to another origin that would answer', 'redirect' as const, {}, 'fetch failed'],
    ['an answer slower than the timeout', 'hang' as const, { issuerTimeout: 0.3 }, 'aborted due to timeout'],
    ['an error status', 'fail' as const, {}, 'answered 503'],
  ])('%s: 401 invalid_token, the cause logged, never a crash', async (_name, mode, options, cause) => {
    const key = testKey('k1');
    const jwks = await jwksServer([key]);
    const elsewhere = await jwksServer([key]);
    jwks.mode = mode;
    jwks.redirectTo = elsewhere.url;
    const rs = await resourceServer(jwks, options);
    expect(await rs.get(accessToken(key))).toBe(401);
    expect(elsewhere.hits).toBe(0);
    const logged = rs.logger.lines.find((l) => l.level === 'error');
    expect(logged?.message).toContain('could not fetch the signing keys');
    const chain: string[] = [];
    for (let e = logged?.detail as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e)
      chain.push(String(e.message));
    expect(chain.join(' | ')).toContain(cause);
    jwks.release();
  });
});

describe('reading a JWK Set (RFC 7517 §5) with node:crypto', () => {
  const ec = testKey('ec');
  test('keeps only asymmetric signature keys, and only their public members', () => {
    const set = parseKeySet(
      {
        keys: [
          { kty: 'oct', kid: 'sym', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' },
          { ...ec.jwk, kid: 'enc', use: 'enc' },
          { ...ec.jwk, kid: 'bad', x: 'AAAA' },
          { ...ec.privateKey.export({ format: 'jwk' }), kid: 'with-private', alg: 'ES256' },
          ec.jwk,
        ],
      },
      'test',
    );
    expect(set.all.map((k) => k.kid)).toEqual(['with-private', 'ec']);
    for (const k of set.all) expect(k.key.type).toBe('public');
    expect(findKey(set, 'sym', 'HS256')).toBeUndefined();
    expect(findKey(set, 'ec', 'ES256')?.kid).toBe('ec');
    expect(findKey(set, 'ec', 'RS256')).toBeUndefined(); // the published alg pins the key (RFC 7517 §4.4)
  });

  test('a document that is not a JWK Set, or has no usable key, is an error (the previous keys stay)', () => {
    expect(() => parseKeySet({ keys: 'no' }, 'test')).toThrow(/not a JWK Set/);
    expect(() => parseKeySet({ keys: [{ kty: 'oct', k: 'x' }] }, 'test')).toThrow(/no usable signing key/);
  });
});
