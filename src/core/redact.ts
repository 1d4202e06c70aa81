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

/** An Error with the same name, identifying fields (code, table...) and shape of stack, the secrets masked and other fields dropped. */
function scrubbed(value: unknown, secrets: readonly string[]): Error {
  const source =
    value instanceof Error ? value : new Error(typeof value === 'string' ? value : 'non-Error value thrown');
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  copy.stack = source.stack === undefined ? undefined : redact(source.stack, secrets);
  const fields = source as unknown as Record<string, unknown>;
  for (const name of IDENTIFYING_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string' || typeof value === 'number')
      Object.assign(copy, { [name]: typeof value === 'string' ? redact(value, secrets) : value });
  }
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

// What is secret in free text, and only that (issue #17: the old blanket rule, any run of 32
// base64url characters, also hid the table names and client ids an operator needs):
// - compact JWS/JWE (a JWT): `eyJ` and two or four dot-separated base64url parts;
// - an HTTP credential: what follows Bearer, Basic or DPoP, and any Authorization header value;
// - the value of a parameter that carries a credential, in a query string or form
//   (`?refresh_token=...`) or as a JSON member (`"client_secret":"..."`);
// - a PEM private key;
// - a random-looking run: 32 or more characters of the base64, base64url or hex alphabets that
//   does not read as an identifier ({@link isIdentifier}). Every token, code, secret and hash
//   this library makes is 43 random base64url characters; a UUID or a snake_case relation name is not.
const JWT = /\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}/g;
// A plain lowercase word after the scheme is prose ("Basic authentication"), not a credential.
const CREDENTIAL = /\b(?:Bearer|Basic|DPoP)\s+(?![a-z]+(?![A-Za-z0-9\-._~+/=]))[A-Za-z0-9\-._~+/]+=*/gi;
// The whole value of an Authorization header, whatever its scheme: quoted, or to the end of the line.
const AUTHORIZATION = /(\b(?:proxy-)?authorization["']?\s*[:=]\s*)(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\r\n,;}]+)/gi;
const SECRET_NAMES =
  'access_token|refresh_token|id_token|client_secret|client_assertion|assertion|code_verifier|password|token|code|secret|api_key|apikey';
const SECRET_PARAM = new RegExp(`([?&;]\\s*(?:${SECRET_NAMES})=)[^&\\s#"']+`, 'gi');
const SECRET_MEMBER = new RegExp(
  `("(?:${SECRET_NAMES.replace('|code|', '|')})"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*(?=")`,
  'gi',
);
const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;
// One part of an identifier: a lowercase or an uppercase word, or camelCase / PascalCase words
// (acronyms of up to four capitals); digits only at its end, or digits alone.
const WORD_PART =
  /^(?:[a-z]*|[A-Z]*|(?:[a-z]+|[A-Z]{1,4}(?=[A-Z][a-z]|[0-9]|$))?(?:[A-Z][a-z]+|[A-Z]{2,4}(?=[A-Z][a-z]|[0-9]|$))*)[0-9]*$/;
const WORDS = /[A-Z]{2,4}(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|[A-Z]+/g;
const VOWEL = /[aeiouy]/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a long run of characters reads as an identifier (a relation or constraint, a
 * constant, a camelCase name, a path, a UUID) rather than random data: each of its
 * `_ - / + .`-separated parts is made of words, its words are four letters long on average,
 * and they are pronounceable (vowels in every long lowercase word, and in about a third of the
 * letters). Random base64url scatters capitals and digits among short "words": of 34 million
 * 43-character tokens (what this library issues) one read as an identifier (the word-length
 * rule alone: one in about 3 million); of 32-character ones, one in a million (alone: one in
 * 100 000).
 */
export function isIdentifier(run: string): boolean {
  const text = run.replace(/=+$/, '');
  if (UUID.test(text)) return true;
  if (!text.split(/[_\-/+.]+/).every((part) => WORD_PART.test(part))) return false;
  const words = text.match(WORDS) ?? [];
  if (words.length === 0 || words.join('').length / words.length < 4) return false;
  // Words are pronounceable: no long lowercase word without a vowel, and about a third of the
  // letters are vowels (identifiers here: 36-46 %; random letters: 23 % on average).
  if (words.some((word) => word.length >= 4 && /[a-z]/.test(word) && !VOWEL.test(word))) return false;
  const letters = text.replace(/[^A-Za-z]/g, '');
  return letters.replace(/[^aeiouy]/gi, '').length >= 0.3 * letters.length;
}

/**
 * Mask what is secret in free text: JWTs, HTTP credentials and Authorization header values,
 * credential parameters (`refresh_token=`, `"client_secret":`), PEM private keys, and runs of
 * 32+ random-looking base64/hex characters. Identifiers stay readable: client ids, error
 * codes, UUIDs, table and constraint names.
 */
export function maskTokens(text: string): string {
  return text
    .replace(PEM, MASK)
    .replace(JWT, MASK)
    .replace(CREDENTIAL, MASK)
    .replace(AUTHORIZATION, (_, name: string) => `${name}${MASK}`)
    .replace(SECRET_PARAM, `$1${MASK}`)
    .replace(SECRET_MEMBER, `$1${MASK}`)
    .replace(RUN, (run) => (isIdentifier(run) ? run : MASK));
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

// Fields of a driver's or the system's error that name what failed (an errno, a SQLSTATE, a
// relation, an address) rather than quote the values it was called with (pg's `detail`,
// `parameters`, an HTTP client's `config`), kept when an error goes to a structured logger.
const IDENTIFYING_FIELDS = [
  'code',
  'errno',
  'syscall',
  'address',
  'port',
  'error',
  'status',
  'statusCode',
  'severity',
  'schema',
  'table',
  'column',
  'constraint',
  'routine',
] as const;

/**
 * `detail` as a structured logger (pino, winston) may serialize it: an Error of the same class
 * and name, its message and stack with secrets masked ({@link maskTokens}), the fields that
 * identify what failed, and its cause the same way; never its other fields, which such loggers
 * would print whole. A value that is not an Error becomes one saying only its type.
 */
export function loggableError(detail: unknown, depth = 0): Error {
  if (!(detail instanceof Error))
    return new Error(
      typeof detail === 'string' ? maskTokens(detail) : `non-Error value (${detail === null ? 'null' : typeof detail})`,
    );
  const copy = Object.create(Object.getPrototypeOf(detail) as object) as Error;
  const own = (name: string, value: unknown): void =>
    void Object.defineProperty(copy, name, { value, writable: true, configurable: true, enumerable: false });
  own('message', maskTokens(detail.message));
  own('stack', detail.stack === undefined ? undefined : maskTokens(detail.stack));
  if (Object.prototype.hasOwnProperty.call(detail, 'name')) own('name', detail.name);
  const fields = detail as unknown as Record<string, unknown>;
  for (const name of IDENTIFYING_FIELDS) {
    const value = fields[name];
    if (typeof value === 'string' || typeof value === 'number')
      (copy as unknown as Record<string, unknown>)[name] = typeof value === 'string' ? maskTokens(value) : value;
  }
  if (detail.cause !== undefined && depth < 3) own('cause', loggableError(detail.cause, depth + 1));
  return copy;
}

/** {@link loggableError} as plain JSON (pino's `err` shape: type, message, stack, fields, cause), for loggers that print objects with `JSON.stringify`. */
export function serializedError(detail: unknown): Record<string, unknown> {
  const err = loggableError(detail);
  const type = typeof err.constructor === 'function' && err.constructor.name ? err.constructor.name : err.name;
  const out: Record<string, unknown> = { type, message: err.message, stack: err.stack };
  Object.assign(out, err); // the identifying fields: the only enumerable ones
  if (err.cause !== undefined) out.cause = serializedError(err.cause);
  return out;
}
