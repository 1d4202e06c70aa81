/**
 * User codes (RFC 8628 §6.1): 8 characters from a 20-letter alphabet without vowels (no words,
 * no 0/O or 1/I confusion), shown as `WDJB-MJHT`, typed in any case with or without the dash.
 * 20^8 ≈ 2^34.6 codes; with the verification page's attempt limits (§5.1) guessing a live one
 * within its lifetime is impractical.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A new random user code as shown to the user, e.g. `WDJB-MJHT` (uniform: rejection sampling). */
export function newUserCode(): string {
  let code = '';
  while (code.length < LENGTH) {
    for (const byte of randomBytes(16)) {
      // 240 = 12 × 20: bytes above it would favour the first letters.
      if (byte < 240 && code.length < LENGTH) code += ALPHABET[byte % 20];
    }
  }
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * The canonical form of what a user typed: upper case, everything outside the alphabet
 * (dashes, spaces) removed; `undefined` when it cannot be a user code, so no store lookup
 * (and no hash) is spent on it.
 */
export function normalizeUserCode(typed: unknown): string | undefined {
  if (typeof typed !== 'string' || typed.length > 64) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  return code.length === LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : undefined;
}
