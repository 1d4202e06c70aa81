/**
 * OpenID Provider metadata (OpenID Connect Discovery 1.0 §3): the members OIDC adds to the
 * RFC 8414 document. The server serves one document, with these members, at both
 * `/.well-known/openid-configuration` and RFC 8414's location, so the two always agree.
 * @packageDocumentation
 */
import type { AuthorizationServerMetadata } from '../endpoints/metadata';
import { OPENID_SCOPES, STANDARD_CLAIMS } from './claims';
import type { OpenIdProvider } from './provider';

/** The OpenID Connect well-known suffix (Discovery §4). */
export const OPENID_WELL_KNOWN = '/.well-known/openid-configuration';

/** The metadata document with OpenID Connect's members. */
export interface OpenIdProviderMetadata extends AuthorizationServerMetadata {
  userinfo_endpoint: string;
  end_session_endpoint?: string;
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  claims_supported: string[];
  claim_types_supported: string[];
  claims_parameter_supported: boolean;
  request_parameter_supported: boolean;
  request_uri_parameter_supported: boolean;
  prompt_values_supported: string[];
  acr_values_supported?: string[];
}

/** Add OpenID Connect's members to the metadata document (Discovery §3). */
export function openIdMetadata(
  doc: AuthorizationServerMetadata,
  provider: OpenIdProvider,
  base: string,
): OpenIdProviderMetadata {
  const o = provider.options;
  const scopes = new Set([...(doc.scopes_supported ?? []), ...OPENID_SCOPES.filter((s) => s !== 'offline_access')]);
  return {
    ...doc,
    userinfo_endpoint: base + o.userinfoPath,
    ...(o.logout && { end_session_endpoint: base + o.endSessionPath }),
    // RECOMMENDED, and MUST list openid (Discovery §3).
    scopes_supported: [...scopes],
    subject_types_supported: o.pairwiseSalt ? ['public', 'pairwise'] : ['public'],
    id_token_signing_alg_values_supported: provider.signer.algorithms,
    claims_supported: [
      ...new Set([
        ...STANDARD_CLAIMS,
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'acr',
        'amr',
        'at_hash',
        ...o.extraClaimsSupported,
      ]),
    ],
    claim_types_supported: ['normal'],
    claims_parameter_supported: true,
    // Their defaults are true; say they are not supported (Discovery §3).
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    ...(o.acrValuesSupported && { acr_values_supported: [...o.acrValuesSupported] }),
  };
}
