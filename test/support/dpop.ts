/**
 * DPoP proofs for tests (RFC 9449 §4.2), signed with node:crypto so every field can be bent:
 * a key pair, its RFC 7638 thumbprint, and `proof()` with overrides for the header and claims.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface DpopKey {
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
  alg: string;
  /** RFC 7638 SHA-256 thumbprint of the public key. */
  jkt: string;
}

/** A fresh key pair for proofs: ES256 by default, or RS256/PS256 (2048-bit RSA), or EdDSA. */
export function dpopKey(alg: 'ES256' | 'ES384' | 'RS256' | 'PS256' | 'EdDSA' = 'ES256'): DpopKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : alg === 'ES384'
        ? generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
        : alg === 'EdDSA'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const members: Record<string, string[]> = {
    EC: ['crv', 'kty', 'x', 'y'],
    RSA: ['e', 'kty', 'n'],
    OKP: ['crv', 'kty', 'x'],
  };
  const canonical = JSON.stringify(
    Object.fromEntries((members[publicJwk.kty as string] as string[]).map((m) => [m, publicJwk[m]])),
  );
  return {
    privateKey: pair.privateKey,
    publicJwk,
    alg,
    jkt: createHash('sha256').update(canonical).digest('base64url'),
  };
}

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Sign `header.payload` with the key under its alg (JOSE signature encodings). */
export function signJws(
  key: DpopKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  alg = key.alg,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  if (alg.startsWith('ES'))
    signature = sign(`sha${alg.slice(2)}`, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (alg.startsWith('PS'))
    signature = sign(`sha${alg.slice(2)}`, data, {
      key: key.privateKey,
      padding: 6,
      saltLength: Number(alg.slice(2)) / 8,
    });
  else if (alg === 'EdDSA') signature = sign(null, data, key.privateKey);
  else signature = sign(`sha${alg.slice(2)}`, data, key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

export interface ProofOptions {
  htm?: string;
  htu: string;
  /** The access token, for `ath` at a resource. */
  accessToken?: string;
  nonce?: string;
  /** Header and claim overrides; `undefined` values remove the member. */
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

/** A DPoP proof JWT for one request. */
export function proof(key: DpopKey, options: ProofOptions): string {
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...options.header };
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: options.htm ?? 'POST',
    htu: options.htu,
    iat: Math.floor(Date.now() / 1000),
    ...options.claims,
  };
  if (options.accessToken !== undefined)
    claims.ath = createHash('sha256').update(options.accessToken).digest('base64url');
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return signJws(key, header, claims);
}
