/**
 * Which user claims a request gets: the standard claims of each granted scope (OpenID Connect
 * Core §5.4), plus claims asked for one by one with the `claims` request parameter (§5.5).
 * @packageDocumentation
 */
import { InvalidRequest } from '../core/errors';

/** The standard claims each scope stands for (OIDC Core §5.4). */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
});

/** The scopes OpenID Connect defines (§5.4, §11). */
export const OPENID_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'] as const;

/** Every standard claim of {@link SCOPE_CLAIMS}, with `sub`. */
export const STANDARD_CLAIMS: readonly string[] = Object.freeze(['sub', ...Object.values(SCOPE_CLAIMS).flat()]);

/** Claims that are the server's to set in an ID token; never taken from the app's claims hook. */
export const ID_TOKEN_PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'azp',
  'at_hash',
  'c_hash',
  'sid',
  'jti',
  'nbf',
]);

/** The individual claims a `claims` request parameter asks for, by where they go. */
export interface ClaimsRequest {
  /** Claim names for the ID token, essential ones first in no particular order. */
  idToken: string[];
  /** Claim names for the UserInfo response. */
  userinfo: string[];
  /** Names of essential claims (either member). */
  essential: string[];
  /** The `sub` value the ID token must have, when the request names one (§3.1.2.2). */
  subject?: string;
  /** The `acr` values one of which an essential `acr` request requires (§5.5.1.1). */
  essentialAcr?: string[];
}

const MAX_CLAIMS = 64;
const CLAIM_NAME = /^[\x21-\x7e]{1,128}$/;

function member(value: unknown, where: string, essential: Set<string>): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value))
    throw new InvalidRequest(`The "claims" parameter's ${where} member must be a JSON object (OIDC Core §5.5).`);
  const names: string[] = [];
  for (const [name, spec] of Object.entries(value as Record<string, unknown>)) {
    if (!CLAIM_NAME.test(name))
      throw new InvalidRequest(`The "claims" parameter names a claim that is not printable ASCII (OIDC Core §5.5).`);
    // §5.5.1: null (default), or an object with essential / value / values.
    if (spec !== null && (typeof spec !== 'object' || Array.isArray(spec))) {
      throw new InvalidRequest(
        `The "claims" parameter's ${where}.${name} must be null or an object (OIDC Core §5.5.1).`,
      );
    }
    const s = (spec ?? {}) as { essential?: unknown; values?: unknown };
    if (s.essential !== undefined && typeof s.essential !== 'boolean')
      throw new InvalidRequest(
        `The "claims" parameter's ${where}.${name}.essential must be true or false (OIDC Core §5.5.1).`,
      );
    if (s.values !== undefined && !Array.isArray(s.values))
      throw new InvalidRequest(`The "claims" parameter's ${where}.${name}.values must be an array (OIDC Core §5.5.1).`);
    if (s.essential === true) essential.add(name);
    names.push(name);
  }
  return names;
}

/**
 * Parse the `claims` request parameter (OIDC Core §5.5): a JSON object with optional
 * `userinfo` and `id_token` members naming individual claims. Anything malformed is
 * `invalid_request`; unknown members are ignored as §5.5 asks.
 */
export function parseClaimsParameter(raw: string | undefined): ClaimsRequest | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidRequest('The "claims" parameter must be a JSON object (OIDC Core §5.5).');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidRequest('The "claims" parameter must be a JSON object (OIDC Core §5.5).');
  const p = parsed as Record<string, unknown>;
  const essential = new Set<string>();
  const request: ClaimsRequest = {
    idToken: member(p.id_token, 'id_token', essential),
    userinfo: member(p.userinfo, 'userinfo', essential),
    essential: [],
  };
  if (request.idToken.length + request.userinfo.length > MAX_CLAIMS)
    throw new InvalidRequest(`The "claims" parameter asks for more than ${MAX_CLAIMS} claims.`);
  request.essential = [...essential];
  const acr = (
    p.id_token as Record<string, { essential?: unknown; value?: unknown; values?: unknown } | null> | undefined
  )?.acr;
  if (acr?.essential === true && (acr.value !== undefined || acr.values !== undefined)) {
    const wanted = acr.values !== undefined ? (acr.values as unknown[]) : [acr.value];
    if (!wanted.every((v) => typeof v === 'string'))
      throw new InvalidRequest('The "claims" parameter\'s id_token.acr values must be strings (OIDC Core §5.5.1.1).');
    request.essentialAcr = wanted as string[];
  }
  const sub = (p.id_token as Record<string, { value?: unknown } | null> | undefined)?.sub?.value;
  if (sub !== undefined) {
    if (typeof sub !== 'string')
      throw new InvalidRequest('The "claims" parameter\'s id_token.sub.value must be a string (OIDC Core §5.5.1).');
    request.subject = sub;
  }
  return request.idToken.length + request.userinfo.length === 0 ? undefined : request;
}

/** The claim names the granted scopes stand for (OIDC Core §5.4). */
export function scopeClaimNames(scopes: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const scope of scopes) for (const claim of SCOPE_CLAIMS[scope] ?? []) names.add(claim);
  return names;
}

/**
 * Keep the claims whose names are allowed, dropping `undefined`/`null` values (§5.3.2: a claim
 * without a value is omitted, not sent as null) and protocol claims the server sets itself.
 */
export function pickClaims(
  all: Readonly<Record<string, unknown>>,
  allowed: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of allowed) {
    if (name === 'sub' || ID_TOKEN_PROTOCOL_CLAIMS.has(name)) continue;
    if (!Object.prototype.hasOwnProperty.call(all, name)) continue;
    const value = all[name];
    if (value !== undefined && value !== null) out[name] = value;
  }
  return out;
}
