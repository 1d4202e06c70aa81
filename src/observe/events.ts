/**
 * Typed events for the security-relevant moments of a server (`oauth.events.on(...)`): tokens
 * issued, refreshed and revoked, refresh-token and code reuse, failed client authentication and
 * passwords, limits reached, client registration, an unavailable store. Payloads carry ids and
 * reasons, never a token, code, secret or password. Emitting costs nothing while nobody listens:
 * emit sites ask {@link EventHub.listening} before building a payload.
 * @packageDocumentation
 */
import type { Log, LogFields, LogLevel } from '../core/logging';

/** `token.issued`: a grant of the token endpoint issued an access token (and maybe a refresh token). */
export interface TokenIssuedEvent {
  /** The `grant_type` (`client_credentials`, `authorization_code`, `refresh_token`, an extension grant's URI...). */
  readonly grantType: string;
  readonly clientId: string;
  /** The token's subject: the user id, or the client id for `client_credentials`. */
  readonly subject: string;
  readonly scopes: readonly string[];
  /** The access token's id: a JWT's `jti`, or the id an opaque token's record is stored under (a hash, not the token). */
  readonly accessTokenId: string;
  /** The grant's family id (what revoking a refresh token revokes), when the tokens belong to a revocable grant. */
  readonly familyId?: string;
  /** Whether a refresh token was issued too. */
  readonly refreshTokenIssued: boolean;
  /** `DPoP` for a token bound to a DPoP key (RFC 9449), else `Bearer`. */
  readonly tokenType: 'Bearer' | 'DPoP';
}

/** `token.refreshed`: a refresh token was rotated (RFC 9700 §4.14.2); `token.issued` fires for it too. */
export interface TokenRefreshedEvent {
  readonly clientId: string;
  readonly subject: string;
  readonly familyId: string;
  readonly scopes: readonly string[];
  /** The new access token's id (see {@link TokenIssuedEvent.accessTokenId}). */
  readonly accessTokenId: string;
}

/** `token.revoked`: a token, or a refresh token's whole family, was revoked. */
export interface TokenRevokedEvent {
  readonly clientId: string;
  /** What was presented: an access token (revoked alone) or a refresh token (its family revoked). */
  readonly tokenType: 'access_token' | 'refresh_token';
  /** The family revoked with a refresh token. */
  readonly familyId?: string;
  /** The revoked access token's id (see {@link TokenIssuedEvent.accessTokenId}). */
  readonly tokenId?: string;
  /**
   * Why: `revocation_request` (the client called the revocation endpoint, RFC 7009), or
   * `user_unknown` (a refresh for a user the user store no longer knows).
   */
  readonly reason: 'revocation_request' | 'user_unknown';
}

/**
 * `refresh_token.reuse_detected` / `authorization_code.reuse_detected`: a refresh token already
 * rotated, or a code already redeemed, was presented again; the whole family was revoked
 * (RFC 9700 §4.14.2, RFC 6749 §4.1.2). A likely theft: worth an alert.
 */
export interface ReuseDetectedEvent {
  readonly clientId: string;
  readonly subject: string;
  /** The revoked family. */
  readonly familyId: string;
}

/** Why a client failed to authenticate. */
export type ClientAuthenticationFailure =
  'no_credentials' | 'unknown_client' | 'invalid_credentials' | 'method_not_registered' | 'public_client_sent_secret';

/** `client.authentication_failed`: the token, revocation or introspection endpoint refused a client (`invalid_client`). */
export interface ClientAuthenticationFailedEvent {
  /** The endpoint: `token`, `revocation`, `introspection`. */
  readonly endpoint: string;
  /** The client id the request named (unverified input), absent when it named none. */
  readonly clientId?: string;
  /** The method it used: `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none`... */
  readonly method?: string;
  readonly reason: ClientAuthenticationFailure;
}

/** `password.failed`: the password grant was given a wrong username or password. */
export interface PasswordFailedEvent {
  readonly clientId: string;
  /** The username tried (unverified input). */
  readonly username: string;
}

/** `limit.reached`: a request was refused with 429 by a brute-force limit. */
export interface LimitReachedEvent {
  /** The endpoint: `token`, `revocation`, `introspection`. */
  readonly endpoint: string;
  /** Which limit: `address`, `clientId` or `username` (per identifier and address); `request` when not known. */
  readonly limit: string;
  /** Seconds until the caller may try again. */
  readonly retryAfter?: number;
}

/** `client.registered`, `client.updated`, `client.deleted`: dynamic client registration (RFC 7591, RFC 7592). */
export interface ClientRegistrationEvent {
  readonly clientId: string;
  /** The grant types the client has (absent for a deleted client). */
  readonly grantTypes?: readonly string[];
  /** Whether it is a confidential client (has a secret or keys). */
  readonly confidential?: boolean;
}

/** `store.unavailable`: a store (tokens, clients, limits, replay) could not be reached; the request was answered 503. */
export interface StoreUnavailableEvent {
  /** The endpoint or guard that hit it. */
  readonly endpoint: string;
  /** The error's description, as answered. */
  readonly description: string;
  /** The cause's code (`ECONNREFUSED`, a SQLSTATE...), when it has one. */
  readonly causeCode?: string;
}

/** Every event a server emits, by name, with its payload. */
export interface TokengateEvents {
  'token.issued': TokenIssuedEvent;
  'token.refreshed': TokenRefreshedEvent;
  'token.revoked': TokenRevokedEvent;
  'refresh_token.reuse_detected': ReuseDetectedEvent;
  'authorization_code.reuse_detected': ReuseDetectedEvent;
  'client.authentication_failed': ClientAuthenticationFailedEvent;
  'password.failed': PasswordFailedEvent;
  'limit.reached': LimitReachedEvent;
  'client.registered': ClientRegistrationEvent;
  'client.updated': ClientRegistrationEvent;
  'client.deleted': ClientRegistrationEvent;
  'store.unavailable': StoreUnavailableEvent;
}

/** The name of an event. */
export type TokengateEventName = keyof TokengateEvents;

/** A listener for event `K`. It may be async; what it throws or rejects with is logged, never answered. */
export type TokengateListener<K extends TokengateEventName> = (event: TokengateEvents[K]) => void | Promise<void>;

/**
 * Subscribe to a server's events (`oauth.events`). Listeners run synchronously as the moment
 * happens, in the order they were added; an error in one is logged and the request goes on.
 *
 * @example
 * ```ts
 * oauth.events.on('refresh_token.reuse_detected', ({ clientId, subject, familyId }) =>
 *   alerts.send(`refresh token replayed for ${subject} (client ${clientId}); family ${familyId} revoked`));
 * ```
 */
export interface TokengateEventEmitter {
  /** Call `listener` each time event `name` happens. */
  on<K extends TokengateEventName>(name: K, listener: TokengateListener<K>): this;
  /** Call `listener` the next time event `name` happens, then forget it. */
  once<K extends TokengateEventName>(name: K, listener: TokengateListener<K>): this;
  /** Stop calling `listener` (added with `on` or `once`) for event `name`. */
  off<K extends TokengateEventName>(name: K, listener: TokengateListener<K>): this;
  /** How many listeners event `name` has. */
  listenerCount(name: TokengateEventName): number;
}

/** The level each event is also logged at; those without one are not logged (too frequent, or logged already). */
const LOGGED: Partial<Record<TokengateEventName, { level: LogLevel; message: string }>> = {
  'token.issued': { level: 'debug', message: 'token issued' },
  'token.revoked': { level: 'info', message: 'token revoked' },
  'refresh_token.reuse_detected': {
    level: 'warn',
    message: 'a rotated refresh token was presented again; its family is revoked (RFC 9700 §4.14.2)',
  },
  'authorization_code.reuse_detected': {
    level: 'warn',
    message: 'an authorization code was presented again; its tokens are revoked (RFC 6749 §4.1.2)',
  },
  'client.authentication_failed': { level: 'info', message: 'client authentication failed' },
  'password.failed': { level: 'info', message: 'password grant: wrong username or password' },
  'limit.reached': { level: 'warn', message: 'brute-force limit reached; answered 429' },
  'client.registered': { level: 'info', message: 'client registered' },
  'client.updated': { level: 'info', message: 'client updated' },
  'client.deleted': { level: 'info', message: 'client deleted' },
};

type AnyListener = (event: never) => void | Promise<void>;
const ONCE = Symbol('once');

/** The emitter behind `oauth.events`; one per server. */
export class EventHub implements TokengateEventEmitter {
  private readonly listeners = new Map<TokengateEventName, AnyListener[]>();

  /** @param log - where a throwing listener is reported, and where logged events go */
  constructor(private readonly log: Log) {}

  on<K extends TokengateEventName>(name: K, listener: TokengateListener<K>): this {
    if (typeof listener !== 'function')
      throw new TypeError(`events.on("${String(name)}"): the listener must be a function.`);
    // A copy on every change: emit iterates the array it read, whatever listeners do meanwhile.
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener as AnyListener]);
    return this;
  }

  once<K extends TokengateEventName>(name: K, listener: TokengateListener<K>): this {
    const wrapper = Object.assign(
      (event: TokengateEvents[K]) => {
        this.off(name, wrapper);
        return listener(event);
      },
      { [ONCE]: listener },
    );
    return this.on(name, wrapper);
  }

  off<K extends TokengateEventName>(name: K, listener: TokengateListener<K>): this {
    const list = this.listeners.get(name);
    if (!list) return this;
    const i = list.findIndex((l) => l === listener || (l as { [ONCE]?: unknown })[ONCE] === listener);
    if (i === -1) return this;
    const rest = [...list.slice(0, i), ...list.slice(i + 1)];
    if (rest.length === 0) this.listeners.delete(name);
    else this.listeners.set(name, rest);
    return this;
  }

  listenerCount(name: TokengateEventName): number {
    return this.listeners.get(name)?.length ?? 0;
  }

  /** Whether event `name` goes anywhere (a listener, or the log at its level): emit sites build the payload only then. */
  listening(name: TokengateEventName): boolean {
    if (this.listeners.has(name)) return true;
    const logged = LOGGED[name];
    return logged !== undefined && this.log.enabled(logged.level);
  }

  /** Tell the listeners, and the log. Nothing a listener does reaches the caller. */
  emit<K extends TokengateEventName>(name: K, payload: TokengateEvents[K]): void {
    const event = Object.freeze(payload) as TokengateEvents[K];
    const logged = LOGGED[name];
    if (logged !== undefined && this.log.enabled(logged.level))
      this.log[logged.level](logged.message, undefined, { event: name, ...(event as unknown as LogFields) });
    const list = this.listeners.get(name);
    if (!list) return;
    for (const listener of list) {
      try {
        const result = (listener as TokengateListener<K>)(event);
        if (result !== undefined && typeof (result as Promise<void>).then === 'function')
          (result as Promise<void>).then(undefined, (err: unknown) => this.failed(name, err));
      } catch (err) {
        this.failed(name, err);
      }
    }
  }

  private failed(name: TokengateEventName, err: unknown): void {
    this.log.error(`a listener of the "${name}" event threw; the request went on`, err, { event: name });
  }
}

/**
 * What {@link EventHub.emit} needs of an issuance that only the issuer knows (subject, token
 * ids), carried on the token response under a symbol: JSON leaves it out, and a grant that
 * spreads the response into its own keeps it.
 */
export const ISSUED = Symbol('tokengate.issued');

/** The facts of one issuance, on a token response under {@link ISSUED}: the event less what the endpoint knows. */
export type IssuedFacts = Omit<TokenIssuedEvent, 'grantType' | 'clientId'>;
