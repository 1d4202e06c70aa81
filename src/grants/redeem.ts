/**
 * Redeeming a single-use record for new tokens: an authorization code (`redeem`, strictly
 * single use) or a refresh token (`rotate`, single use with an allowance for retries).
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { hashToken, successorToken } from '../core/crypto';
import { InvalidGrant } from '../core/errors';
import type { ServerContext } from '../endpoints/context';
import type { Client, TokenRecord } from '../stores/types';
import type { IssueRequest, TokenResponse } from '../tokens/issue';

/**
 * Refuse a record that was already redeemed: a replay, so the whole family is revoked
 * (RFC 6749 §4.1.2 for codes, RFC 9700 §4.14.2 for refresh tokens).
 */
export async function refuseReplay(
  ctx: ServerContext,
  client: Client,
  record: TokenRecord,
  message: string,
): Promise<void> {
  if (record.consumedAt === undefined) return;
  await ctx.issuer.revokeFamily(record.familyId, client);
  ctx.observer.reused(client, record);
  throw new InvalidGrant(message);
}

/** Issue, then let the response extensions (e.g. OpenID Connect's ID token) add to the answer. */
async function issueExtended(
  ctx: ServerContext,
  client: Client,
  record: TokenRecord,
  request: IssueRequest,
): Promise<TokenResponse> {
  const response = await ctx.issuer.issue(request);
  for (const extend of ctx.tokenResponseExtensions ?? []) await extend({ client, record, request, response });
  return response;
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
  const response = await issueExtended(ctx, client, record, request);
  const consumed = await ctx.tokens.consume(record.kind, record.id);
  if (consumed === undefined) throw new InvalidGrant(message);
  if (consumed.reused) {
    await ctx.issuer.revokeFamily(record.familyId, client);
    ctx.observer.reused(client, record);
    throw new InvalidGrant(message);
  }
  return response;
}

/**
 * Who presents a refresh token again: the proof-of-possession key the request proves (a DPoP
 * key thumbprint, RFC 9449 §5) when refresh tokens are sender-constrained. Hook for the DPoP
 * work: once records carry their binding, a retry must prove the same key to be answered.
 */
export interface Presenter {
  /** The JWK thumbprint the request proved, if any. */
  jkt?: string;
}

function sameHolder(record: TokenRecord, presenter: Presenter): boolean {
  const bound = (record as { jkt?: unknown }).jkt;
  return bound === undefined || bound === presenter.jkt;
}

/**
 * Rotate a refresh token (RFC 9700 §4.14.2), idempotently for the client's retries.
 *
 * The token's one successor is derived from it (`successorToken`), so every answer for one
 * token carries the same new refresh token. The first `consume` wins; it then saves the
 * successor and answers. A later presentation is a replay, and the family is revoked, unless
 * it is a retry: the same client (and key, see {@link Presenter}), within
 * `refreshReuse.window` seconds of the first redemption, at most `refreshReuse.limit` times
 * (the store counts replays atomically), and either
 * - the successor was never saved: the first redemption failed after the consume (its reply
 *   lost, #11 item 6) or is still under way, so nobody has the successor yet; the retry saves
 *   it and answers. This holds at the strict default too; or
 * - with a reuse interval (`refreshReuse.grace`), the successor exists but was not used yet:
 *   two tabs, a timeout retry. A client that used the successor has received it, so its
 *   parent presented again is never a retry.
 * A thief replaying within the window gets the successor the client holds, not a family of
 * their own; whichever of them uses it second, outside its window, is detected then: the
 * window delays detection by at most one rotation and never yields two live refresh tokens.
 */
export async function rotate(
  ctx: ServerContext,
  client: Client,
  presented: string,
  record: TokenRecord,
  request: IssueRequest,
  presenter: Presenter,
  message: string,
): Promise<TokenResponse> {
  const consumed = await ctx.tokens.consume('refresh_token', record.id);
  if (consumed === undefined) throw new InvalidGrant(message);
  const { record: current } = consumed;
  const salt = current.successorSalt;
  const successor = salt === undefined ? undefined : successorToken(presented, salt);
  // Two redemptions may both save the successor (the first and a retry). If a replay revokes
  // the family between the one save and the other, the second finds the id taken and the
  // record gone: it lost to the revocation, which is invalid_grant, not a server error.
  const issueSuccessor = (token: string): Promise<TokenResponse> =>
    issueExtended(ctx, client, current, { ...request, successor: { token, saved: false } }).catch(
      async (err: unknown) => {
        // If the store cannot say either, the first failure stands (a 503 stays a 503).
        const revoked = await ctx.tokens.isRevoked([hashToken(token), current.familyId]).catch(() => false);
        if (revoked) throw new InvalidGrant(message);
        throw err;
      },
    );
  if (!consumed.reused)
    return successor === undefined ? issueExtended(ctx, client, current, request) : issueSuccessor(successor);

  const { window, limit, grace } = ctx.options.refreshReuse;
  const retry =
    successor !== undefined &&
    consumed.reuses !== undefined &&
    consumed.reuses <= limit &&
    current.consumedAt !== undefined &&
    nowSeconds() - current.consumedAt <= window &&
    sameHolder(current, presenter);
  if (retry) {
    const id = hashToken(successor);
    const saved = await ctx.tokens.find('refresh_token', id);
    if (saved === undefined && !(await ctx.tokens.isRevoked([id, current.familyId]))) return issueSuccessor(successor);
    if (grace && saved !== undefined && saved.consumedAt === undefined)
      return issueExtended(ctx, client, current, { ...request, successor: { token: successor, saved: true } });
  }
  await ctx.issuer.revokeFamily(current.familyId, client);
  ctx.observer.reused(client, current);
  throw new InvalidGrant(message);
}
