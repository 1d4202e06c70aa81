/**
 * PKCE (RFC 7636): the formats of challenges and verifiers, and the check that a verifier
 * answers a challenge.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { safeEqual } from './crypto';

/** A `code_challenge_method` this server knows. */
export type PkceMethod = 'S256' | 'plain';

// RFC 7636 §4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// RFC 7636 §4.2: S256 is BASE64URL(SHA256(verifier)) without padding: always 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Whether `verifier` has the form RFC 7636 §4.1 requires (43–128 unreserved characters). */
export function isValidVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

/** Whether `challenge` is well-formed for `method` (RFC 7636 §4.2). */
export function isValidChallenge(challenge: string, method: PkceMethod): boolean {
  return method === 'S256' ? S256_CHALLENGE.test(challenge) : VERIFIER.test(challenge);
}

/** The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Whether `verifier` answers `challenge` under `method` (RFC 7636 §4.6), compared in constant time. */
export function verifierMatches(verifier: string, challenge: string, method: PkceMethod): boolean {
  return safeEqual(method === 'S256' ? s256(verifier) : verifier, challenge);
}
