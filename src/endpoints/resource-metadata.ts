/**
 * Protected resource metadata (RFC 9728): the document a resource publishes so that a client
 * holding nothing but the resource's URL finds the authorization server that guards it, and
 * where RFC 9728 §3.1 says to serve it.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { InvalidRequest } from '../core/errors';
import type { Request } from '../http/body';
import type { ErrorOut } from '../http/respond';

/** The well-known URI suffix RFC 9728 §3 registers. */
export const RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** The metadata document (RFC 9728 §2). */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
}

/**
 * The path of the metadata document of `resource` (RFC 9728 §3.1): the well-known suffix
 * inserted between the host and the resource's path, a terminating `/` removed first. For
 * `https://mcp.example.com/mcp` that is `/.well-known/oauth-protected-resource/mcp`.
 */
export function resourceMetadataPath(resource: string): string {
  return RESOURCE_WELL_KNOWN + new URL(resource).pathname.replace(/\/+$/, '');
}

/** The absolute URL of the metadata document of `resource` (RFC 9728 §3.1). */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.protocol}//${url.host}${resourceMetadataPath(resource)}`;
}

/** What a metadata document is built from. */
export interface ResourceMetadataInput {
  resource: string;
  issuer: string;
  scopes?: readonly string[];
  name?: string;
  /** How tokens may be sent (RFC 6750 §2): `header`, and `body`/`query` when the guard allows them. */
  bearerMethods?: readonly string[];
}

/** Build the document (RFC 9728 §2); `authorization_servers[0]` is the issuer exactly as its own metadata spells it. */
export function buildResourceMetadata(input: ResourceMetadataInput): ProtectedResourceMetadata {
  const doc: ProtectedResourceMetadata = {
    resource: input.resource,
    authorization_servers: [input.issuer],
    bearer_methods_supported: [...(input.bearerMethods ?? ['header'])],
  };
  if (input.scopes !== undefined && input.scopes.length > 0) doc.scopes_supported = [...input.scopes];
  if (input.name !== undefined) doc.resource_name = input.name;
  return doc;
}

/**
 * A middleware, to mount at the root of the resource's host, that answers the document's
 * §3.1 path and passes everything else on. The document is public and the same for everyone:
 * cacheable, and readable from any origin (browser-based clients discover it too).
 */
export function resourceMetadataMiddleware(
  document: ProtectedResourceMetadata,
  fail: ErrorOut,
): (req: Request, res: ServerResponse, next: (err?: unknown) => void) => void {
  const path = resourceMetadataPath(document.resource);
  const payload = JSON.stringify(document);
  return function protectedResourceMetadata(req, res, next) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== path) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return fail(
        res,
        next,
        new InvalidRequest('The metadata document accepts only GET.', 405, { Allow: 'GET, HEAD' }),
        'resource metadata',
      );
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Content-Length', Buffer.byteLength(payload));
    res.end(req.method === 'HEAD' ? undefined : payload);
  };
}
