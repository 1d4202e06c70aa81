/**
 * Client metadata (RFC 7591 §2): what a registering client may ask for, validated into the
 * form it is stored in and echoed back. Errors are the ones RFC 7591 §3.2.2 names.
 * @packageDocumentation
 */
import { OAuthError } from '../core/errors';
import { SCOPE_TOKEN } from '../core/scopes';
import type { ClientMetadata, GrantType, RegisteredAuthMethod } from '../stores/types';

export type { ClientMetadata, RegisteredAuthMethod };

/** `invalid_redirect_uri` (400, RFC 7591 §3.2.2). */
export class InvalidRedirectUri extends OAuthError {
  constructor(description: string) {
    super('invalid_redirect_uri', description, 400);
  }
}

/** `invalid_client_metadata` (400, RFC 7591 §3.2.2). */
export class InvalidClientMetadata extends OAuthError {
  constructor(description: string) {
    super('invalid_client_metadata', description, 400);
  }
}

const AUTH_METHODS: readonly RegisteredAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];
const GRANTS: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
const MAX_URIS = 10;
const MAX_TEXT = 200;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

function text(name: string, value: unknown, max = MAX_TEXT): string | undefined {
  if (value === undefined || value === null) return undefined;
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value === '' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidClientMetadata(
      `${name} must be a non-empty string of at most ${max} characters without control characters.`,
    );
  }
  return value;
}

function httpsUrl(name: string, value: unknown): string | undefined {
  const s = text(name, value, 2000);
  if (s === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new InvalidClientMetadata(`${name} must be an absolute https URL.`);
  }
  if (url.protocol !== 'https:' || url.username || url.password || !/^[\x21-\x7e]+$/.test(s))
    throw new InvalidClientMetadata(`${name} must be an absolute https URL.`);
  return s;
}

/**
 * One redirect URI: https; or, for a native (public) client, a loopback `http` URI
 * (RFC 8252 §7.3) or a private-use scheme in reverse-domain form (RFC 8252 §7.1). Never a
 * fragment (RFC 6749 §3.1.2), never credentials, printable ASCII only (it goes into Location
 * headers as it is and is compared as an exact string).
 */
export function checkRedirectUri(value: unknown, nativeClient: boolean): string {
  if (typeof value !== 'string' || value.length > 2000 || !/^[\x21-\x7e]+$/.test(value) || /["<>\\^`{|}]/.test(value)) {
    throw new InvalidRedirectUri(
      'Each redirect URI must be an absolute URI of printable ASCII (punycode for international names).',
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidRedirectUri(`The redirect URI is not an absolute URI.`);
  }
  if (value.includes('#')) throw new InvalidRedirectUri('A redirect URI must not have a fragment (RFC 6749 §3.1.2).');
  if (url.username || url.password) throw new InvalidRedirectUri('A redirect URI must not carry credentials.');
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:') {
    if (!LOOPBACK.has(url.hostname))
      throw new InvalidRedirectUri(
        'An http redirect URI is allowed only for a loopback address: 127.0.0.1, [::1] or localhost (RFC 8252 §7.3); use https.',
      );
    if (!nativeClient)
      throw new InvalidRedirectUri(
        'Loopback redirect URIs are for native apps, which are public clients: register with token_endpoint_auth_method "none" (RFC 8252 §8.4).',
      );
    return value;
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name the app controls (it has a
  // dot), which rules out javascript:, data:, file: and the like.
  const scheme = url.protocol.slice(0, -1);
  if (!scheme.includes('.') || !/^[a-z][a-z0-9+.-]*$/.test(scheme)) {
    throw new InvalidRedirectUri(
      'A redirect URI must use https, a loopback http address, or a private-use scheme in reverse-domain form such as com.example.app:/callback (RFC 8252 §7).',
    );
  }
  if (!nativeClient)
    throw new InvalidRedirectUri(
      'Private-use scheme redirect URIs are for native apps, which are public clients: register with token_endpoint_auth_method "none" (RFC 8252 §8.4).',
    );
  return value;
}

function stringList(name: string, value: unknown, max: number): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > max || !value.every((v) => typeof v === 'string')) {
    throw new InvalidClientMetadata(`${name} must be an array of at most ${max} strings.`);
  }
  return [...new Set(value as string[])];
}

/** What the server lets a registered client have. */
export interface MetadataPolicy {
  /** Every scope a registered client may ask for. */
  scopes: readonly string[];
}

/** The validated request: the metadata to store and echo, and what it means for the {@link Client}. */
export interface ValidatedMetadata {
  metadata: ClientMetadata;
  grants: GrantType[];
  scopes: string[];
  confidential: boolean;
}

/**
 * Validate a registration (or RFC 7592 update) request body. Unknown members are ignored
 * (RFC 7591 §2); known ones must be well-formed and consistent with each other.
 */
export function validateMetadata(body: unknown, policy: MetadataPolicy): ValidatedMetadata {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new InvalidClientMetadata('The request body must be a JSON object of client metadata (RFC 7591 §2).');
  const b = body as Record<string, unknown>;

  const method = b.token_endpoint_auth_method ?? 'client_secret_basic'; // RFC 7591 §2 default
  if (typeof method !== 'string' || !AUTH_METHODS.includes(method as RegisteredAuthMethod)) {
    throw new InvalidClientMetadata(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}.`);
  }
  const confidential = method !== 'none';

  const grantTypes = stringList('grant_types', b.grant_types, 5) ?? ['authorization_code'];
  for (const g of grantTypes) {
    if (!GRANTS.includes(g as GrantType))
      throw new InvalidClientMetadata(
        `The grant type "${g.slice(0, 40)}" cannot be registered here; use ${GRANTS.join(', ')}.`,
      );
  }
  if (grantTypes.length === 0) throw new InvalidClientMetadata('grant_types must not be empty.');
  if (grantTypes.includes('client_credentials') && !confidential) {
    throw new InvalidClientMetadata(
      'client_credentials needs a confidential client: a token_endpoint_auth_method other than "none" (RFC 6749 §4.4).',
    );
  }
  const responseTypes =
    stringList('response_types', b.response_types, 3) ?? (grantTypes.includes('authorization_code') ? ['code'] : []);
  for (const r of responseTypes)
    if (r !== 'code') throw new InvalidClientMetadata('Only the response type "code" can be registered.');
  // RFC 7591 §2.1: the two lists must agree.
  if (grantTypes.includes('authorization_code') !== responseTypes.includes('code')) {
    throw new InvalidClientMetadata(
      'grant_types and response_types disagree: authorization_code goes with the response type "code" (RFC 7591 §2.1).',
    );
  }

  const uris = b.redirect_uris;
  if (uris !== undefined && (!Array.isArray(uris) || uris.length > MAX_URIS))
    throw new InvalidRedirectUri(`redirect_uris must be an array of at most ${MAX_URIS} URIs.`);
  const redirectUris = [
    ...new Set(((uris as unknown[] | undefined) ?? []).map((u) => checkRedirectUri(u, !confidential))),
  ];
  if (grantTypes.includes('authorization_code') && redirectUris.length === 0) {
    throw new InvalidRedirectUri('redirect_uris is required for the authorization_code grant (RFC 7591 §2).');
  }

  let scopes: string[];
  if (b.scope === undefined || b.scope === null) {
    scopes = [...policy.scopes];
  } else {
    if (typeof b.scope !== 'string' || b.scope.length > 1000)
      throw new InvalidClientMetadata('scope must be a space-separated string of scopes (RFC 7591 §2).');
    scopes = [...new Set(b.scope.split(' ').filter((s) => s !== ''))];
    for (const s of scopes) {
      if (!SCOPE_TOKEN.test(s))
        throw new InvalidClientMetadata('scope contains a character RFC 6749 §3.3 does not allow.');
      if (!policy.scopes.includes(s))
        throw new InvalidClientMetadata(`The scope "${s.slice(0, 40)}" cannot be registered on this server.`);
    }
  }

  const metadata: ClientMetadata = {
    redirect_uris: redirectUris,
    token_endpoint_auth_method: method as RegisteredAuthMethod,
    grant_types: grantTypes,
    response_types: responseTypes,
    scope: scopes.join(' '),
  };
  const optional = {
    client_name: text('client_name', b.client_name),
    client_uri: httpsUrl('client_uri', b.client_uri),
    logo_uri: httpsUrl('logo_uri', b.logo_uri),
    tos_uri: httpsUrl('tos_uri', b.tos_uri),
    policy_uri: httpsUrl('policy_uri', b.policy_uri),
    contacts: stringList('contacts', b.contacts, 10)?.map((c) => text('contacts', c) as string),
    software_id: text('software_id', b.software_id),
    software_version: text('software_version', b.software_version),
  };
  for (const [name, value] of Object.entries(optional))
    if (value !== undefined) (metadata as unknown as Record<string, unknown>)[name] = value;
  return { metadata, grants: grantTypes as GrantType[], scopes, confidential };
}
