/**
 * The OpenID Connect side of one server: what the authorize endpoint, the token endpoint and
 * UserInfo ask of it. Built once by `oauthServer` when `options.openid` is given.
 * @packageDocumentation
 */
import { nowSeconds } from '../core/clock';
import { AccessDenied, UnauthorizedClient } from '../core/errors';
import type { Client, ClientStore, OpenIdGrant, User, UserStore } from '../stores/types';
import type { TokenResponseExtension } from '../tokens/issue';
import type { ResolvedKey } from '../tokens/keys';
import type { OidcAuthorizeRequest } from './authorize-request';
import { pickClaims, scopeClaimNames } from './claims';
import { LoginRequired } from './errors';
import { accessTokenHash, IdTokenSigner, verifyIdTokenHint, type IdTokenClaims } from './id-token';
import type { ResolvedOpenId } from './options';
import { pairwiseProblem, subjectFor } from './subject';

/** How the user signed in, as the authenticate hook reported it. */
export interface SignInFacts {
  authTime?: number;
  acr?: string;
  amr?: string[];
}

/** OpenID Connect for one server. */
export class OpenIdProvider {
  readonly signer: IdTokenSigner;

  constructor(
    readonly options: ResolvedOpenId,
    private readonly issuer: string,
    private readonly keys: readonly ResolvedKey[],
    readonly clients: ClientStore,
    private readonly users: UserStore | undefined,
  ) {
    this.signer = new IdTokenSigner(options.signingKeys);
  }

  /** Refuse a client whose OpenID Connect registration this server cannot serve. */
  checkClient(client: Client): void {
    const alg = client.idTokenSignedResponseAlg ?? 'RS256';
    if (!this.signer.supports(alg))
      throw new UnauthorizedClient(
        `The client's id_token_signed_response_alg ${String(alg)} has no signing key on this server.`,
      );
    const problem = pairwiseProblem(client, this.options.pairwiseSalt);
    if (problem) throw new UnauthorizedClient(problem);
  }

  /** The `sub` this client sees for a local user id (public or pairwise, OIDC Core §8). */
  subject(client: Client, localSub: string): string {
    return subjectFor(client, localSub, this.options.pairwiseSalt);
  }

  /**
   * §3.1.2.2: a request for an ID token with a specific `sub` gets a positive answer only for
   * that user; anyone else signed in is `login_required`, never their tokens.
   */
  async checkRequestedSubject(
    client: Client,
    request: OidcAuthorizeRequest,
    userId: string,
    facts: SignInFacts,
  ): Promise<void> {
    // §5.5.1.1: an essential acr with values must be met, or the authentication has failed.
    const acr = request.claims?.essentialAcr;
    if (acr !== undefined && (facts.acr === undefined || !acr.includes(facts.acr))) {
      throw new AccessDenied('The sign-in did not meet the authentication context class (acr) the request requires.');
    }
    if (request.claims?.subject !== undefined && request.claims.subject !== this.subject(client, userId)) {
      throw new LoginRequired('The signed-in user is not the subject the request asked for.');
    }
    // §3.1.2.2: with an id_token_hint, a positive answer only for the user it names. Its sub is
    // the one its own audience sees (pairwise subjects differ per sector).
    const hint = request.idTokenHint;
    if (hint !== undefined) {
      const audience = hint.aud === client.id ? client : await this.clients.findClient(hint.aud as string);
      if (!audience || hint.sub !== this.subject(audience, userId))
        throw new LoginRequired('The signed-in user is not the one the id_token_hint names.');
    }
  }

  /** What the authorization code keeps for the ID token and UserInfo. */
  grantFor(client: Client, request: OidcAuthorizeRequest, facts: SignInFacts): OpenIdGrant {
    const grant: OpenIdGrant = {};
    if (request.nonce !== undefined) grant.nonce = request.nonce;
    if (facts.authTime !== undefined) grant.authTime = facts.authTime;
    if (facts.acr !== undefined) grant.acr = facts.acr;
    if (facts.amr !== undefined) grant.amr = [...facts.amr];
    if (request.claims?.idToken.length) grant.idTokenClaims = request.claims.idToken;
    if (request.claims?.userinfo.length) grant.userinfoClaims = request.claims.userinfo;
    if (
      request.maxAge !== undefined ||
      client.requireAuthTime === true ||
      request.claims?.essential.includes('auth_time')
    )
      grant.authTimeRequired = true;
    return grant;
  }

  /**
   * The user's claims for this client: those of the scopes (UserInfo only; with the code
   * flow the ID token carries scope claims only when asked for one by one, §5.4) and the
   * individually requested ones, from the claims hook or the user store. `undefined` when the
   * user store no longer knows the user.
   */
  async userClaims(
    client: Client,
    userId: string,
    scopes: readonly string[],
    requested: readonly string[],
    target: 'userinfo' | 'id_token',
  ): Promise<Record<string, unknown> | undefined> {
    const allowed = target === 'userinfo' ? scopeClaimNames(scopes) : new Set<string>();
    for (const name of requested) allowed.add(name);
    let user: User | undefined = { id: userId };
    if (this.users?.findUser) user = await this.users.findUser(userId);
    if (!user) return undefined;
    if (allowed.size === 0) return {};
    const all = this.options.claims
      ? await this.options.claims(user, { scopes, claims: requested, client, target })
      : user;
    if (!all || typeof all !== 'object') throw new Error('openid.claims must return an object of claims.');
    return pickClaims(all, allowed);
  }

  /**
   * The token response extension: an ID token next to the access token of a grant that has
   * `openid`, on the code exchange (§3.1.3.3) and on refresh (§12.2: same `sub`, original
   * `auth_time`, no `nonce`).
   */
  readonly extendTokenResponse: TokenResponseExtension = async ({ client, record, request, response }) => {
    const grant = request.openid;
    if (grant === undefined || !request.scope.includes('openid') || request.userId === undefined) return;
    const alg = client.idTokenSignedResponseAlg ?? 'RS256';
    const now = nowSeconds();
    const requested = grant.idTokenClaims ?? [];
    const userClaims =
      requested.length > 0 ? await this.userClaims(client, request.userId, request.scope, requested, 'id_token') : {};
    const claims: IdTokenClaims = {
      ...userClaims,
      iss: this.issuer,
      sub: this.subject(client, request.sub),
      // One audience, the client, so azp is never needed (§2).
      aud: client.id,
      exp: now + this.options.idTokenLifetime,
      iat: now,
    };
    if (grant.authTime !== undefined) claims.auth_time = grant.authTime;
    if (record.kind === 'authorization_code' && grant.nonce !== undefined) claims.nonce = grant.nonce;
    if (grant.acr !== undefined) claims.acr = grant.acr;
    if (grant.amr !== undefined) claims.amr = grant.amr;
    claims.at_hash = accessTokenHash(response.access_token, alg);
    response.id_token = this.signer.sign(claims, alg);
  };

  /** The verified claims of an `id_token_hint` this server issued, or `undefined`. */
  verifyHint(token: string): Record<string, unknown> | undefined {
    return verifyIdTokenHint(token, this.keys, this.issuer);
  }
}
