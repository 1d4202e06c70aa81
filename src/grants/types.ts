import type { AuthenticatedClient } from '../clients/authenticate';
import type { ServerContext } from '../context';
import type { Params } from '../http/body';
import type { Client, GrantType, TokenRecord } from '../stores/types';
import type { IssueRequest, TokenResponse } from '../tokens/issue';

/**
 * One grant type of the token endpoint. The endpoint has already parsed the body,
 * authenticated the client and checked the client may use this grant.
 */
export interface Grant {
  readonly type: GrantType;
  /** Run the grant's own rules and issue tokens, or throw the OAuth error the RFC names. */
  handle(ctx: ServerContext, params: Params, auth: AuthenticatedClient): Promise<TokenResponse>;
}

/**
 * Adds members to the token response of a grant that redeems a code or a refresh token (for
 * example OpenID Connect's `id_token`), after the tokens are issued and before the code or
 * refresh token is consumed, so a failure here leaves it usable for a retry.
 */
export type TokenResponseExtension = (redeemed: { client: Client; record: TokenRecord; request: IssueRequest; response: TokenResponse }) => Promise<void>;
