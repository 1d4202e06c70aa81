/**
 * The moments endpoints and grants report, each one call at the place it happens, turned into
 * events ({@link EventHub}) and telemetry ({@link Telemetry}). Every method first asks whether
 * anyone listens, so an unobserved server builds no payload.
 * @packageDocumentation
 */
import { clientAuthFailure } from '../clients/authenticate';
import { OAuthError, TemporarilyUnavailable, TooManyRequests } from '../core/errors';
import type { Request } from '../core/http';
import { refusedBy } from '../limits/brute-force';
import type { Client, TokenRecord } from '../stores/types';
import type { TokenResponse } from '../tokens/issue';
import { ISSUED, type EventHub, type IssuedFacts } from './events';
import type { Telemetry } from './telemetry';

/** One server's events and telemetry, as its endpoints report to them. */
export class Observer {
  constructor(
    /** `oauth.events`. */
    readonly events: EventHub,
    readonly telemetry: Telemetry,
  ) {}

  /** The request's client authenticated (and, at the token endpoint, named a grant the server has). */
  identified(req: Request, clientId: string, grantType?: string): void {
    this.telemetry.identified(req, clientId, grantType);
  }

  /** The token endpoint answered `response` to a `grantType` request of `clientId`. */
  issued(grantType: string, clientId: string, response: TokenResponse): void {
    this.telemetry.issued(grantType);
    const facts = (response as TokenResponse & { [ISSUED]?: IssuedFacts })[ISSUED];
    if (facts === undefined) return; // nobody was listening when the tokens were issued
    const { events } = this;
    if (events.listening('token.issued')) events.emit('token.issued', { grantType, clientId, ...facts });
    if (grantType === 'refresh_token' && facts.familyId !== undefined && events.listening('token.refreshed'))
      events.emit('token.refreshed', {
        clientId,
        subject: facts.subject,
        familyId: facts.familyId,
        scopes: facts.scopes,
        accessTokenId: facts.accessTokenId,
      });
  }

  /** A token of `clientId` was revoked: a refresh token with its family, or an access token alone. */
  revoked(
    clientId: string,
    token: { readonly kind: string; readonly id: string; readonly familyId?: string | undefined },
    reason: 'revocation_request' | 'user_unknown',
  ): void {
    if (!this.events.listening('token.revoked')) return;
    const refresh = token.kind === 'refresh_token';
    this.events.emit('token.revoked', {
      clientId,
      tokenType: refresh ? 'refresh_token' : 'access_token',
      // An access token's id is its jti (or its record's id, a hash); a refresh token is named by its family.
      ...(refresh ? token.familyId !== undefined && { familyId: token.familyId } : { tokenId: token.id }),
      reason,
    });
  }

  /** A consumed refresh token or code was presented again, and its family revoked. */
  reused(client: Client, record: TokenRecord): void {
    const name =
      record.kind === 'authorization_code' ? 'authorization_code.reuse_detected' : 'refresh_token.reuse_detected';
    if (!this.events.listening(name)) return;
    this.events.emit(name, { clientId: client.id, subject: record.sub, familyId: record.familyId as string });
  }

  /** The password grant was given a wrong username or password. */
  passwordFailed(clientId: string, username: string): void {
    if (this.events.listening('password.failed')) this.events.emit('password.failed', { clientId, username });
  }

  /** Dynamic registration registered, updated or deleted `client`. */
  registration(what: 'registered' | 'updated' | 'deleted', client: Client): void {
    const name = `client.${what}` as const;
    if (!this.events.listening(name)) return;
    this.events.emit(
      name,
      what === 'deleted'
        ? { clientId: client.id }
        : {
            clientId: client.id,
            grantTypes: [...client.grants],
            confidential: client.secretHash !== undefined || client.jwks !== undefined || client.jwksUri !== undefined,
          },
    );
  }

  /**
   * Endpoint `endpoint` is answering `err`: counted by error code, and reported as the event it
   * is, if any (a failed client authentication, a limit, an unavailable store).
   */
  failed(req: Request, endpoint: string, err: unknown): void {
    const code = err instanceof OAuthError ? err.error : 'server_error';
    this.telemetry.failed(req, endpoint, code);
    const { events } = this;
    if (code === 'invalid_client' && events.listening('client.authentication_failed')) {
      const failure = clientAuthFailure(err) ?? { reason: 'invalid_credentials' as const };
      events.emit('client.authentication_failed', { endpoint, ...failure });
    } else if (err instanceof TooManyRequests && events.listening('limit.reached')) {
      const retryAfter = Number(err.headers['Retry-After']);
      events.emit('limit.reached', {
        endpoint,
        limit: refusedBy(err) ?? 'request',
        ...(Number.isFinite(retryAfter) && { retryAfter }),
      });
    } else if (err instanceof TemporarilyUnavailable && events.listening('store.unavailable')) {
      const cause = (err.cause as { code?: unknown } | undefined)?.code;
      events.emit('store.unavailable', {
        endpoint,
        description: err.message,
        ...((typeof cause === 'string' || typeof cause === 'number') && { causeCode: String(cause) }),
      });
    }
  }
}
