/**
 * Issuing tokens: a JWT or opaque access token and, when the grant allows it, a rotating
 * refresh token, both tied to one family so the grant can be revoked as a whole.
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { hashToken, randomToken } from '../core/crypto';
import { ISSUED, type EventHub, type IssuedFacts } from '../observe/events';
import type { ResolvedOptions } from '../options';
import { audienceOf } from '../resources/indicators';
import type { Client, OpenIdGrant, TokenRecord, TokenStore } from '../stores/types';
import { customClaims } from './custom-claims';
import { JwtSigner, type AccessTokenClaims } from './jwt';

/** The successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  /** `DPoP` for a token bound to a DPoP key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  /** Token exchange (RFC 8693 §2.2.1): the type of the issued token. */
  issued_token_type?: string;
  /** OpenID Connect: the ID token (OIDC Core §3.1.3.3), when the grant has the `openid` scope. */
  id_token?: string;
}

/** What to issue. */
export interface IssueRequest {
  client: Client;
  /** The `grant_type` of the token request, as `options.accessTokenClaims` is told. */
  grantType: string;
  /** The token's subject: the user id, or the client id for client_credentials. */
  sub: string;
  /** The user who granted the token, if any. */
  userId?: string;
  scope: string[];
  /** Scope of the refresh token when it differs from the access token's (a narrowed refresh keeps the original, RFC 6749 §6). */
  refreshScope?: string[];
  /** Continue this family (refresh rotation, code exchange); default: a new family. */
  familyId?: string;
  /** Whether to issue a refresh token. */
  refreshToken: boolean;
  /**
   * The refresh token to issue instead of a random one: a rotation's derived successor
   * (`successorToken`). With `saved`, it is already in the store and not saved again.
   */
  successor?: { token: string; saved: boolean };
  /** The access token's `aud` instead of `options.audience` (token exchange, RFC 8693 §2.1). */
  audience?: string | string[];
  /** OpenID Connect facts of the grant, kept on its refresh tokens (without the nonce, which belongs to the code). */
  openid?: OpenIdGrant;
  /**
   * Private claims added to a JWT access token (e.g. `act`, RFC 8693 §4.1; never overriding the
   * RFC 9068 ones), and fields of an opaque token's record.
   */
  extraClaims?: Record<string, unknown>;
  /** The resources (RFC 8707) the access token is for: its `aud`. Default: the server's audience. */
  resources?: string[];
  /** Resources of the refresh token when they differ from the access token's (a narrowed token keeps the grant's, RFC 8707 §2.2). */
  refreshResources?: string[];
  /** Bind the access token to this DPoP key thumbprint (RFC 9449 §6: `cnf.jkt`, or the opaque record's `jkt`). */
  jkt?: string;
  /** Bind the refresh token to {@link IssueRequest.jkt} as well (public clients, RFC 9449 §5). */
  bindRefresh?: boolean;
}

// The nonce binds the code's ID token to one authorization request; refreshed ID tokens must not repeat it (OIDC Core §12.2).
function withoutNonce(grant: OpenIdGrant): OpenIdGrant {
  const { nonce: _nonce, ...rest } = grant;
  return rest;
}

/** Issues access and refresh tokens and revokes families; one per server. */
export class TokenIssuer {
  private readonly signer: JwtSigner | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly tokens: TokenStore,
    /** Told of each issuance when someone listens (`token.issued`, `token.refreshed`). */
    private readonly events?: EventHub,
  ) {
    this.signer = options.accessTokenFormat === 'jwt' ? new JwtSigner(options.signingKey) : undefined;
  }

  /** Access token lifetime for this client, in seconds. */
  accessLifetime(client: Client): number {
    return client.accessTokenLifetime ?? this.options.accessTokenLifetime;
  }

  /** Issue the tokens of one successful grant. */
  async issue(request: IssueRequest): Promise<TokenResponse> {
    const { client, sub, scope } = request;
    const now = nowSeconds();
    const expiresIn = this.accessLifetime(client);
    const familyId = request.familyId ?? randomToken(16);
    const scopeString = scope.join(' ');
    const audience = request.audience ?? audienceOf(request.resources, this.options.audience);
    // The app's own claims (options.accessTokenClaims): asked again for every access token.
    const hook = this.options.accessTokenClaims;
    const own =
      hook &&
      (await customClaims(hook, {
        client,
        subject: sub,
        userId: request.userId,
        scopes: scope,
        grantType: request.grantType,
        resources: request.resources ?? [],
        audience,
      }));

    let accessToken: string;
    let accessTokenId: string;
    if (this.signer) {
      // The server's claims last: never overridden (the hook's names are checked besides).
      const claims: AccessTokenClaims = {
        ...own,
        ...request.extraClaims,
        iss: this.options.issuer,
        sub,
        aud: audience,
        client_id: client.id,
        scope: scopeString,
        jti: (accessTokenId = randomToken(16)),
        iat: now,
        exp: now + expiresIn,
      };
      // Only tokens of a revocable grant need the family id; client_credentials stay lean.
      if (request.refreshToken || request.familyId !== undefined) claims.fid = familyId;
      if (request.jkt !== undefined) claims.cnf = { jkt: request.jkt };
      accessToken = this.signer.sign(claims);
    } else {
      accessToken = randomToken();
      accessTokenId = hashToken(accessToken);
    }

    let refreshToken: string | undefined;
    const saves: Promise<void>[] = [];
    const base: Omit<TokenRecord, 'kind' | 'id' | 'expiresAt'> = {
      familyId,
      clientId: client.id,
      sub,
      userId: request.userId,
      scope,
      issuedAt: now,
    };
    if (request.openid) base.openid = withoutNonce(request.openid);
    const resources = request.resources !== undefined && request.resources.length > 0 ? request.resources : undefined;
    if (!this.signer) {
      const act = request.extraClaims?.act;
      // An opaque token's record keeps its `act` (token exchange), for the lookups that read it.
      const access: TokenRecord = {
        ...(act === undefined ? {} : { act }),
        ...base,
        kind: 'access_token',
        id: accessTokenId,
        expiresAt: now + expiresIn,
      };
      // The record's `resources` is an opaque token's aud: the exchange's audience when given.
      const audience = request.audience === undefined ? resources : [request.audience].flat();
      if (audience) access.resources = audience;
      if (request.jkt !== undefined) access.jkt = request.jkt;
      if (own) access.claims = own;
      saves.push(this.tokens.save(access));
    }
    if (request.refreshToken) {
      refreshToken = request.successor?.token ?? randomToken();
      if (request.successor?.saved !== true) {
        const lifetime = client.refreshTokenLifetime ?? this.options.refreshTokenLifetime;
        const refreshScope = request.refreshScope ?? scope;
        const refresh: TokenRecord = {
          ...base,
          scope: refreshScope,
          kind: 'refresh_token',
          id: hashToken(refreshToken),
          expiresAt: now + lifetime,
          successorSalt: randomToken(16),
        };
        const refreshResources = request.refreshResources ?? resources;
        if (refreshResources && refreshResources.length > 0) refresh.resources = refreshResources;
        if (request.bindRefresh === true && request.jkt !== undefined) refresh.jkt = request.jkt;
        saves.push(request.successor ? this.saveSuccessor(refresh) : this.tokens.save(refresh));
      }
    }
    await Promise.all(saves);

    const response: TokenResponse = {
      access_token: accessToken,
      token_type: request.jkt === undefined ? 'Bearer' : 'DPoP',
      expires_in: expiresIn,
      scope: scopeString,
    };
    if (refreshToken !== undefined) response.refresh_token = refreshToken;
    // What the token endpoint's `token.issued` event says beyond the response: ids, never tokens.
    if (this.events && (this.events.listening('token.issued') || this.events.listening('token.refreshed'))) {
      const facts: IssuedFacts = {
        subject: sub,
        scopes: scope,
        accessTokenId,
        ...((request.refreshToken || request.familyId !== undefined) && { familyId }),
        refreshTokenIssued: refreshToken !== undefined,
        tokenType: response.token_type,
      };
      (response as TokenResponse & { [ISSUED]?: IssuedFacts })[ISSUED] = facts;
    }
    return response;
  }

  /**
   * Save a derived successor that a concurrent redemption of the same token may be saving
   * too: if the save fails but the record is there, the other one saved it (same token, same
   * family), which is what this call wanted. Any other failure is the store's, and is thrown.
   */
  private async saveSuccessor(record: TokenRecord): Promise<void> {
    try {
      await this.tokens.save(record);
    } catch (err) {
      const there = await this.tokens.find('refresh_token', record.id).catch(() => undefined);
      if (there?.familyId !== record.familyId) throw err;
    }
  }

  /**
   * Revoke one token. Its id stays denied until it would have expired anyway, counting the
   * clock tolerance verifiers allow past `exp`.
   */
  async revokeToken(id: string, expiresAt: number): Promise<void> {
    await this.tokens.revoke({ id, until: expiresAt + this.options.clockTolerance });
  }

  /**
   * Revoke a whole family: its refresh tokens and codes, and every access token issued from
   * it, which stay denied until the latest of them would have expired anyway (with the clock
   * tolerance verifiers allow past `exp`).
   */
  async revokeFamily(familyId: string, client: Client | undefined): Promise<void> {
    const lifetime = Math.max(client ? this.accessLifetime(client) : 0, this.options.accessTokenLifetime);
    await this.tokens.revoke({ familyId, until: nowSeconds() + lifetime + this.options.clockTolerance });
  }
}

/**
 * Adds members to the token response of a grant that redeems a code or a refresh token (for
 * example OpenID Connect's `id_token`), after the tokens are issued and before the code or
 * refresh token is consumed, so a failure here leaves it usable for a retry.
 */
export type TokenResponseExtension = (redeemed: {
  client: Client;
  record: TokenRecord;
  request: IssueRequest;
  response: TokenResponse;
}) => Promise<void>;
