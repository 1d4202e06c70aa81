/**
 * Keeping secrets out of logs. Errors handed to the logger come from stores and hooks we do
 * not control; a store error that quotes its input would otherwise carry a password or token
 * into the log. Two layers: the endpoint removes the request's own credentials from an error
 * before it is logged ({@link withoutSecrets}), and the default console logger prints only an
 * error's name, message, code and stack, with anything token-shaped masked ({@link safeDetail}).
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { OAuthError } from './errors';
import type { Params } from './http';

const MASK = '[redacted]';
// Parameters that carry credentials or tokens in a token, revocation or introspection request.
const SECRET_PARAMS = [
  'client_secret',
  'password',
  'refresh_token',
  'code',
  'code_verifier',
  'token',
  'access_token',
  'assertion',
  'client_assertion',
];
// Shorter values are too likely to occur by chance in unrelated text to be worth masking.
const MIN_SECRET_LENGTH = 4;

/** The credentials a request carries: secret parameters and the Authorization header, decoded. */
export function requestSecrets(req: IncomingMessage, params: Params | undefined): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined): void => {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH) found.add(value);
  };
  if (params) for (const name of SECRET_PARAMS) add(params[name]);
  const header = req.headers.authorization;
  if (header !== undefined) {
    add(header);
    const space = header.indexOf(' ');
    const value = space === -1 ? '' : header.slice(space + 1).trim();
    add(value);
    if (/^basic /i.test(header)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const secret = decoded.slice(decoded.indexOf(':') + 1);
      add(secret);
      try {
        add(decodeURIComponent(secret.replace(/\+/g, ' ')));
      } catch {
        // not form-encoded: the raw value is already listed
      }
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...found].sort((a, b) => b.length - a.length);
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

function mentions(value: unknown, secrets: readonly string[], depth = 0): boolean {
  if (typeof value === 'string') return secrets.some((s) => value.includes(s));
  if (depth > 3 || value === null || typeof value !== 'object') return false;
  if (
    value instanceof Error &&
    (mentions(value.message, secrets) || mentions(value.stack, secrets) || mentions(value.cause, secrets, depth + 1))
  )
    return true;
  return Object.values(value).some((v) => mentions(v, secrets, depth + 1));
}

/** An Error with the same name, code and shape of stack, the secrets masked and other fields dropped. */
function scrubbed(value: unknown, secrets: readonly string[]): Error {
  const source =
    value instanceof Error ? value : new Error(typeof value === 'string' ? value : 'non-Error value thrown');
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  copy.stack = source.stack === undefined ? undefined : redact(source.stack, secrets);
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') Object.assign(copy, { code });
  if (source.cause !== undefined) copy.cause = scrubbed(source.cause, secrets);
  return copy;
}

/**
 * `err` as it may be logged: unchanged unless it (or its cause) quotes one of `secrets`, in
 * which case a copy with them masked. OAuth errors below 500 are ours and never quote input.
 */
export function withoutSecrets(err: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return err;
  if (err instanceof OAuthError) {
    if (err.status < 500 || !mentions(err.cause, secrets)) return err;
    return Object.assign(new OAuthError(err.error, err.message, err.status, err.headers), {
      cause: scrubbed(err.cause, secrets),
    });
  }
  return mentions(err, secrets) ? scrubbed(err, secrets) : err;
}

// JWTs, HTTP credentials, and long runs of base64url or hex: what tokens, secrets and hashes look like.
const TOKEN_SHAPES = [
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi,
  /[A-Za-z0-9_-]{32,}={0,2}/g,
];

/** Mask token-shaped substrings: JWTs, `Bearer`/`Basic` credentials, long base64url or hex runs. */
export function maskTokens(text: string): string {
  let out = text;
  for (const shape of TOKEN_SHAPES) out = out.replace(shape, MASK);
  return out;
}

/**
 * What the default console logger prints for a log line's detail: for an Error its name,
 * code and message, and the same for its causes; never its stack (which can quote the values
 * it was called with) nor its other fields (a database error's `parameters`, an HTTP client's
 * `config.headers`); for anything else only its type. Token-shaped substrings are masked.
 * A logger of your own receives the Error itself.
 */
export function safeDetail(detail: unknown, depth = 0): string {
  if (detail === undefined) return '';
  if (!(detail instanceof Error)) return `(${detail === null ? 'null' : typeof detail})`;
  const code = (detail as { code?: unknown }).code;
  let text = `${detail.name}${typeof code === 'string' || typeof code === 'number' ? ` [${code}]` : ''}: ${detail.message}`;
  if (detail.cause !== undefined && depth < 3) text += `; caused by ${safeDetail(detail.cause, depth + 1)}`;
  return maskTokens(text.replace(/[\r\n]+/g, ' '));
}
