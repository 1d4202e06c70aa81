/**
 * `options.tokenExchange` (RFC 8693): the policy hook's types and their start-up check. Kept
 * apart from the grant so that the options layer does not depend on the endpoint layer.
 * @packageDocumentation
 */
import { configError } from '../core/config';
import { OAuthError } from '../core/errors';
import type { Client } from '../stores/types';

/** `invalid_target` (400, RFC 8693 §2.2.2): the server will not issue a token for the audience or resource asked for. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description, 400);
  }
}

/** The `act` claim (RFC 8693 §4.1): the current actor, with earlier actors nested inside. */
export interface ActClaim {
  sub: string;
  /** The client the actor acted through, when the actor token says. */
  client_id?: string;
  act?: ActClaim;
  [claim: string]: unknown;
}

/** A validated subject or actor token, as the policy sees it. */
export interface ExchangeToken {
  /** The `subject_token_type` / `actor_token_type` it was presented as. */
  type: string;
  /** Whom the token is about. */
  sub: string;
  /** Its scopes. */
  scope: readonly string[];
  /** The client it was issued to, when known. */
  clientId?: string;
  /** Its own `act` claim, when it already is a delegated token. */
  act?: ActClaim;
  /**
   * This server's grant the token belongs to (or the token's own id when it has none): the
   * exchanged token joins it, so revoking the subject's grant revokes the exchanged token.
   */
  familyId?: string;
}

/** What the {@link TokenExchangeOptions.policy} is asked. */
export interface TokenExchangeRequest {
  /** The authenticated client asking for the exchange. */
  client: Client;
  subject: ExchangeToken;
  actor: ExchangeToken | undefined;
  /** The `audience` and `resource` asked for (RFC 8693 §2.1); empty for this server's default audience. */
  audience: readonly string[];
  /** The scopes asked for (the subject's when the request names none). */
  scope: readonly string[];
  /** Always the access token type for now (RFC 8693 §2.1 `requested_token_type`). */
  requestedTokenType: string;
}

/**
 * The policy's answer: `true` issues what was asked (within the subject's scopes); `false`
 * refuses (`unauthorized_client`); `'invalid_target'` refuses the audience or resource; an
 * object may set the scopes (even beyond the subject's: the policy allows it) and lifetime.
 */
export type TokenExchangeDecision = boolean | 'invalid_target' | { scope?: readonly string[]; lifetime?: number };

/**
 * `options.tokenExchange`: turns on `urn:ietf:params:oauth:grant-type:token-exchange` for
 * clients that list it in their grants.
 *
 * @example
 * ```ts
 * tokenExchange: {
 *   // The orders service may trade a user's token for a read-only one for the billing API.
 *   policy: ({ client, audience, scope }) =>
 *     client.id === 'orders-service' && audience.every((a) => a === 'https://billing.example') && scope.every((s) => s === 'read'),
 * }
 * ```
 */
export interface TokenExchangeOptions {
  /** Who may exchange what for whom. Called for every exchange that passed the RFC's checks. */
  policy(request: TokenExchangeRequest): TokenExchangeDecision | Promise<TokenExchangeDecision>;
  /**
   * Validate a subject or actor token that is not one of this server's access tokens (another
   * issuer's JWT, an ID token, …): return what it says, or `undefined` when it is invalid.
   * Without it, only this server's access tokens are accepted.
   */
  validateToken?(
    token: string,
    tokenType: string,
    role: 'subject' | 'actor',
  ): ExchangeToken | undefined | Promise<ExchangeToken | undefined>;
}

/** Validate `options.tokenExchange` once, at start-up. */
export function checkTokenExchange(value: unknown): TokenExchangeOptions | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<TokenExchangeOptions> | null;
  if (
    !v ||
    typeof v !== 'object' ||
    typeof v.policy !== 'function' ||
    (v.validateToken !== undefined && typeof v.validateToken !== 'function')
  ) {
    configError(
      'ERR_TOKENGATE_TYPE',
      'oauthServer: options.tokenExchange must be { policy(request), validateToken?(token, type, role) }.',
    );
  }
  return v as TokenExchangeOptions;
}
