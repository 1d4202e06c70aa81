/**
 * Signing keys: imported once at start-up into `KeyObject`s (jsonwebtoken re-imports a PEM
 * or string secret on every call, which costs more than the signature itself).
 * @packageDocumentation
 */
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  KeyObject,
  type JsonWebKey,
} from 'node:crypto';
import { checkKnownKeys, isPlainObject, TokengateConfigError } from '../core/config';
import { jwkThumbprint } from '../jose/thumbprint';

/** Signature algorithms tokengate signs and verifies with. */
export type SigningAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'PS256' | 'HS256';

/** Key material in any form Node can import: PEM text, DER buffer, a JWK object or a `KeyObject`. */
export type KeyMaterial = string | Buffer | KeyObject | JsonWebKey;

/** Algorithms signed with a shared secret (HMAC). */
export type SymmetricAlgorithm = Extract<SigningAlgorithm, `HS${string}`>;

/** Algorithms signed with a private key and verified with its public key (RSA, RSA-PSS, ECDSA). */
export type AsymmetricAlgorithm = Exclude<SigningAlgorithm, SymmetricAlgorithm>;

/**
 * An HMAC key (`HS256`): a shared secret, at least 32 bytes. Never published in the JWKS.
 * Takes no `privateKey` or `publicKey` (a type error, and refused at start-up).
 */
export interface SymmetricKeyInput {
  /** Key id put in every token's header and in the JWKS. Default: the RFC 7638 thumbprint. */
  kid?: string;
  /** Keep this key for verification only, even if it has private material. */
  verifyOnly?: boolean;
  /** The algorithm this key is used with; verification accepts only this algorithm for it. */
  alg: SymmetricAlgorithm;
  /** The shared secret, at least 32 bytes. */
  secret: string | Buffer | KeyObject;
  /** Not for HMAC: an HS256 key is a `secret`. */
  privateKey?: never;
  /** Not for HMAC: an HS256 key is a `secret`. */
  publicKey?: never;
}

/**
 * A private key (`ES256`, `ES384`, `RS256`, `PS256`) as PEM text, DER, a JWK or a `KeyObject`:
 * it signs, and its public key (derived) verifies and is published in the JWKS. Takes no
 * `secret` (a type error, and refused at start-up).
 */
export interface PrivateKeyInput {
  /** Key id put in every token's header and in the JWKS. Default: the RFC 7638 thumbprint. */
  kid?: string;
  /** Keep this key for verification only, even if it has private material. */
  verifyOnly?: boolean;
  /** The algorithm this key is used with; verification accepts only this algorithm for it. */
  alg: AsymmetricAlgorithm;
  /** The private key; the public key is derived from it. */
  privateKey: KeyMaterial;
  /** Not needed: derived from `privateKey` (ignored when given). */
  publicKey?: KeyMaterial;
  /** Only for HS256: a private key signs here. */
  secret?: never;
}

/**
 * A public key only (`ES256`, `ES384`, `RS256`, `PS256`): it verifies but cannot sign, e.g. a
 * retired key whose tokens are still valid, or the next key before it becomes active.
 */
export interface PublicKeyInput {
  /** Key id put in every token's header and in the JWKS. Default: the RFC 7638 thumbprint. */
  kid?: string;
  /** Keep this key for verification only, even if it has private material. */
  verifyOnly?: boolean;
  /** The algorithm this key is used with; verification accepts only this algorithm for it. */
  alg: AsymmetricAlgorithm;
  /** The public key. */
  publicKey: KeyMaterial;
  /** A key with a private key is a {@link PrivateKeyInput}. */
  privateKey?: never;
  /** Only for HS256. */
  secret?: never;
}

/**
 * A key for signing and/or verifying access tokens: a union discriminated by `alg`, so that
 * the material must fit the algorithm (`{ alg: 'ES256', secret }` and
 * `{ alg: 'HS256', privateKey }` are type errors, and both are refused at start-up too).
 *
 * @example
 * ```ts
 * keys: [
 *   { kid: '2026-11', alg: 'ES256', privateKey: fs.readFileSync('es256-2026-11.pem', 'utf8') },
 *   { kid: '2026-05', alg: 'ES256', publicKey: oldPublicPem, verifyOnly: true },
 * ]
 * ```
 */
export type KeyInput = SymmetricKeyInput | PrivateKeyInput | PublicKeyInput;

/** A key ready to use: imported once, checked against its algorithm. */
export interface ResolvedKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** Present when this key may sign. */
  readonly signKey?: KeyObject;
  readonly verifyKey: KeyObject;
  /** The public JWK (asymmetric keys only), with `kid`, `alg` and `use`. */
  readonly publicJwk?: JsonWebKey;
}

const CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1' };

function importPrivate(material: KeyMaterial): KeyObject {
  if (material instanceof KeyObject) return material;
  if (typeof material === 'string' || Buffer.isBuffer(material)) return createPrivateKey(material);
  return createPrivateKey({ key: material, format: 'jwk' });
}

function importPublic(material: KeyMaterial): KeyObject {
  if (material instanceof KeyObject) return material.type === 'private' ? createPublicKey(material) : material;
  if (typeof material === 'string' || Buffer.isBuffer(material)) return createPublicKey(material);
  return createPublicKey({ key: material, format: 'jwk' });
}

function checkKeyType(alg: SigningAlgorithm, key: KeyObject, where: string): void {
  const type = key.asymmetricKeyType;
  if (alg === 'ES256' || alg === 'ES384') {
    if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== CURVE[alg]) {
      throw new TokengateConfigError(
        'ERR_TOKENGATE_KEY',
        `${where}: alg ${alg} needs an EC key on curve ${alg === 'ES256' ? 'P-256' : 'P-384'}.`,
      );
    }
  } else if (alg === 'RS256' || alg === 'PS256') {
    if (type !== 'rsa' && !(alg === 'PS256' && type === 'rsa-pss'))
      throw new TokengateConfigError('ERR_TOKENGATE_KEY', `${where}: alg ${alg} needs an RSA key.`);
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new TokengateConfigError('ERR_TOKENGATE_KEY', `${where}: RSA keys must be at least 2048 bits.`);
  }
}

/** Any of the {@link KeyInput} shapes, as a start-up check sees it before it knows which. */
interface LooseKeyInput {
  kid?: string;
  alg: SigningAlgorithm;
  privateKey?: KeyMaterial;
  publicKey?: KeyMaterial;
  secret?: string | Buffer | KeyObject;
  verifyOnly?: boolean;
}

/** Import and check one key; throws a message naming the key and what to change. */
export function resolveKey(key: KeyInput, index: number): ResolvedKey {
  // Checked as it arrives at run time (plain JavaScript, JSON, environment variables), not as typed.
  const input = key as LooseKeyInput;
  const where = `oauthServer options.keys[${index}]`;
  if (!isPlainObject(input))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_KEY',
      `${where}: each key must be an object { alg, privateKey | publicKey | secret }.`,
    );
  checkKnownKeys(`oauthServer: options.keys[${index}]`, input, [
    'kid',
    'alg',
    'privateKey',
    'publicKey',
    'secret',
    'verifyOnly',
  ]);
  const algs: SigningAlgorithm[] = ['ES256', 'ES384', 'RS256', 'PS256', 'HS256'];
  if (!algs.includes(input.alg))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_KEY',
      `${where}: alg must be one of ${algs.join(', ')} (got ${String(input.alg)}).`,
    );

  if (input.alg === 'HS256') {
    if (input.secret === undefined)
      throw new TokengateConfigError('ERR_TOKENGATE_KEY', `${where}: HS256 needs a \`secret\` (32 bytes or more).`);
    if (input.privateKey !== undefined || input.publicKey !== undefined)
      throw new TokengateConfigError(
        'ERR_TOKENGATE_KEY',
        `${where}: HS256 takes a \`secret\` only; privateKey/publicKey are for ES256, ES384, RS256 and PS256.`,
      );
    const key = input.secret instanceof KeyObject ? input.secret : createSecretKey(Buffer.from(input.secret));
    if ((key.symmetricKeySize ?? 0) < 32)
      throw new TokengateConfigError('ERR_TOKENGATE_KEY', `${where}: the HS256 secret must be at least 32 bytes.`);
    const kid = input.kid ?? jwkThumbprint(key.export({ format: 'jwk' })).slice(0, 16);
    return Object.freeze({ kid, alg: input.alg, signKey: input.verifyOnly ? undefined : key, verifyKey: key });
  }

  if (input.secret !== undefined)
    throw new TokengateConfigError(
      'ERR_TOKENGATE_KEY',
      `${where}: \`secret\` is only for HS256; ${input.alg} takes privateKey/publicKey.`,
    );
  if (input.privateKey === undefined && input.publicKey === undefined) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_KEY',
      `${where}: give a privateKey (to sign) or a publicKey (to verify only).`,
    );
  }
  const signKey = input.privateKey !== undefined ? importPrivate(input.privateKey) : undefined;
  const verifyKey = signKey ? createPublicKey(signKey) : importPublic(input.publicKey as KeyMaterial);
  checkKeyType(input.alg, verifyKey, where);
  const jwk = verifyKey.export({ format: 'jwk' });
  const kid = input.kid ?? jwkThumbprint(jwk);
  return Object.freeze({
    kid,
    alg: input.alg,
    signKey: input.verifyOnly ? undefined : signKey,
    verifyKey,
    publicJwk: Object.freeze({ ...jwk, kid, alg: input.alg, use: 'sig' }),
  });
}

/** A fresh ES256 key for when none is configured: tokens die with the process. */
export function ephemeralKey(): KeyInput {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { alg: 'ES256', privateKey };
}
