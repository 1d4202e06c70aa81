/**
 * Client authentication with a signed JWT (RFC 7523 §2.2, §3; RFC 7521 §4.2; OIDC Core §9):
 * `private_key_jwt` (the client's asymmetric key) and `client_secret_jwt` (HMAC over the
 * client secret). Every failure is `invalid_client`, counted by the brute-force limits like a
 * wrong secret.
 * @packageDocumentation
 */
import { createHash, createSecretKey } from 'node:crypto';
import { nowSeconds } from '../core/clock';
import { InvalidClient } from '../core/errors';
import type { Logger } from '../core/logging';
import {
  decodeJws,
  importPublicJwk,
  isAsymmetricAlgorithm,
  isHmacAlgorithm,
  verifyJwsSignature,
  type DecodedJws,
} from '../jose/jws';
import type { Client, ReplayStore } from '../stores/types';
import type { ClientKeySource, PublicJwk } from './client-keys';

/** The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** What checking an assertion needs; built once per server. */
export interface AssertionSettings {
  /** The issuer identifier: an accepted `aud` (rfc7523bis). */
  readonly issuer: string;
  /** The token endpoint URL: the other accepted `aud` (RFC 7523 §3 point 3). */
  readonly tokenEndpoint: string;
  /** Where assertion `jti`s are remembered (single use, RFC 7523 §3 point 7). */
  readonly replay: ReplayStore;
  /** Asymmetric algorithms accepted for private_key_jwt. */
  readonly algorithms: readonly string[];
  /** Longest accepted lifetime (seconds) from now to `exp`. */
  readonly maxLifetime: number;
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. */
  readonly clockTolerance: number;
  /** The public keys of private_key_jwt clients. */
  readonly keys: ClientKeySource;
  /** Where an unreachable `jwksUri` is reported (the client only sees `invalid_client`). */
  readonly logger: Logger;
}

const MAX_ASSERTION_LENGTH = 16_384;

function refuse(description = 'Client authentication failed.'): never {
  throw new InvalidClient(description);
}

/** Parse an assertion without verifying it; `invalid_client` when it is not a JWS. */
export function decodeAssertion(assertion: string): DecodedJws {
  return (
    decodeJws(assertion, MAX_ASSERTION_LENGTH) ?? refuse('The client_assertion is not a compact JWS (RFC 7523 §2.2).')
  );
}

/** The client id an assertion names: its `sub` (RFC 7523 §3 point 2), unverified, to look the client up. */
export function assertionClientId(jws: DecodedJws): string {
  const sub = jws.payload.sub;
  if (typeof sub !== 'string' || sub === '') refuse('The client_assertion needs sub = client_id (RFC 7523 §3).');
  return sub;
}

function audienceAccepted(aud: unknown, settings: AssertionSettings): boolean {
  // rfc7523bis: the issuer identifier; RFC 7523 §3: the token endpoint URL. Nothing else, not
  // even alongside an accepted value, so an assertion minted for another server cannot pass.
  const accepted = (value: unknown): boolean => value === settings.issuer || value === settings.tokenEndpoint;
  if (typeof aud === 'string') return accepted(aud);
  return Array.isArray(aud) && aud.length > 0 && aud.every(accepted);
}

function checkClaims(
  jws: DecodedJws,
  client: Client,
  settings: AssertionSettings,
  now: number,
): { jti: string; exp: number } {
  const { iss, sub, aud, exp, nbf, iat, jti } = jws.payload;
  // RFC 7523 §3 points 1, 2: iss and sub are both the client_id.
  if (iss !== client.id || sub !== client.id)
    refuse('The client_assertion must have iss and sub equal to the client_id (RFC 7523 §3).');
  if (!audienceAccepted(aud, settings))
    refuse("The client_assertion aud must be this server's issuer identifier or token endpoint URL (RFC 7523 §3).");
  // Point 4: exp required and not past; bounded, so a leaked assertion is not good for long.
  const tolerance = settings.clockTolerance;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) refuse('The client_assertion needs an exp (RFC 7523 §3).');
  if (exp <= now - tolerance) refuse('The client_assertion has expired.');
  if (exp > now + settings.maxLifetime + tolerance)
    refuse(`The client_assertion exp is more than ${settings.maxLifetime} seconds away.`);
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance))
    refuse('The client_assertion is not valid yet (nbf).');
  if (iat !== undefined && (typeof iat !== 'number' || iat > now + tolerance))
    refuse('The client_assertion iat is in the future.');
  // Point 7: jti, single use.
  if (typeof jti !== 'string' || jti === '' || jti.length > 256)
    refuse('The client_assertion needs a jti (RFC 7523 §3), used once.');
  return { jti, exp };
}

// private_key_jwt: the keys that may have signed it (by kid when the header has one), each with
// the alg pinned: the client's registered alg, else the key's own alg, else the header's if it
// fits the key. HMAC is never tried with a public key.
function verifyWithKeys(
  jws: DecodedJws,
  keys: readonly PublicJwk[],
  client: Client,
  settings: AssertionSettings,
): boolean {
  const alg = jws.header.alg;
  if (!isAsymmetricAlgorithm(alg) || !settings.algorithms.includes(alg)) return false;
  if (client.tokenEndpointAuthSigningAlg !== undefined && client.tokenEndpointAuthSigningAlg !== alg) return false;
  const kid = jws.header.kid;
  for (const jwk of keys) {
    if (kid !== undefined && jwk.kid !== kid) continue;
    if (jwk.alg !== undefined && jwk.alg !== alg) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    const key = importPublicJwk(jwk);
    if (key !== undefined && verifyJwsSignature(jws, alg, key)) return true;
  }
  return false;
}

/**
 * Verify a client assertion for `client` (found by the assertion's `sub`) and consume its
 * `jti`. Returns the method it proved; throws `invalid_client` for anything wrong (and
 * whatever the replay store throws when it cannot answer: fail closed).
 */
export async function verifyClientAssertion(
  jws: DecodedJws,
  client: Client,
  settings: AssertionSettings,
): Promise<'private_key_jwt' | 'client_secret_jwt'> {
  const registered = client.tokenEndpointAuthMethod;
  const alg = jws.header.alg;
  // RFC 7515 §4.1.11: no JWS extension is understood here.
  if (jws.header.crit !== undefined)
    refuse('The client_assertion has a critical header parameter this server does not understand (RFC 7515 §4.1.11).');
  let method: 'private_key_jwt' | 'client_secret_jwt';
  if (isHmacAlgorithm(alg)) {
    // client_secret_jwt: only for a client that registered it and whose secret is recoverable;
    // an HMAC "signed" with a public key (alg confusion) has no secret to match.
    if (registered !== 'client_secret_jwt' || client.jwtSecret === undefined) refuse();
    if ((client.tokenEndpointAuthSigningAlg ?? 'HS256') !== alg) refuse();
    if (!verifyJwsSignature(jws, alg, createSecretKey(Buffer.from(client.jwtSecret, 'utf8')))) refuse();
    method = 'client_secret_jwt';
  } else {
    if (
      (registered !== undefined && registered !== 'private_key_jwt') ||
      (client.jwks === undefined && client.jwksUri === undefined)
    )
      refuse();
    let keys: readonly PublicJwk[];
    try {
      keys = await settings.keys.keysOf(client, false);
      if (!verifyWithKeys(jws, keys, client, settings)) {
        // Maybe a rotated key: fetch the client's set again (rate-limited) and retry once.
        if (client.jwksUri === undefined) refuse();
        keys = await settings.keys.keysOf(client, true);
        if (!verifyWithKeys(jws, keys, client, settings)) refuse();
      }
    } catch (err) {
      if (err instanceof InvalidClient) throw err;
      settings.logger.warn(
        `client authentication: the jwks_uri of client ${JSON.stringify(client.id)} could not be fetched; answered invalid_client.`,
        err,
      );
      const failure = new InvalidClient("Client authentication failed: the client's jwks_uri could not be fetched.");
      failure.cause = err;
      throw failure;
    }
    method = 'private_key_jwt';
  }
  const now = nowSeconds();
  const { jti, exp } = checkClaims(jws, client, settings, now);
  const id = createHash('sha256').update(`client-assertion:${client.id}:${jti}`).digest('base64url');
  if (!(await settings.replay.use(id, exp + settings.clockTolerance + 1)))
    refuse('The client_assertion has been used before (RFC 7523 §3 jti).');
  return method;
}
