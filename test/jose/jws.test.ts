/**
 * The one compact JWS module (RFC 7515 §7.1) behind access tokens, DPoP proofs and client
 * assertions: every algorithm verifies its own signatures, the algorithm is the caller's and
 * only a key of the type it needs is used (RFC 8725 §2.1, §3.1), and malformed input is
 * `undefined` or `false`, never a throw.
 */
import { createHmac, createPublicKey, createSecretKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  decodeJws,
  splitCompact,
  verifyJwsSignature,
  type AsymmetricJwsAlgorithm,
  type JwsAlgorithm,
} from '../../src/jose/jws';
import { dpopKey, signJws } from '../support/dpop';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function hmacToken(alg: 'HS256' | 'HS384' | 'HS512', secret: KeyObject): string {
  const input = `${b64({ alg })}.${b64({ sub: 'x' })}`;
  return `${input}.${createHmac(`sha${alg.slice(2)}`, secret)
    .update(input)
    .digest('base64url')}`;
}

describe('every algorithm verifies its own signature and refuses a key of another type (RFC 7518 §3)', () => {
  const ec256 = dpopKey('ES256');
  const rsa = dpopKey('RS256');
  const ed = dpopKey('EdDSA');
  const publicOf = (k: ReturnType<typeof dpopKey>): KeyObject => createPublicKey(k.privateKey);

  test.each<[AsymmetricJwsAlgorithm, ReturnType<typeof dpopKey>]>([
    ['ES256', ec256],
    ['RS256', rsa],
    ['RS512', rsa],
    ['PS256', rsa],
    ['PS384', rsa],
    ['EdDSA', ed],
  ])('%s', (alg, key) => {
    const token = signJws(key, { alg }, { sub: 'x' }, alg);
    const jws = splitCompact(token)!;
    expect(verifyJwsSignature(jws, alg, publicOf(key))).toBe(true);
    // Another key of the right type, and a key of the wrong type, are both refused.
    const wrongType = key === ec256 ? rsa : ec256;
    expect(verifyJwsSignature(jws, alg, publicOf(wrongType))).toBe(false);
    const tampered = splitCompact(`${token.slice(0, jws.dot1)}.${b64({ sub: 'y' })}${token.slice(jws.dot2)}`)!;
    expect(verifyJwsSignature(tampered, alg, publicOf(key))).toBe(false);
  });

  test('ES384 and ES512 need their own curves: a P-256 key is never used for them', () => {
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    const input = `${b64({ alg: 'ES512' })}.${b64({ sub: 'x' })}`;
    const signature = sign('sha512', Buffer.from(input), { key: p521.privateKey, dsaEncoding: 'ieee-p1363' });
    const jws = splitCompact(`${input}.${signature.toString('base64url')}`)!;
    expect(verifyJwsSignature(jws, 'ES512', p521.publicKey)).toBe(true);
    expect(verifyJwsSignature(jws, 'ES384', p521.publicKey)).toBe(false);
    expect(verifyJwsSignature(jws, 'ES512', publicOf(ec256))).toBe(false);
  });

  test('HMAC takes only a secret key: HS256 "signed" with a public key is refused (alg confusion, RFC 8725 §2.1)', () => {
    const secret = createSecretKey(Buffer.alloc(32, 7));
    for (const alg of ['HS256', 'HS384', 'HS512'] as const)
      expect(verifyJwsSignature(splitCompact(hmacToken(alg, secret))!, alg, secret)).toBe(true);
    const pem = publicOf(ec256).export({ format: 'pem', type: 'spki' });
    const confused = splitCompact(hmacToken('HS256', createSecretKey(Buffer.from(pem))))!;
    expect(verifyJwsSignature(confused, 'HS256', publicOf(ec256))).toBe(false);
    // And an asymmetric algorithm never takes a secret key.
    expect(verifyJwsSignature(confused, 'ES256', secret)).toBe(false);
  });

  test('a 1024-bit RSA key is refused (RFC 7518 §3.3: 2048 bits or more)', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const input = `${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}`;
    const signature = sign('sha256', Buffer.from(input), small.privateKey).toString('base64url');
    expect(verifyJwsSignature(splitCompact(`${input}.${signature}`)!, 'RS256', small.publicKey)).toBe(false);
  });

  test('an algorithm outside the list (none) is refused, whatever the key', () => {
    const jws = splitCompact(`${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`)!;
    expect(verifyJwsSignature(jws, 'none' as JwsAlgorithm, createSecretKey(Buffer.alloc(32)))).toBe(false);
  });
});

describe('decoding (RFC 7515 §7.1)', () => {
  test('three unpadded base64url parts, or undefined; never a throw', () => {
    for (const bad of ['', 'a.b', 'a.b.c.d', 'a=.b.c', 'a b.c.d', '.e30.sig', 'e30..sig'])
      expect(splitCompact(bad)).toBeUndefined();
    expect(splitCompact('e30.e30.sig')).toEqual({ token: 'e30.e30.sig', dot1: 3, dot2: 7 });
    expect(splitCompact('e30.e30.sig', 5)).toBeUndefined();
  });

  test('decodeJws: header and payload must be JSON objects, and the signature present', () => {
    expect(decodeJws('e30.e30.sig', 100)).toMatchObject({ header: {}, payload: {} });
    expect(decodeJws('e30.e30.', 100)).toBeUndefined();
    expect(decodeJws(`${b64([1])}.e30.sig`, 100)).toBeUndefined();
    expect(decodeJws(`e30.${Buffer.from('not json').toString('base64url')}.sig`, 100)).toBeUndefined();
  });
});
