// Type-level test (checked by `npm run lint`, and compiled against the published package by
// test/package/typing.test.ts): a key's material must fit its algorithm (#17).
import { generateKeyPairSync } from 'node:crypto';
import type { KeyInput } from '../../src';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const secret = 'a shared secret of at least thirty-two bytes';

export const accepted: KeyInput[] = [
  { alg: 'HS256', secret },
  { alg: 'ES256', privateKey },
  { alg: 'ES384', privateKey: '-----BEGIN PRIVATE KEY-----' },
  { alg: 'RS256', privateKey: { kty: 'RSA' } },
  { alg: 'PS256', publicKey, verifyOnly: true, kid: 'old' },
];

export const refused: KeyInput[] = [
  // @ts-expect-error a secret on an ECDSA key
  { alg: 'ES256', secret },
  // @ts-expect-error a secret on an RSA key
  { alg: 'RS256', secret },
  // @ts-expect-error a private key on an HMAC key
  { alg: 'HS256', privateKey },
  // @ts-expect-error an HMAC key needs its secret
  { alg: 'HS256' },
  // @ts-expect-error an asymmetric key needs a private or a public key
  { alg: 'ES256' },
  // @ts-expect-error a secret and a private key at once
  { alg: 'ES256', privateKey, secret },
  // @ts-expect-error an algorithm tokengate does not sign with
  { alg: 'none', secret },
];
