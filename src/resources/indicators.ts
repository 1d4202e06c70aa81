/**
 * Resource indicators (RFC 8707): the resources a server issues tokens for, which of them a
 * request may name, the scopes each one has, and the audience (`aud`) that results.
 * @packageDocumentation
 */
import { configError } from '../core/config';
import { InvalidScope, InvalidTarget } from '../core/errors';
import { grantScopes, SCOPE_TOKEN } from '../core/scopes';
import { allValues, type Params } from '../http/body';
import type { Client } from '../stores/types';

/**
 * One protected resource this server issues tokens for (`options.resources`).
 *
 * @example
 * ```ts
 * resources: { 'https://mcp.example.com/mcp': { scopes: ['tools:read', 'tools:call'], name: 'Example MCP' } }
 * ```
 */
export interface ResourceOptions {
  /**
   * The scopes that mean something at this resource. A token for it is granted only these
   * (and only those the client may have). Default: no restriction beyond the client's.
   */
  scopes?: string[];
  /** A human-readable name (RFC 9728 `resource_name`), shown in its metadata. */
  name?: string;
}

/** A resource after start-up validation. */
export interface ResolvedResource {
  readonly uri: string;
  readonly scopes: readonly string[] | undefined;
  readonly name: string | undefined;
}

/** The server-wide list of resources, by URI. Empty when `options.resources` is not set. */
export type ResourceRegistry = ReadonlyMap<string, ResolvedResource>;

/** Whether `value` is an absolute URI without a fragment (RFC 8707 §2), in printable ASCII. */
export function isResourceUri(value: string): boolean {
  if (value.length > 2048 || !/^[\x21-\x7e]+$/.test(value) || value.includes('#') || /["\\]/.test(value)) return false;
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

/** Validate `options.resources` once, at start-up. */
export function resolveResources(option: unknown): ResourceRegistry {
  const registry = new Map<string, ResolvedResource>();
  if (option === undefined) return registry;
  if (!option || typeof option !== 'object' || Array.isArray(option)) {
    configError(
      'ERR_TOKENGATE_RESOURCE',
      'oauthServer: options.resources must be an object keyed by resource URI, e.g. { "https://mcp.example.com/mcp": { scopes: ["tools:call"] } }.',
    );
  }
  for (const [uri, value] of Object.entries(option as Record<string, unknown>)) {
    if (!isResourceUri(uri))
      configError(
        'ERR_TOKENGATE_RESOURCE',
        `oauthServer: options.resources key "${uri}" must be an absolute URI without a fragment (RFC 8707 §2).`,
      );
    const r = (value ?? {}) as ResourceOptions;
    if (typeof r !== 'object')
      configError('ERR_TOKENGATE_RESOURCE', `oauthServer: options.resources["${uri}"] must be { scopes?, name? }.`);
    if (
      r.scopes !== undefined &&
      (!Array.isArray(r.scopes) || !r.scopes.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s)))
    ) {
      configError(
        'ERR_TOKENGATE_SCOPE',
        `oauthServer: options.resources["${uri}"].scopes must be an array of scope tokens (RFC 6749 §3.3).`,
      );
    }
    if (r.name !== undefined && typeof r.name !== 'string')
      configError('ERR_TOKENGATE_RESOURCE', `oauthServer: options.resources["${uri}"].name must be a string.`);
    registry.set(uri, Object.freeze({ uri, scopes: r.scopes && Object.freeze([...new Set(r.scopes)]), name: r.name }));
  }
  return registry;
}

/**
 * The resources a request names (the repeatable `resource` parameter), each checked: an
 * absolute URI without a fragment, one this server knows, and one this client may get a
 * token for (`Client.resources`, when the client has such a list). Otherwise `invalid_target`.
 */
export function requestedResources(registry: ResourceRegistry, client: Client, values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    if (!isResourceUri(value))
      throw new InvalidTarget('The resource parameter must be an absolute URI without a fragment (RFC 8707 §2).');
    if (!registry.has(value))
      throw new InvalidTarget('The requested resource is not one this server issues tokens for.');
    if (client.resources !== undefined && !client.resources.includes(value))
      throw new InvalidTarget('This client may not ask for a token for the requested resource.');
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/**
 * The resources of a token drawn from a grant (code or refresh token): those requested if
 * the grant covers all of them, all of the grant's when none is requested. A token request
 * may narrow the grant's resources, never widen them (RFC 8707 §2.2).
 */
export function narrowResources(
  granted: readonly string[] | undefined,
  requested: readonly string[],
): string[] | undefined {
  if (requested.length === 0) return granted === undefined || granted.length === 0 ? undefined : [...granted];
  for (const uri of requested) {
    if (granted === undefined || !granted.includes(uri))
      throw new InvalidTarget('The requested resource was not part of the original grant (RFC 8707 §2.2).');
  }
  return [...requested];
}

/** The scopes the given resources define between them; `undefined` when any has no list (no restriction). */
function resourceScopes(
  registry: ResourceRegistry,
  resources: readonly string[] | undefined,
): ReadonlySet<string> | undefined {
  if (resources === undefined || resources.length === 0) return undefined;
  const all = new Set<string>();
  for (const uri of resources) {
    const scopes = registry.get(uri)?.scopes;
    if (scopes === undefined) return undefined;
    for (const s of scopes) all.add(s);
  }
  return all;
}

/**
 * The scopes to grant for these resources: as {@link grantScopes} for the client, and then
 * each one a scope of the requested resources. With no scope asked, the client's defaults
 * that the resources define.
 */
export function grantScopesFor(
  registry: ResourceRegistry,
  client: Client,
  requested: string[] | undefined,
  resources: readonly string[] | undefined,
): string[] {
  const allowed = resourceScopes(registry, resources);
  if (allowed === undefined) return grantScopes(client, requested);
  if (requested === undefined || requested.length === 0)
    return (client.defaultScopes ?? client.scopes).filter((s) => allowed.has(s));
  const granted = grantScopes(client, requested);
  for (const scope of granted) {
    if (!allowed.has(scope)) throw new InvalidScope(`The scope "${scope}" is not a scope of the requested resource.`);
  }
  return granted;
}

/**
 * `scope` without what the resources do not define: a token narrowed to fewer resources
 * carries only their scopes. `strict` (the client named these scopes itself): a scope the
 * resources do not define is `invalid_scope` instead of being left out.
 */
export function scopesWithin(
  registry: ResourceRegistry,
  scope: readonly string[],
  resources: readonly string[] | undefined,
  strict = false,
): string[] {
  const allowed = resourceScopes(registry, resources);
  if (allowed === undefined) return [...scope];
  const outside = scope.find((s) => !allowed.has(s));
  if (strict && outside !== undefined)
    throw new InvalidScope(`The scope "${outside}" is not a scope of the requested resource.`);
  return scope.filter((s) => allowed.has(s));
}

/** The resources of a token request: the repeatable `resource` parameter (RFC 8707 §2), checked. */
export function resourcesOf(registry: ResourceRegistry, client: Client, params: Params): string[] {
  return requestedResources(registry, client, allValues(params, 'resource'));
}

/** The `aud` of an access token for these resources (RFC 9068 §3), or the default audience. */
export function audienceOf(
  resources: readonly string[] | undefined,
  fallback: string | readonly string[],
): string | string[] {
  if (resources === undefined || resources.length === 0) return typeof fallback === 'string' ? fallback : [...fallback];
  return resources.length === 1 ? (resources[0] as string) : [...resources];
}

/** Whether a token's `aud` claim (a string or a list) includes one of `expected`. */
export function hasAudience(aud: unknown, expected: readonly string[]): boolean {
  if (typeof aud === 'string') return expected.includes(aud);
  if (!Array.isArray(aud)) return false;
  for (const entry of aud as unknown[]) if (typeof entry === 'string' && expected.includes(entry)) return true;
  return false;
}
