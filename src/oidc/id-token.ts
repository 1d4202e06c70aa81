/**
 * ID tokens (OpenID Connect Core §2): signing with the client's algorithm (RS256 by default,
 * §15.1), `at_hash` (§3.1.3.6), and verifying our own for `id_token_hint`.
 * @packageDocumentation
 */
import { createHash, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { ResolvedKey, SigningAlgorithm } from '../tokens/keys';
import { ID_TOKEN_ALGORITHMS } from './options';

/** The claims of an ID token this server issues. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  acr?: string;
  amr?: string[];
  at_hash?: string;
  [claim: string]: unknown;
}

/**
 * `at_hash` (§3.1.3.6): base64url of the left half of the hash of the access token's ASCII
 * octets, the hash being the one of the ID token's signature algorithm.
 */
export function accessTokenHash(accessToken: string, alg: SigningAlgorithm): string {
  const digest = createHash(alg === 'ES384' ? 'sha384' : 'sha256')
    .update(accessToken, 'ascii')
    .digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Signs ID tokens, one prepared signer per algorithm. */
export class IdTokenSigner {
  private readonly signers = new Map<SigningAlgorithm, { key: KeyObject; options: jwt.SignOptions }>();

  constructor(keys: ReadonlyMap<SigningAlgorithm, ResolvedKey>) {
    for (const [alg, key] of keys) {
      // `typ: JWT` keeps it apart from access tokens (`at+jwt`), which our verifier requires.
      if (key.signKey)
        this.signers.set(alg, {
          key: key.signKey,
          options: { algorithm: alg, keyid: key.kid, header: { alg, typ: 'JWT' } },
        });
    }
  }

  /** The algorithms there is a signing key for. */
  get algorithms(): SigningAlgorithm[] {
    return ID_TOKEN_ALGORITHMS.filter((alg) => this.signers.has(alg));
  }

  /** Whether ID tokens can be signed with `alg`. */
  supports(alg: string): boolean {
    return this.signers.has(alg as SigningAlgorithm);
  }

  /** The signed ID token. */
  sign(claims: IdTokenClaims, alg: SigningAlgorithm): string {
    const signer = this.signers.get(alg);
    if (!signer) throw new Error(`No ${alg} key signs ID tokens.`);
    return jwt.sign(claims, signer.key, signer.options);
  }
}

/**
 * Verifies an ID token this server issued, for `id_token_hint` (RP-Initiated Logout §2,
 * OIDC Core §3.1.2.1): our signature with the algorithm pinned to the key its `kid` names,
 * our `iss`, `typ` not an access token's. Expiry is not checked: a hint may have expired.
 * Returns the claims, or `undefined` for anything else.
 */
export function verifyIdTokenHint(
  token: string,
  keys: readonly ResolvedKey[],
  issuer: string,
): Record<string, unknown> | undefined {
  if (token.length > 16_384) return undefined;
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch {
    return undefined;
  }
  if (!decoded || typeof decoded.payload !== 'object') return undefined;
  const { kid, alg, typ, crit } = decoded.header as { kid?: unknown; alg?: unknown; typ?: unknown; crit?: unknown };
  // RFC 7515 §4.1.11: we understand no header extensions, so a hint that names one is refused.
  if (crit !== undefined) return undefined;
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) return undefined;
  const key = keys.find((k) => k.kid === kid && k.alg === alg && ID_TOKEN_ALGORITHMS.includes(k.alg));
  if (!key) return undefined;
  try {
    const claims = jwt.verify(token, key.verifyKey, {
      algorithms: [key.alg],
      issuer,
      ignoreExpiration: true,
      complete: false,
    });
    if (!claims || typeof claims !== 'object' || typeof claims.sub !== 'string' || typeof claims.aud !== 'string')
      return undefined;
    return claims as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
