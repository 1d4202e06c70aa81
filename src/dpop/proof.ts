/**
 * Checking a DPoP proof (RFC 9449 §4.3), wherever one arrives: the token endpoint and every
 * resource guarded by `requireToken`. One function, the checks in the RFC's order, each
 * failure an `invalid_dpop_proof` (or `use_dpop_nonce`) with a description of what was wrong.
 * @packageDocumentation
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import { nowSeconds } from '../core/clock';
import { InvalidDpopProof, UseDpopNonce } from '../core/errors';
import {
  decodeJws,
  encodedHeader,
  importPublicJwk,
  isAsymmetricAlgorithm,
  keyFitsAlgorithm,
  verifyJwsSignature,
  type AsymmetricJwsAlgorithm,
} from '../jose/jws';
import { jwkThumbprint } from '../jose/thumbprint';
import type { ReplayStore } from '../stores/types';
import { refuseCriticalExtensions } from '../tokens/jwt';
import type { NonceSource } from './nonce';

/** How proofs are checked; built once per server or resource guard. */
export interface DpopSettings {
  /** Accepted `alg`s, asymmetric only (RFC 9449 §4.3 point 5). */
  readonly algorithms: readonly AsymmetricJwsAlgorithm[];
  /** Seconds a proof stays acceptable after its `iat` (RFC 9449 §11.1). */
  readonly proofLifetime: number;
  /** Seconds a proof's `iat` may lie in the future (clock skew). */
  readonly clockTolerance: number;
  /** Where proof `jti`s are remembered until they could no longer be accepted. */
  readonly replay: ReplayStore;
  /** Server-provided nonces (RFC 9449 §8), when required. */
  readonly nonce: NonceSource | undefined;
}

/** What the request says the proof must match. */
export interface ProofExpectation {
  /** The request's method (`htm`). */
  method: string;
  /** Whether the proof's `htu` (parsed, query and fragment removed) is this request's URI. */
  matchesUri(htu: URL): boolean;
  /** The access token the proof must be bound to by `ath` (RFC 9449 §4.3 point 12), at a resource. */
  accessToken?: string;
  /** 400 at the token endpoint, 401 at a resource (RFC 9449 §7.1). */
  status: 400 | 401;
}

/** A valid proof: the thumbprint of its key, which the token is (or will be) bound to. */
export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's public key (`cnf.jkt`, RFC 9449 §6.1). */
  readonly jkt: string;
}

const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

interface KeyEntry {
  alg: AsymmetricJwsAlgorithm;
  key: KeyObject;
  jkt: string;
}

// Proofs from one client share one header (typ, alg, jwk): importing the key and hashing its
// thumbprint once per header, not per request, keeps a DPoP cache hit cheap. Bounded, so a
// flood of different keys costs CPU, never unbounded memory. Invalid headers are not kept.
const keys = new LRUCache<string, KeyEntry>({ max: 4096 });

function headerKey(
  header: Readonly<Record<string, unknown>>,
  encoded: string,
  settings: DpopSettings,
  fail: (why: string) => never,
): KeyEntry {
  const cached = keys.get(encoded);
  if (cached !== undefined) {
    if (!settings.algorithms.includes(cached.alg)) fail(`The DPoP proof alg ${cached.alg} is not accepted here.`);
    return cached;
  }
  // RFC 9449 §4.3 points 4-7: typ, an accepted asymmetric alg, a public jwk that fits it.
  if (header.typ !== 'dpop+jwt') fail('The DPoP proof must have typ "dpop+jwt".');
  try {
    refuseCriticalExtensions(header);
  } catch {
    fail('The DPoP proof has a critical header parameter this server does not understand (RFC 7515 §4.1.11).');
  }
  const alg = header.alg;
  if (!isAsymmetricAlgorithm(alg) || !settings.algorithms.includes(alg)) {
    fail(`The DPoP proof alg must be one of ${settings.algorithms.join(', ')}.`);
  }
  const key = importPublicJwk(header.jwk);
  if (key === undefined) fail('The DPoP proof jwk must be a public key (no private key material).');
  if (!keyFitsAlgorithm(alg, key)) fail(`The DPoP proof jwk does not fit alg ${alg}.`);
  const entry = { alg, key, jkt: jwkThumbprint(header.jwk as Record<string, unknown>) };
  keys.set(encoded, entry);
  return entry;
}

/**
 * The single `DPoP` header of a request: `undefined` when there is none, and an
 * `invalid_dpop_proof` when there are several (RFC 9449 §4.3 point 1).
 */
export function dpopHeader(req: IncomingMessage, status: 400 | 401): string | undefined {
  const value = req.headers.dpop;
  if (value === undefined) return undefined;
  let count = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).length === 4 && (raw[i] as string).toLowerCase() === 'dpop') count++;
  if (count !== 1 || typeof value !== 'string')
    throw new InvalidDpopProof('Send exactly one DPoP header (RFC 9449 §4.3).', status);
  return value;
}

/** The SHA-256 of an access token, base64url: the proof's `ath` (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Check a DPoP proof against the request (RFC 9449 §4.3), then remember its `jti` so it
 * cannot be used again (§11.1). Throws `invalid_dpop_proof`, `use_dpop_nonce`, or whatever the
 * replay store throws when it cannot answer (the caller fails closed).
 */
export async function verifyProof(
  settings: DpopSettings,
  proof: string,
  expect: ProofExpectation,
): Promise<VerifiedProof> {
  const { status } = expect;
  const fail: (why: string) => never = (why) => {
    throw new InvalidDpopProof(why, status);
  };
  // RFC 9449 §4.3 point 2: a well-formed JWS; point 3: the required header and claims.
  const jws = decodeJws(proof, MAX_PROOF_LENGTH);
  if (jws === undefined) fail('The DPoP proof is not a compact JWS.');
  const { alg, key, jkt } = headerKey(jws.header, encodedHeader(jws), settings, fail);
  // Point 6: the signature, with the key from the header, under the header's (accepted) alg.
  if (!verifyJwsSignature(jws, alg, key)) fail('The DPoP proof signature is invalid.');

  const claims = jws.payload;
  const { jti, htm, htu, iat } = claims;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
    fail('The DPoP proof needs a jti of at most 256 characters.');
  // Point 8: htm is the request's method.
  if (htm !== expect.method) fail('The DPoP proof htm does not match the request method.');
  // Point 9: htu is this request's URI, ignoring query and fragment.
  let url: URL | undefined;
  try {
    url = typeof htu === 'string' ? new URL(htu) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) fail('The DPoP proof htu must be an absolute URI.');
  url.search = '';
  url.hash = '';
  if (!expect.matchesUri(url)) fail('The DPoP proof htu does not match the request URI.');
  // Point 11: iat within the acceptable window.
  const now = nowSeconds();
  if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('The DPoP proof needs a numeric iat.');
  if (iat > now + settings.clockTolerance || iat < now - settings.proofLifetime - settings.clockTolerance) {
    fail('The DPoP proof iat is outside the acceptable window; sign a fresh proof.');
  }
  // Point 12: at a resource, ath is the hash of the access token presented with it.
  if (expect.accessToken !== undefined && claims.ath !== accessTokenHash(expect.accessToken)) {
    fail('The DPoP proof ath does not match the access token.');
  }
  // Point 10: the nonce this server provided (§8, §9).
  if (settings.nonce !== undefined && !settings.nonce.isValid(claims.nonce, now)) {
    throw new UseDpopNonce(settings.nonce.current(now), status);
  }
  // §11.1: single use. The id is scoped to the key, so nobody can burn another client's jti.
  const id = createHash('sha256').update(`dpop:${jkt}:${jti}`).digest('base64url');
  if (!(await settings.replay.use(id, iat + settings.proofLifetime + settings.clockTolerance + 1))) {
    fail('The DPoP proof has been used before (RFC 9449 §11.1); sign a new one for each request.');
  }
  return { jkt };
}
