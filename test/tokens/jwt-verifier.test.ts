/**
 * The access-token verifier behind `requireToken`, introspection and revocation: compact JWS
 * decoded once and checked with node:crypto, the algorithm pinned to the key the `kid` names.
 * These are the rules it must keep beyond the round trips of test/tokens/jwt-signing.test.ts.
 */
import { createSecretKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidToken } from '../../src/core/errors';
import { JwtVerifier } from '../../src/tokens/jwt';
import { resolveKey } from '../../src/tokens/keys';

const ISSUER = 'https://as.example.com';
const es256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const key = resolveKey({ kid: 'k1', alg: 'ES256', privateKey: es256 }, 0);
const verifier = new JwtVerifier([key], {
  issuer: ISSUER,
  audience: [ISSUER, 'https://api.example.com'],
  clockTolerance: 5,
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function claims(extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: ISSUER,
    sub: 'alice',
    client_id: 'web-app',
    scope: 'read',
    jti: 'j1',
    iat: now,
    exp: now + 60,
    ...extra,
  };
}
/** Sign header and payload exactly as given (P-1363 r||s unless `der`). */
function signRaw(header: Record<string, unknown>, payload: unknown, der = false): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = cryptoSign('sha256', Buffer.from(input), { key: es256, dsaEncoding: der ? 'der' : 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}
const HEADER = { alg: 'ES256', typ: 'at+jwt', kid: 'k1' };

function refused(token: string, message?: RegExp): void {
  let caught: unknown;
  try {
    verifier.verify(token);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidToken);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('JwtVerifier', () => {
  test('a well-formed token passes, with our issuer and audience strings shared', () => {
    const verified = verifier.verify(signRaw(HEADER, claims({ aud: 'https://api.example.com' })));
    expect(verified).toMatchObject({
      sub: 'alice',
      client_id: 'web-app',
      scope: 'read',
      aud: 'https://api.example.com',
    });
  });

  test('an unknown critical header parameter is refused (RFC 7515 §4.1.11)', () => {
    refused(signRaw({ ...HEADER, crit: ['exp'], exp: 1 }, claims()), /critical/);
    refused(signRaw({ ...HEADER, crit: [] }, claims()), /critical/);
  });

  test('the header cannot choose the algorithm: alg none, HS256 with the public key, or another alg for the kid (RFC 8725 §2.1)', () => {
    const none = `${b64({ ...HEADER, alg: 'none' })}.${b64(claims())}.`;
    refused(none, /not signed by this server/);
    const pem = key.verifyKey.export({ type: 'spki', format: 'pem' });
    const hs = jwt.sign(claims(), createSecretKey(Buffer.from(pem)), {
      algorithm: 'HS256',
      keyid: 'k1',
      header: { alg: 'HS256', typ: 'at+jwt' },
    });
    refused(hs, /not signed by this server/);
    refused(signRaw({ ...HEADER, alg: 'ES384' }, claims()), /not signed by this server/);
  });

  test('an ECDSA signature must be r||s (RFC 7518 §3.4): the DER form of a valid signature is refused', () => {
    refused(signRaw(HEADER, claims(), true), /invalid/);
  });

  test('only unpadded base64url parts (RFC 7515 §2): padding or other characters are refused, not read leniently', () => {
    const token = signRaw(HEADER, claims());
    const [h, p, s] = token.split('.') as [string, string, string];
    refused(`${h}.${p}.${s}=`, /malformed/);
    refused(`${h}.${p}.${s.slice(0, 10)}+${s.slice(11)}`, /malformed/);
    refused(`${h}=.${p}.${s}`, /malformed/);
  });

  test('typ must be at+jwt (RFC 9068 §4)', () => {
    refused(signRaw({ ...HEADER, typ: 'JWT' }, claims()), /not an access token/);
    expect(verifier.verify(signRaw({ ...HEADER, typ: 'application/at+jwt' }, claims())).sub).toBe('alice');
  });

  test('exp and nbf with the clock tolerance (RFC 7519 §4.1.4, §4.1.5)', () => {
    const now = Math.floor(Date.now() / 1000);
    refused(signRaw(HEADER, claims({ exp: now - 10 })), /expired/);
    expect(verifier.verify(signRaw(HEADER, claims({ exp: now - 2 }))).sub).toBe('alice');
    refused(signRaw(HEADER, claims({ nbf: now + 60 })), /invalid/);
    expect(verifier.verify(signRaw(HEADER, claims({ nbf: now + 2 }))).sub).toBe('alice');
    refused(signRaw(HEADER, claims({ exp: String(now + 60) })), /invalid/);
    refused(signRaw(HEADER, claims({ nbf: 'soon' })), /invalid/);
  });

  test('iss must be ours and aud must name us (a string or one of an array, RFC 7519 §4.1.3)', () => {
    refused(signRaw(HEADER, claims({ iss: 'https://evil.example.com' })), /invalid/);
    refused(signRaw(HEADER, claims({ aud: 'https://other.example.com' })), /invalid/);
    refused(signRaw(HEADER, claims({ aud: ['https://other.example.com', 7] })), /invalid/);
    expect(verifier.verify(signRaw(HEADER, claims({ aud: ['https://other.example.com', ISSUER] }))).sub).toBe('alice');
  });

  test('a payload that is not a JSON object, or lacks an access token claim, is refused', () => {
    refused(signRaw(HEADER, ['not', 'an', 'object']), /invalid/);
    refused(signRaw(HEADER, 'a string'), /invalid/);
    const { scope: _scope, ...noScope } = claims();
    refused(signRaw(HEADER, noScope), /lacks required claims/);
  });

  test('headers already accepted are remembered, but only for the exact same header: any other is checked afresh', () => {
    const fresh = new JwtVerifier([key], { issuer: ISSUER, audience: ISSUER, clockTolerance: 0 });
    for (let i = 0; i < 3; i++) expect(fresh.verify(signRaw(HEADER, claims())).sub).toBe('alice');
    // Same members, other order or an extra member: a different segment, parsed and checked.
    expect(fresh.verify(signRaw({ kid: 'k1', typ: 'at+jwt', alg: 'ES256' }, claims())).sub).toBe('alice');
    expect(() => fresh.verify(signRaw({ ...HEADER, crit: ['b64'] }, claims()))).toThrow(InvalidToken);
    expect(() => fresh.verify(signRaw({ ...HEADER, typ: 'JWT' }, claims()))).toThrow(InvalidToken);
    // Forty other accepted headers (more than it remembers) change nothing for anyone.
    for (let i = 0; i < 40; i++) expect(fresh.verify(signRaw({ ...HEADER, n: i }, claims())).sub).toBe('alice');
    expect(fresh.verify(signRaw(HEADER, claims())).sub).toBe('alice');
    // A remembered header with a bad signature is still refused.
    const [h, p] = signRaw(HEADER, claims()).split('.') as [string, string];
    refused(`${h}.${p}.${Buffer.alloc(64).toString('base64url')}`, /invalid/);
  });

  test('a flipped bit in the payload breaks the signature', () => {
    const [h, p, s] = signRaw(HEADER, claims({ scope: 'read' })).split('.') as [string, string, string];
    const tampered = b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'admin' });
    refused(`${h}.${tampered}.${s}`, /invalid/);
  });
});
