/**
 * Extension grants (RFC 6749 §4.5): grant types of the app's own, named by absolute URIs
 * (`options.grants`), run through the same pipeline as the built-in ones. The token endpoint
 * reads the body, authenticates the client, checks the client lists the grant type and applies
 * the brute-force limits; this adapter checks scopes and resources, runs the app's handler
 * (under the grant's credential limits), and issues tokens as every grant does.
 * @packageDocumentation
 */
import { TokengateConfigError } from '../core/config';
import { parseScope } from '../core/scopes';
import { dpopBinding } from '../dpop/binding';
import { grantScopesFor, resourcesOf } from '../resources/indicators';
import type { GrantType } from '../stores/types';
import {
  GRANTS_AT,
  type ExtensionGrant,
  type ExtensionGrantRequest,
  type ExtensionGrantResult,
} from './extension-options';
import type { Grant } from './types';

const AT = GRANTS_AT;

// What the handler returned, checked: a mistake there is the server's, never the client's, so
// it is a configuration error (logged; the client gets server_error), as for accessTokenClaims.
function checkResult(type: string, result: unknown, granted: readonly string[]): ExtensionGrantResult {
  const at = `${AT}["${type}"]`;
  const r = result as Partial<ExtensionGrantResult> | null | undefined;
  if (!r || typeof r !== 'object' || typeof r.subject !== 'string' || r.subject === '')
    throw new TokengateConfigError('ERR_TOKENGATE_GRANT', `${at} must return { subject } with a non-empty subject.`);
  if (r.userId !== undefined && (typeof r.userId !== 'string' || r.userId === ''))
    throw new TokengateConfigError('ERR_TOKENGATE_GRANT', `${at} returned a userId that is not a non-empty string.`);
  if (r.scopes !== undefined) {
    const scopes: unknown = r.scopes;
    const outside: unknown = Array.isArray(scopes)
      ? (scopes as unknown[]).find((s) => typeof s !== 'string' || !granted.includes(s))
      : '(not an array)';
    if (outside !== undefined)
      throw new TokengateConfigError(
        'ERR_TOKENGATE_GRANT',
        `${at} returned the scope ${JSON.stringify(outside)}, which is not among request.scopes; return only some of those.`,
      );
  }
  return r as ExtensionGrantResult;
}

/** The token endpoint's {@link Grant} for one extension grant. */
export function extensionGrant(type: string, definition: ExtensionGrant): Grant {
  return {
    type: type as GrantType,
    ...(definition.limits && { limits: definition.limits }),
    validate(params) {
      parseScope(params.scope);
      definition.validate?.(params);
    },
    async handle(ctx, params, auth, guard) {
      const { client } = auth;
      // Scopes and resources before the handler: a bad scope costs no credential check and counts no failure.
      const registry = ctx.options.resources;
      const resources = resourcesOf(registry, client, params);
      const scopes = grantScopesFor(registry, client, parseScope(params.scope), resources);
      const request: ExtensionGrantRequest = Object.freeze({
        grantType: type,
        params,
        client,
        clientAuthMethod: auth.method,
        scopes: Object.freeze([...scopes]),
        resources: Object.freeze([...resources]),
      });
      const result = checkResult(type, await guard.check(async () => definition.handle(request)), scopes);
      return ctx.issuer.issue({
        client,
        grantType: type,
        sub: result.subject,
        userId: result.userId,
        scope: result.scopes === undefined ? scopes : [...result.scopes],
        refreshToken: result.refreshToken === true && client.grants.includes('refresh_token'),
        resources,
        ...dpopBinding(auth),
      });
    },
  };
}
