/**
 * DPoP at the token endpoint (RFC 9449 §5): the proof of a token request, and what it binds.
 * @packageDocumentation
 */
import type { AuthenticatedClient } from '../clients/authenticate';
import { InvalidDpopProof, InvalidGrant } from '../core/errors';
import type { ServerContext } from '../endpoints/context';
import type { Request } from '../http/body';
import type { Client, TokenRecord } from '../stores/types';
import { dpopHeader, verifyProof } from './proof';

/** The token endpoint URL as proofs must name it in `htu`: the issuer plus the token path, as in the metadata. */
export function tokenEndpointUrl(ctx: ServerContext): string {
  return ctx.options.issuer.replace(/\/+$/, '') + ctx.options.tokenPath;
}

/**
 * Check the DPoP proof of a token request, if any, and return its key's thumbprint. A client
 * registered with `dpopBound: true` must send one.
 */
export async function tokenRequestProof(ctx: ServerContext, req: Request, client: Client): Promise<string | undefined> {
  const proof = dpopHeader(req, 400);
  if (proof === undefined) {
    if (client.dpopBound === true)
      throw new InvalidDpopProof('This client must send a DPoP proof with every token request (RFC 9449 §5).');
    return undefined;
  }
  const expected = new URL(tokenEndpointUrl(ctx)).href;
  const { jkt } = await verifyProof(ctx.dpop, proof, {
    method: 'POST',
    matchesUri: (htu) => htu.href === expected,
    status: 400,
  });
  return jkt;
}

/**
 * Refuse a code or refresh token bound to a key (RFC 9449 §5 refresh tokens, §10 `dpop_jkt`)
 * when this request's proof is missing or signed by another key: `invalid_grant`.
 */
export function checkBoundRecord(record: TokenRecord, auth: AuthenticatedClient, message: string): void {
  if (record.jkt !== undefined && record.jkt !== auth.dpopJkt) throw new InvalidGrant(message);
}

/**
 * What a grant adds to its issue request: bind the access token to the proof's key, and for a
 * public client the refresh token too (RFC 9449 §5). A confidential client's refresh tokens stay
 * unbound: it authenticates on every refresh, which already ties them to it.
 */
export function dpopBinding(auth: AuthenticatedClient): { jkt?: string; bindRefresh?: boolean } {
  return auth.dpopJkt === undefined ? {} : { jkt: auth.dpopJkt, bindRefresh: auth.method === 'none' };
}
