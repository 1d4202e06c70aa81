/**
 * Redirect URI matching: exact string comparison (RFC 9700 §4.1.3), with the one exception the
 * RFCs require: a loopback IP redirect URI matches whatever port the native app names at request
 * time (RFC 8252 §7.3), because the operating system hands it an ephemeral port.
 * @packageDocumentation
 */

// Only `http` with a literal loopback IP is exempt: `localhost` is not (RFC 8252 §8.3: it may
// resolve elsewhere, and listening on it can be hijacked), nor are https or other hosts.
// The port, when present, is 1-5 digits without a leading zero; what follows the authority
// must start with "/" or "?" (or be empty) so "127.0.0.1:80@evil.example" never parses.
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([1-9][0-9]{0,4}))?([/?].*)?$/s;

interface LoopbackParts {
  host: string;
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | undefined {
  const match = LOOPBACK.exec(uri);
  if (match === null) return undefined;
  const port = match[2];
  if (port !== undefined && Number(port) > 65535) return undefined;
  return { host: match[1] as string, rest: match[3] ?? '' };
}

/**
 * Whether `requested` is the redirect URI `registered`: the same string, or, for a loopback IP
 * redirect URI (`http://127.0.0.1` or `http://[::1]`), the same string apart from the port
 * (RFC 8252 §7.3). Scheme, host, path and query always compare exactly.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const want = loopbackParts(registered);
  if (want === undefined) return false;
  const got = loopbackParts(requested);
  return got !== undefined && got.host === want.host && got.rest === want.rest;
}

/**
 * Whether `requested` matches one of the client's registered redirect URIs
 * ({@link redirectUriMatches}).
 */
export function isRegisteredRedirectUri(registered: readonly string[], requested: string): boolean {
  return registered.some((uri) => redirectUriMatches(uri, requested));
}
