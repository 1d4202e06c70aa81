/**
 * Token exchange (RFC 8693): a client presents a token it holds for someone (the subject) and
 * gets a new access token for that subject, usually narrower or for another API, optionally
 * naming itself (or another party) as the actor. Off unless `options.tokenExchange` is set:
 * the app's policy decides who may exchange what for whom.
 * @packageDocumentation
 */
import type { Client } from '../stores/types';
import type { ServerContext } from '../context';
import { InvalidRequest, InvalidScope, OAuthError, UnauthorizedClient } from '../errors';
import { printable, type Params } from '../http/body';
import { parseScope } from '../scopes';
import { findToken } from '../tokens/lookup';
import type { Grant } from './types';

/** The `grant_type` of token exchange (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The token type of an access token (RFC 8693 §3). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

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
  validateToken?(token: string, tokenType: string, role: 'subject' | 'actor'): ExchangeToken | undefined | Promise<ExchangeToken | undefined>;
}

/** Validate `options.tokenExchange` once, at start-up. */
export function checkTokenExchange(value: unknown): TokenExchangeOptions | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<TokenExchangeOptions> | null;
  if (!v || typeof v !== 'object' || typeof v.policy !== 'function' || (v.validateToken !== undefined && typeof v.validateToken !== 'function')) {
    throw new Error('oauthServer: options.tokenExchange must be { policy(request), validateToken?(token, type, role) }.');
  }
  return v as TokenExchangeOptions;
}

// RFC 8707 §2 / RFC 8693 §2.1: a resource is an absolute URI without a fragment; an audience
// is any logical name, but printable and bounded.
function targets(params: Params): string[] {
  const list: string[] = [];
  if (params.resource !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(params.resource);
    } catch {
      url = undefined;
    }
    if (!url || params.resource.includes('#')) throw new InvalidTarget('The resource must be an absolute URI without a fragment (RFC 8707 §2).');
    list.push(params.resource);
  }
  if (params.audience !== undefined) {
    if (!/^[\x21-\x7e]{1,2048}$/.test(params.audience)) throw new InvalidTarget('The audience must be printable ASCII.');
    list.push(params.audience);
  }
  return [...new Set(list)];
}

async function validate(ctx: ServerContext, options: TokenExchangeOptions, token: string, type: string, role: 'subject' | 'actor'): Promise<ExchangeToken> {
  const invalid = (): InvalidRequest => new InvalidRequest(`The ${role}_token is invalid, expired or revoked (RFC 8693 §2.2.2).`);
  if (type === ACCESS_TOKEN_TYPE) {
    const found = await findToken(ctx, token, 'access_token');
    if (found?.kind === 'access_token') {
      const act = (found as { act?: ActClaim }).act;
      return { type, sub: found.sub, scope: found.scope.split(' ').filter(Boolean), clientId: found.clientId, act, familyId: found.familyId ?? found.id };
    }
  }
  const other = await options.validateToken?.(token, type, role);
  if (other === undefined) {
    if (type !== ACCESS_TOKEN_TYPE && !options.validateToken) throw new InvalidRequest(`The ${role}_token_type "${printable(type)}" is not supported.`);
    throw invalid();
  }
  return { ...other, type };
}

/**
 * `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693 §2): validates the subject (and
 * actor) token, asks the policy, and issues an access token for the subject with an `act`
 * claim naming the actor (earlier actors nested, §4.1). No refresh token (§2.2.1). The new
 * token joins the subject token's grant, so it is revoked with it.
 */
export function tokenExchangeGrant(options: TokenExchangeOptions): Grant {
  return {
    type: TOKEN_EXCHANGE_GRANT,
    async handle(ctx, params, { client }) {
      const { subject_token: subjectToken, subject_token_type: subjectType, actor_token: actorToken, actor_token_type: actorType } = params;
      if (!subjectToken) throw new InvalidRequest('The "subject_token" parameter is required (RFC 8693 §2.1).');
      if (!subjectType) throw new InvalidRequest('The "subject_token_type" parameter is required (RFC 8693 §2.1).');
      if (actorToken !== undefined && !actorType) throw new InvalidRequest('The "actor_token_type" parameter is required with an actor_token (RFC 8693 §2.1).');
      if (actorToken === undefined && actorType !== undefined) throw new InvalidRequest('The "actor_token_type" parameter must not be sent without an actor_token (RFC 8693 §2.1).');
      const requestedType = params.requested_token_type ?? ACCESS_TOKEN_TYPE;
      if (requestedType !== ACCESS_TOKEN_TYPE) throw new InvalidRequest(`The requested_token_type "${printable(requestedType)}" is not supported; this server issues access tokens.`);
      const audience = targets(params);
      const requested = parseScope(params.scope);

      const subject = await validate(ctx, options, subjectToken, subjectType, 'subject');
      const actor = actorToken === undefined ? undefined : await validate(ctx, options, actorToken, actorType as string, 'actor');
      const scope = requested === undefined || requested.length === 0 ? [...subject.scope] : requested;

      const decision = await options.policy({ client, subject, actor, audience, scope, requestedTokenType: requestedType });
      if (decision === 'invalid_target') throw new InvalidTarget('This client may not get a token for that audience or resource.');
      if (decision === false || decision === undefined || decision === null) throw new UnauthorizedClient('This client may not exchange this token.');
      const granted = typeof decision === 'object' && decision.scope !== undefined ? [...decision.scope] : scope;
      // RFC 8693 §5: never wider than the subject's, unless the policy itself said so.
      if (!(typeof decision === 'object' && decision.scope !== undefined)) {
        const wider = granted.find((s) => !subject.scope.includes(s));
        if (wider !== undefined) throw new InvalidScope(`The scope "${wider}" is not part of the subject token's scopes.`);
      }

      // §4.1: the current actor outermost, earlier ones (the subject's own act) nested.
      let act: ActClaim | undefined = subject.act;
      if (actor) act = { sub: actor.sub, ...(actor.clientId === undefined ? {} : { client_id: actor.clientId }), ...(subject.act === undefined ? {} : { act: subject.act }) };

      const lifetime = typeof decision === 'object' && decision.lifetime !== undefined ? decision.lifetime : undefined;
      const issuingClient = lifetime === undefined ? client : { ...client, accessTokenLifetime: Math.min(lifetime, ctx.issuer.accessLifetime(client)) };
      const response = await ctx.issuer.issue({
        client: issuingClient,
        sub: subject.sub,
        scope: granted,
        familyId: subject.familyId,
        refreshToken: false,
        audience: audience.length === 0 ? undefined : audience.length === 1 ? audience[0] : audience,
        extraClaims: act === undefined ? undefined : { act },
      });
      return { ...response, issued_token_type: ACCESS_TOKEN_TYPE };
    },
  };
}
