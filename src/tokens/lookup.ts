/**
 * Finding what a presented token is, for the revocation (RFC 7009) and introspection
 * (RFC 7662) endpoints: a JWT access token by its signature, an opaque access token or a
 * refresh token by the hash the store keeps.
 * @packageDocumentation
 */
import { hashToken } from '../core/crypto';
import { InvalidToken } from '../core/errors';
import type { ServerContext } from '../endpoints/context';
import { clientRevocationId } from '../registration/client-revocation';
import { ownClaims } from './custom-claims';
import { isJwt } from './jwt';
import { verifyLiveJwt } from './verify-access';

/** The token type hints RFC 7009 §2.1 and RFC 7662 §2.1 register. */
export type TokenTypeHint = 'access_token' | 'refresh_token';

/** A live token this server issued, whatever its format. */
export interface FoundToken {
  kind: TokenTypeHint;
  /** The JWT's `jti`, or the store record's id (the token's hash). */
  id: string;
  familyId: string | undefined;
  clientId: string;
  sub: string;
  scope: string;
  issuedAt: number;
  expiresAt: number;
  /** The `aud` of an access token. */
  audience: string | readonly string[] | undefined;
  /** A refresh token already rotated away: it can no longer be used. */
  consumed: boolean;
  /** A delegated access token's `act` claim (RFC 8693 §4.1). */
  act?: unknown;
  /** The DPoP key thumbprint the token is bound to (RFC 9449 §6). */
  jkt?: string;
  /** An access token's claims of the app's own (`options.accessTokenClaims`). */
  claims?: Record<string, unknown>;
}

function boundJkt(jkt: unknown): { jkt?: string } {
  return typeof jkt === 'string' ? { jkt } : {};
}

function ownOf(claims: Record<string, unknown> | undefined): { claims?: Record<string, unknown> } {
  return claims === undefined ? {} : { claims };
}

async function findJwt(ctx: ServerContext, token: string): Promise<FoundToken | undefined> {
  let claims;
  try {
    // Any audience: these endpoints answer for every token this server issued, including one
    // exchanged for another API (RFC 8693); the resource that receives it checks its aud.
    ({ claims } = await verifyLiveJwt(ctx.verifier, ctx.tokens, token, ctx.heardRevocations, true));
  } catch (err) {
    // Expired, tampered, revoked, signed by a retired key: for these endpoints, not a token.
    if (err instanceof InvalidToken) return undefined;
    throw err;
  }
  return {
    kind: 'access_token',
    id: claims.jti,
    familyId: claims.fid,
    clientId: claims.client_id,
    sub: claims.sub,
    scope: claims.scope,
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    audience: claims.aud,
    consumed: false,
    ...(claims.act === undefined ? {} : { act: claims.act }),
    ...boundJkt((claims.cnf as { jkt?: unknown } | undefined)?.jkt),
    ...ownOf(ownClaims(claims)),
  };
}

/**
 * The token `token` names, or `undefined` when it is unknown, expired, revoked or not ours.
 * The hint only orders the lookups: RFC 7009 §2.1 says to search every type when the hinted
 * one does not match, and an unrecognised hint is ignored the same way.
 */
export async function findToken(
  ctx: ServerContext,
  token: string,
  hint: string | undefined,
): Promise<FoundToken | undefined> {
  if (isJwt(token)) return findJwt(ctx, token);
  const id = hashToken(token);
  const order: TokenTypeHint[] =
    hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    const record = await ctx.tokens.find(kind, id);
    if (record === undefined) continue;
    // Tokens of a deleted registered client (RFC 7592 §2.3) are revoked as a whole.
    const client = clientRevocationId(record.clientId);
    if (client !== undefined && (await ctx.tokens.isRevoked([client]))) return undefined;
    return {
      kind,
      id: record.id,
      familyId: record.familyId,
      clientId: record.clientId,
      sub: record.sub,
      scope: record.scope.join(' '),
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
      audience: kind === 'access_token' ? (record.resources ?? ctx.options.audience) : undefined,
      consumed: record.consumedAt !== undefined,
      ...((record as { act?: unknown }).act === undefined ? {} : { act: (record as { act?: unknown }).act }),
      ...boundJkt(record.jkt),
      ...(kind === 'access_token' ? ownOf(record.claims) : {}),
    };
  }
  return undefined;
}
