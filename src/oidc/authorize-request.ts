/**
 * The OpenID Connect parameters of an authorization request (OIDC Core §3.1.2.1), read once
 * the client and its redirect URI are trusted, so every error here goes back to the client.
 * @packageDocumentation
 */
import { InvalidRequest } from '../core/errors';
import type { Params } from '../http/body';
import type { Client } from '../stores/types';
import { parseClaimsParameter, type ClaimsRequest } from './claims';
import { RegistrationNotSupported, RequestNotSupported, RequestUriNotSupported } from './errors';

/** What an OpenID Connect authorization request asks. */
export interface OidcAuthorizeRequest {
  /** `prompt` values (none, login, consent, select_account; others are passed on). */
  prompt: readonly string[];
  /** `max_age` in seconds, or the client's `defaultMaxAge`. */
  maxAge: number | undefined;
  nonce: string | undefined;
  loginHint: string | undefined;
  uiLocales: readonly string[];
  acrValues: readonly string[];
  claims: ClaimsRequest | undefined;
  /** The verified claims of an `id_token_hint` this server issued (it may have expired). */
  idTokenHint: Readonly<Record<string, unknown>> | undefined;
}

const MAX_NONCE = 512;

function words(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(' ').filter((w) => w !== '');
}

/**
 * Read and check the OpenID Connect parameters. Only for requests whose granted scopes
 * include `openid` (§3.1.2.1: that is what makes it an OpenID Connect request).
 */
export function readOidcRequest(
  client: Client,
  params: Params,
  verifyHint: (token: string) => Record<string, unknown> | undefined,
): OidcAuthorizeRequest {
  // §6: request objects are optional for an OP; say so with the codes §3.1.2.6 defines.
  if (params.request !== undefined) throw new RequestNotSupported();
  if (params.request_uri !== undefined) throw new RequestUriNotSupported();
  if (params.registration !== undefined) throw new RegistrationNotSupported();
  // §3.1.2.1: redirect_uri is REQUIRED in an OpenID Connect request.
  if (params.redirect_uri === undefined)
    throw new InvalidRequest(
      'The redirect_uri parameter is required in an OpenID Connect request (OIDC Core §3.1.2.1).',
    );
  if (params.nonce !== undefined && params.nonce.length > MAX_NONCE)
    throw new InvalidRequest(`The nonce is longer than ${MAX_NONCE} characters.`);

  const prompt = [...new Set(words(params.prompt))];
  // §3.1.2.1: none with any other value is an error.
  if (prompt.includes('none') && prompt.length > 1)
    throw new InvalidRequest('prompt=none cannot be combined with another prompt value (OIDC Core §3.1.2.1).');

  let maxAge = client.defaultMaxAge;
  if (params.max_age !== undefined) {
    if (!/^\d{1,10}$/.test(params.max_age))
      throw new InvalidRequest('max_age must be a whole number of seconds (OIDC Core §3.1.2.1).');
    maxAge = Number(params.max_age);
  }
  let idTokenHint: Record<string, unknown> | undefined;
  if (params.id_token_hint !== undefined) {
    idTokenHint = verifyHint(params.id_token_hint);
    if (!idTokenHint) throw new InvalidRequest('The id_token_hint was not issued by this server (OIDC Core §3.1.2.1).');
  }
  return {
    idTokenHint: idTokenHint && Object.freeze(idTokenHint),
    prompt,
    maxAge,
    nonce: params.nonce,
    loginHint: params.login_hint,
    uiLocales: words(params.ui_locales),
    acrValues: words(params.acr_values),
    claims: parseClaimsParameter(params.claims),
  };
}
