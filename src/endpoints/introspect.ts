/**
 * The introspection endpoint (RFC 7662): an authenticated client asks whether a token is
 * active and what it carries. A client may introspect its own tokens; a client registered as
 * a resource server (`resourceServer: true`) may introspect every access token.
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { InvalidClient } from '../core/errors';
import type { Handler } from '../core/http';
import type { Client } from '../stores/types';
import { findToken, type FoundToken } from '../tokens/lookup';
import type { ServerContext } from './context';
import { tokenRequestEndpoint } from './token-request';

/**
 * The introspection response of an active token (RFC 7662 §2.2), with an access token's
 * claims of the app's own (`options.accessTokenClaims`) beside these members.
 */
export interface IntrospectionResponse {
  active: true;
  scope: string;
  client_id: string;
  sub: string;
  exp: number;
  iat: number;
  iss: string;
  /** Access tokens only. */
  aud?: string | string[];
  /** `Bearer` for access tokens; absent for refresh tokens, which are not sent as bearer tokens. */
  token_type?: 'Bearer' | 'DPoP';
  /** The key a DPoP-bound token is bound to (RFC 9449 §6.2, RFC 7800). */
  cnf?: { jkt: string };
  /** A delegated token's actor, earlier actors nested (RFC 8693 §4.1), JWT or opaque alike. */
  act?: unknown;
  /** The JWT's `jti`, or for a stored token its id (a hash, never the token). */
  jti: string;
  /** Claims of the app's own (RFC 7662 §2.2 allows extensions); never one of the names above. */
  [claim: string]: unknown;
}

function mayIntrospect(client: Client, token: FoundToken): boolean {
  if (token.clientId === client.id) return true;
  return client.resourceServer === true && token.kind === 'access_token';
}

function describe(ctx: ServerContext, token: FoundToken): IntrospectionResponse {
  // The app's claims first: their names are never the ones below (checked at issue time).
  const body: IntrospectionResponse = {
    ...token.claims,
    active: true,
    scope: token.scope,
    client_id: token.clientId,
    sub: token.sub,
    exp: token.expiresAt,
    iat: token.issuedAt,
    iss: ctx.options.issuer,
    jti: token.id,
  };
  if (token.kind === 'access_token') {
    body.token_type = token.jkt === undefined ? 'Bearer' : 'DPoP';
    if (token.jkt !== undefined) body.cnf = { jkt: token.jkt };
    if (token.audience !== undefined)
      body.aud = typeof token.audience === 'string' ? token.audience : [...token.audience];
    if (token.act !== undefined) body.act = token.act;
  }
  return body;
}

/** The introspection endpoint handler. */
export function introspectionEndpoint(ctx: ServerContext): Handler {
  return tokenRequestEndpoint(ctx, 'introspection', false, async ({ auth, token, hint }) => {
    // RFC 7662 §2.1 requires authorization; a public client cannot prove who it is (§4).
    if (auth.method === 'none') throw new InvalidClient('The introspection endpoint requires client authentication.');
    const found = await findToken(ctx, token, hint);
    // RFC 7662 §2.2: expired, revoked, unknown or not the caller's business all look alike.
    if (found === undefined || found.consumed || found.expiresAt <= nowSeconds() || !mayIntrospect(auth.client, found))
      return { active: false };
    return describe(ctx, found);
  });
}
