import type { AuthenticatedClient } from '../clients/authenticate';
import type { ServerContext } from '../endpoints/context';
import type { Params } from '../core/http';
import type { GrantType } from '../stores/types';
import type { TokenResponse } from '../tokens/issue';

/**
 * One grant type of the token endpoint. The endpoint has already parsed the body,
 * authenticated the client and checked the client may use this grant.
 */
export interface Grant {
  readonly type: GrantType;
  /** Run the grant's own rules and issue tokens, or throw the OAuth error the RFC names. */
  handle(ctx: ServerContext, params: Params, auth: AuthenticatedClient): Promise<TokenResponse>;
}
