import type { AuthenticatedClient } from '../clients/authenticate';
import type { Params } from '../core/http';
import type { ServerContext } from '../endpoints/context';
import type { GrantType } from '../stores/types';
import type { TokenResponse } from '../tokens/issue';

/** Runs a grant's own credential check (e.g. a password) under the limits the grant declared. */
export interface CredentialGuard {
  /** Reserve an attempt, run `check`, count it if it failed with `invalid_grant`. */
  check<T>(check: () => Promise<T>): Promise<T>;
}

/** What a grant declares about the brute-force limits its own credential needs. */
export interface GrantLimits {
  /** The username whose password the grant checks: counted per (username, address) and slowed globally. */
  username?(params: Params): string | undefined;
}

/**
 * One grant type of the token endpoint. The endpoint has already parsed the body,
 * authenticated the client and checked the client may use this grant.
 */
export interface Grant {
  readonly type: GrantType;
  /** The limits the grant's own credential check runs under (see {@link GrantLimits}); none by default. */
  readonly limits?: GrantLimits;
  /**
   * Checks of the request's own parameters that need no client (missing or malformed
   * parameters). Run before the client is authenticated or any limit reserved.
   */
  validate?(params: Params): void;
  /**
   * Run the grant's own rules and issue tokens, or throw the OAuth error the RFC names. A grant
   * that declared `limits` runs its credential check through `guard.check`, after every check
   * that needs no credential (e.g. scopes), so that those never count.
   */
  handle(ctx: ServerContext, params: Params, auth: AuthenticatedClient, guard: CredentialGuard): Promise<TokenResponse>;
}

export type { TokenResponseExtension } from '../tokens/issue';
