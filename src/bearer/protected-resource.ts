/**
 * `oauth.protectedResource()`: one resource (an MCP server, an API) behind this authorization
 * server, with its RFC 9728 metadata document and a guard that accepts only tokens meant for
 * it (RFC 8707) and points every challenge at that document (RFC 9728 §5.1).
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { configError } from '../core/config';
import {
  buildResourceMetadata,
  resourceMetadataMiddleware,
  resourceMetadataUrl,
  type ProtectedResourceMetadata,
} from '../endpoints/resource-metadata';
import type { Request } from '../http/body';
import type { ErrorOut } from '../http/respond';
import type { ResourceRegistry } from '../resources/indicators';
import type { Middleware, RequireTokenOptions } from './require-token';

/** Options of `oauth.protectedResource()`. */
export interface ProtectedResourceOptions {
  /** The resource URI, one of the server's `options.resources`: the URL clients are given (same scheme, host spelling and port). */
  resource: string;
  /** Scopes every request to the resource needs (all of them); `requireToken()` may ask for more per route. */
  scope?: string | readonly string[];
  /** `resource_name` in the metadata. Default: the `name` in `options.resources`. */
  name?: string;
}

/** A protected resource: its metadata document and its guard. */
export interface ProtectedResource {
  /** The resource URI. */
  readonly resource: string;
  /** Where the metadata document is served (RFC 9728 §3.1); named in every challenge. */
  readonly metadataUrl: string;
  /** The metadata document (RFC 9728 §2). */
  readonly document: ProtectedResourceMetadata;
  /**
   * A middleware for the root of the resource's host that serves the document at
   * `/.well-known/oauth-protected-resource{path}` and passes every other request on.
   */
  readonly metadata: (req: Request, res: ServerResponse, next: (err?: unknown) => void) => void;
  /**
   * A guard for the resource's routes: a token whose `aud` lacks the resource is
   * `invalid_token`; a missing scope is 403 `insufficient_scope` naming it; every challenge
   * carries `resource_metadata` (RFC 9728 §5.1).
   */
  requireToken(options?: Omit<RequireTokenOptions, 'resource'>): Middleware;
}

/** What the server hands to {@link createProtectedResource}. */
export interface ProtectedResourceContext {
  issuer: string;
  resources: ResourceRegistry;
  /** The server's error answer (`options.errors`), for the metadata document's own errors. */
  fail: ErrorOut;
  guard(options: RequireTokenOptions, resourceMetadata: string): Middleware;
}

function scopeList(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [...scope];
}

/** Build a {@link ProtectedResource}; options are checked here, once. */
export function createProtectedResource(
  ctx: ProtectedResourceContext,
  options: ProtectedResourceOptions,
): ProtectedResource {
  if (!options || typeof options.resource !== 'string')
    configError(
      'ERR_TOKENGATE_RESOURCE',
      'oauth.protectedResource: options.resource is required: one of the URIs in options.resources.',
    );
  const known = ctx.resources.get(options.resource);
  if (known === undefined)
    configError(
      'ERR_TOKENGATE_RESOURCE',
      `oauth.protectedResource: "${options.resource}" is not in options.resources, so no token can be issued for it; add it there.`,
    );
  if (options.name !== undefined && typeof options.name !== 'string')
    configError('ERR_TOKENGATE_TYPE', 'oauth.protectedResource: options.name must be a string.');
  const metadataUrl = resourceMetadataUrl(options.resource);
  const base: RequireTokenOptions = { resource: options.resource, scope: options.scope };
  // Checks the scope option now rather than on the first request.
  ctx.guard(base, metadataUrl);
  const document = buildResourceMetadata({
    resource: options.resource,
    issuer: ctx.issuer,
    scopes: known.scopes,
    name: options.name ?? known.name,
  });
  return Object.freeze({
    resource: options.resource,
    metadataUrl,
    document,
    metadata: resourceMetadataMiddleware(document, ctx.fail),
    requireToken: (routeOptions: Omit<RequireTokenOptions, 'resource'> = {}) =>
      ctx.guard(
        {
          ...routeOptions,
          scope: [...scopeList(options.scope), ...scopeList(routeOptions.scope)],
          resource: options.resource,
        },
        metadataUrl,
      ),
  });
}
