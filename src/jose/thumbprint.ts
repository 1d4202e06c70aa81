/**
 * JWK thumbprints (RFC 7638): what binds a token to a key (DPoP `cnf.jkt`, RFC 9449 §6.1)
 * and the default `kid` of the server's own keys.
 * @packageDocumentation
 */
import { createHash, type JsonWebKey } from 'node:crypto';

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const REQUIRED: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a JWK, base64url: its required members as JSON in
 * lexicographic order without white space, hashed.
 */
export function jwkThumbprint(jwk: JsonWebKey | Readonly<Record<string, unknown>>): string {
  const names = REQUIRED[(jwk as Record<string, unknown>).kty as string] ?? [];
  const canonical = JSON.stringify(Object.fromEntries(names.map((n) => [n, (jwk as Record<string, unknown>)[n]])));
  return createHash('sha256').update(canonical).digest('base64url');
}
