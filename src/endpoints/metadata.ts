/**
 * Authorization server metadata (RFC 8414): the discovery document, built once from what the
 * server actually mounted, and where RFC 8414 §3.1 says to serve it.
 * @packageDocumentation
 */
import { InvalidRequest } from '../core/errors';
import type { Handler, Middleware } from '../core/http';
import { errorOut, sendJson } from '../http/respond';
import type { ResolvedOptions } from '../options';

/** The well-known URI suffix RFC 8414 §3 registers. */
export const WELL_KNOWN = '/.well-known/oauth-authorization-server';

/**
 * The path of the metadata document for this issuer (RFC 8414 §3.1): the well-known suffix
 * inserted between the host and the issuer's path, any terminating `/` removed first. For
 * `https://example.com/tenant1` that is `/.well-known/oauth-authorization-server/tenant1`.
 */
export function wellKnownPath(issuer: string, suffix: string = WELL_KNOWN): string {
  const path = new URL(issuer).pathname.replace(/\/+$/, '');
  return suffix + path;
}

/** The absolute URL of this issuer's metadata document (RFC 8414 §3.1). */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  return `${url.protocol}//${url.host}${wellKnownPath(issuer)}`;
}

/** The endpoints a server has mounted, by role, as paths relative to where it is mounted. */
export interface EndpointPaths {
  /** Only when the authorization code flow is on. */
  authorization?: string;
  token: string;
  revocation: string;
  introspection: string;
  /** Only when there is a public key to publish. */
  jwks?: string;
  /** Only when dynamic client registration (RFC 7591) is on. */
  registration?: string;
}

/** The metadata document (RFC 8414 §2, plus RFC 9207 and RFC 7636 members). */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint: string;
  jwks_uri?: string;
  scopes_supported?: string[];
  response_types_supported: string[];
  response_modes_supported?: string[];
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  revocation_endpoint: string;
  revocation_endpoint_auth_methods_supported: string[];
  introspection_endpoint: string;
  introspection_endpoint_auth_methods_supported: string[];
  /** The device authorization endpoint (RFC 8628 §4), when the device grant is on. */
  device_authorization_endpoint?: string;
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  /** RFC 8414 §2 / RFC 7591 §3. */
  registration_endpoint?: string;
  /** draft-ietf-oauth-client-id-metadata-document: https client_id URLs are resolved. */
  client_id_metadata_document_supported?: boolean;
  /** DPoP proof algorithms accepted (RFC 9449 §5.1). */
  dpop_signing_alg_values_supported?: string[];
  /** Client assertion algorithms (RFC 8414 §2, RFC 7523): private_key_jwt's and client_secret_jwt's HS256. */
  token_endpoint_auth_signing_alg_values_supported: string[];
  revocation_endpoint_auth_signing_alg_values_supported: string[];
  introspection_endpoint_auth_signing_alg_values_supported: string[];
}

// What `authenticateClient` accepts. Introspection refuses `none` (RFC 7662 §2.1 requires
// the caller to be authorized, and a public client proves nothing).
const CLIENT_AUTH = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'none'];
const CONFIDENTIAL_AUTH = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt'];

/**
 * The metadata document of a server. Everything in it is derived from the server's options
 * and the endpoints and grants it mounted, so it never advertises something that is not there.
 *
 * The endpoint URLs are the issuer followed by each path: mount the middleware at the
 * issuer's path (at the root for `https://auth.example.com`, at `/tenant1` for
 * `https://example.com/tenant1`).
 */
export function buildMetadata(
  options: ResolvedOptions,
  endpoints: EndpointPaths,
  grantTypes: readonly string[],
): AuthorizationServerMetadata {
  const base = options.issuer.replace(/\/+$/, '');
  const authorize = endpoints.authorization;
  const doc: AuthorizationServerMetadata = {
    issuer: options.issuer,
    ...(authorize !== undefined && { authorization_endpoint: base + authorize }),
    token_endpoint: base + endpoints.token,
    ...(endpoints.jwks !== undefined && { jwks_uri: base + endpoints.jwks }),
    ...(options.scopesSupported !== undefined && { scopes_supported: [...options.scopesSupported] }),
    // REQUIRED by RFC 8414 §2 even without an authorization endpoint: then it is honestly empty.
    response_types_supported: authorize !== undefined ? ['code'] : [],
    ...(authorize !== undefined && { response_modes_supported: ['query'] }),
    grant_types_supported: [...grantTypes],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH],
    revocation_endpoint: base + endpoints.revocation,
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH],
    introspection_endpoint: base + endpoints.introspection,
    introspection_endpoint_auth_methods_supported: [...CONFIDENTIAL_AUTH],
    dpop_signing_alg_values_supported: [...options.dpop.algorithms],
    token_endpoint_auth_signing_alg_values_supported: [...options.clientAssertions.algorithms, 'HS256'],
    revocation_endpoint_auth_signing_alg_values_supported: [...options.clientAssertions.algorithms, 'HS256'],
    introspection_endpoint_auth_signing_alg_values_supported: [...options.clientAssertions.algorithms, 'HS256'],
  };
  if (endpoints.registration !== undefined) doc.registration_endpoint = base + endpoints.registration;
  if (authorize !== undefined) {
    doc.code_challenge_methods_supported = options.pkce.allowPlain ? ['S256', 'plain'] : ['S256'];
    doc.authorization_response_iss_parameter_supported = true;
  }
  return doc;
}

/** The handler serving a metadata document (RFC 8414 §3.2: 200, `application/json`). */
export function metadataEndpoint(document: AuthorizationServerMetadata, options: ResolvedOptions): Handler {
  const frozen = JSON.parse(JSON.stringify(document)) as AuthorizationServerMetadata;
  const fail = errorOut(options.errors, options.logger);
  return async function metadata(req, res, next) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(
        res,
        next,
        new InvalidRequest('The metadata document accepts only GET.', 405, { Allow: 'GET, HEAD' }),
        'metadata endpoint',
      );
      return;
    }
    sendJson(res, 200, frozen);
  };
}

/**
 * A middleware, to mount at the root of the issuer's host, that answers the RFC 8414 §3.1
 * metadata path and passes everything else on. Needed when the issuer has a path, since the
 * document then lives outside the path the server is mounted at.
 */
export function wellKnownMiddleware(
  issuer: string,
  handler: Handler,
  suffixes: readonly string[] = [WELL_KNOWN],
): Middleware {
  const paths = new Set(suffixes.map((suffix) => wellKnownPath(issuer, suffix)));
  return function wellKnown(req, res, next) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (!paths.has(q === -1 ? url : url.slice(0, q))) return next();
    void handler(req, res, next);
  };
}
