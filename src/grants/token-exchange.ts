/**
 * Token exchange (RFC 8693): a client presents a token it holds for someone (the subject) and
 * gets a new access token for that subject, usually narrower or for another API, optionally
 * naming itself (or another party) as the actor. Off unless `options.tokenExchange` is set:
 * the app's policy decides who may exchange what for whom.
 * @packageDocumentation
 */
import { InvalidRequest, InvalidScope, UnauthorizedClient } from '../core/errors';
import { parseScope } from '../core/scopes';
import { dpopBinding } from '../dpop/binding';
import type { ServerContext } from '../endpoints/context';
import { allValues, printable, type Params } from '../http/body';
import { isResourceUri } from '../resources/indicators';
import { findToken } from '../tokens/lookup';
import { InvalidTarget, type ActClaim, type ExchangeToken, type TokenExchangeOptions } from './token-exchange-options';
import type { Grant } from './types';

export {
  InvalidTarget,
  checkTokenExchange,
  type ActClaim,
  type ExchangeToken,
  type TokenExchangeDecision,
  type TokenExchangeOptions,
  type TokenExchangeRequest,
} from './token-exchange-options';

/** The `grant_type` of token exchange (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The token type of an access token (RFC 8693 §3). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

// RFC 8693 §2.1: `resource` and `audience` may each be given several times, and together; the
// new token is meant for all of them (its `aud` lists them). A resource is an absolute URI
// without a fragment (RFC 8707 §2); an audience is any logical name, but printable and bounded.
function targets(params: Params): string[] {
  const list: string[] = [];
  for (const resource of allValues(params, 'resource')) {
    if (!isResourceUri(resource))
      throw new InvalidTarget('Each resource must be an absolute URI without a fragment (RFC 8707 §2).');
    list.push(resource);
  }
  for (const audience of allValues(params, 'audience')) {
    if (!/^[\x21-\x7e]{1,2048}$/.test(audience)) throw new InvalidTarget('Each audience must be printable ASCII.');
    list.push(audience);
  }
  return [...new Set(list)];
}

async function validate(
  ctx: ServerContext,
  options: TokenExchangeOptions,
  token: string,
  type: string,
  role: 'subject' | 'actor',
): Promise<ExchangeToken> {
  const invalid = (): InvalidRequest =>
    new InvalidRequest(`The ${role}_token is invalid, expired or revoked (RFC 8693 §2.2.2).`);
  if (type === ACCESS_TOKEN_TYPE) {
    const found = await findToken(ctx, token, 'access_token');
    if (found?.kind === 'access_token') {
      const act = (found as { act?: ActClaim }).act;
      return {
        type,
        sub: found.sub,
        scope: found.scope.split(' ').filter(Boolean),
        clientId: found.clientId,
        act,
        familyId: found.familyId ?? found.id,
      };
    }
  }
  const other = await options.validateToken?.(token, type, role);
  if (other === undefined) {
    if (type !== ACCESS_TOKEN_TYPE && !options.validateToken)
      throw new InvalidRequest(`The ${role}_token_type "${printable(type)}" is not supported.`);
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
    async handle(ctx, params, auth) {
      const { client } = auth;
      const {
        subject_token: subjectToken,
        subject_token_type: subjectType,
        actor_token: actorToken,
        actor_token_type: actorType,
      } = params;
      if (!subjectToken) throw new InvalidRequest('The "subject_token" parameter is required (RFC 8693 §2.1).');
      if (!subjectType) throw new InvalidRequest('The "subject_token_type" parameter is required (RFC 8693 §2.1).');
      if (actorToken !== undefined && !actorType)
        throw new InvalidRequest('The "actor_token_type" parameter is required with an actor_token (RFC 8693 §2.1).');
      if (actorToken === undefined && actorType !== undefined)
        throw new InvalidRequest(
          'The "actor_token_type" parameter must not be sent without an actor_token (RFC 8693 §2.1).',
        );
      const requestedType = params.requested_token_type ?? ACCESS_TOKEN_TYPE;
      if (requestedType !== ACCESS_TOKEN_TYPE)
        throw new InvalidRequest(
          `The requested_token_type "${printable(requestedType)}" is not supported; this server issues access tokens.`,
        );
      const audience = targets(params);
      const requested = parseScope(params.scope);

      const subject = await validate(ctx, options, subjectToken, subjectType, 'subject');
      const actor =
        actorToken === undefined ? undefined : await validate(ctx, options, actorToken, actorType as string, 'actor');
      const scope = requested === undefined || requested.length === 0 ? [...subject.scope] : requested;

      const decision = await options.policy({
        client,
        subject,
        actor,
        audience,
        scope,
        requestedTokenType: requestedType,
      });
      if (decision === 'invalid_target')
        throw new InvalidTarget('This client may not get a token for that audience or resource.');
      if (decision === false || decision === undefined || decision === null)
        throw new UnauthorizedClient('This client may not exchange this token.');
      const granted = typeof decision === 'object' && decision.scope !== undefined ? [...decision.scope] : scope;
      // RFC 8693 §5: never wider than the subject's, unless the policy itself said so.
      if (!(typeof decision === 'object' && decision.scope !== undefined)) {
        const wider = granted.find((s) => !subject.scope.includes(s));
        if (wider !== undefined)
          throw new InvalidScope(`The scope "${wider}" is not part of the subject token's scopes.`);
      }

      // §4.1: the current actor outermost, earlier ones (the subject's own act) nested.
      let act: ActClaim | undefined = subject.act;
      if (actor)
        act = {
          sub: actor.sub,
          ...(actor.clientId === undefined ? {} : { client_id: actor.clientId }),
          ...(subject.act === undefined ? {} : { act: subject.act }),
        };

      const lifetime = typeof decision === 'object' && decision.lifetime !== undefined ? decision.lifetime : undefined;
      const issuingClient =
        lifetime === undefined
          ? client
          : { ...client, accessTokenLifetime: Math.min(lifetime, ctx.issuer.accessLifetime(client)) };
      const response = await ctx.issuer.issue({
        client: issuingClient,
        grantType: TOKEN_EXCHANGE_GRANT,
        sub: subject.sub,
        scope: granted,
        familyId: subject.familyId,
        refreshToken: false,
        audience: audience.length === 0 ? undefined : audience.length === 1 ? audience[0] : audience,
        extraClaims: act === undefined ? undefined : { act },
        ...dpopBinding(auth),
      });
      return { ...response, issued_token_type: ACCESS_TOKEN_TYPE };
    },
  };
}
