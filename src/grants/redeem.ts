/**
 * Redeeming a single-use record (an authorization code or a refresh token) for new tokens,
 * shared by the two grants that do it.
 * @packageDocumentation
 */
import type { ServerContext } from '../endpoints/context';
import { InvalidGrant } from '../core/errors';
import type { Client, TokenRecord } from '../stores/types';
import type { IssueRequest, TokenResponse } from '../tokens/issue';

/**
 * Refuse a record that was already redeemed: a replay, so the whole family is revoked
 * (RFC 6749 §4.1.2 for codes, RFC 9700 §4.14.2 for refresh tokens).
 */
export async function refuseReplay(ctx: ServerContext, client: Client, record: TokenRecord, message: string): Promise<void> {
  if (record.consumedAt === undefined) return;
  await ctx.issuer.revokeFamily(record.familyId, client);
  throw new InvalidGrant(message);
}

/**
 * Issue the new tokens, then consume the record. In that order so that a store failure while
 * saving leaves the presented code or token unconsumed (the client's retry is not mistaken for
 * a replay), and so that whoever loses the race to consume revokes the family after the
 * winner's new tokens exist, taking them down with it.
 */
export async function redeem(
  ctx: ServerContext,
  client: Client,
  record: TokenRecord,
  request: IssueRequest,
  message: string,
): Promise<TokenResponse> {
  const response = await ctx.issuer.issue(request);
  for (const extend of ctx.tokenResponseExtensions ?? []) await extend({ client, record, request, response });
  const consumed = await ctx.tokens.consume(record.kind, record.id);
  if (consumed === undefined) throw new InvalidGrant(message);
  if (consumed.reused) {
    await ctx.issuer.revokeFamily(record.familyId, client);
    throw new InvalidGrant(message);
  }
  return response;
}
