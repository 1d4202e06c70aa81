/**
 * What every endpoint and grant of one server shares, built once by `oauthServer`.
 * @packageDocumentation
 */
import type { AssertionSettings } from '../clients/assertion';
import type { ClientAuthMethod } from '../clients/methods';
import type { ResolvedDpop } from '../dpop/options';
import type { DpopSettings } from '../dpop/proof';
import type { ErrorOut } from '../http/respond';
import type { Observer } from '../observe/observer';
import type { OpenIdProvider } from '../oidc/provider';
import type { ResolvedOptions } from '../options';
import type { ClientStore, ReplayStore, TokenStore, UserStore } from '../stores/types';
import type { TokenIssuer, TokenResponseExtension } from '../tokens/issue';
import type { JwtVerifier } from '../tokens/jwt';
import type { RevokedIds } from '../tokens/revoked-ids';

/** The resolved options, stores and token machinery of one server. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly clients: ClientStore;
  readonly users: UserStore | undefined;
  readonly tokens: TokenStore;
  readonly issuer: TokenIssuer;
  readonly verifier: JwtVerifier;
  /** `WWW-Authenticate` value for a failed HTTP Basic client authentication. */
  readonly basicChallenge: string;
  /** The revocations this instance heard, checked besides the store (see {@link RevokedIds}). */
  readonly heardRevocations: RevokedIds;
  /** OpenID Connect, when `options.openid` turned it on. */
  readonly openid?: OpenIdProvider;
  /** What adds members to code and refresh token responses (e.g. the ID token). */
  readonly tokenResponseExtensions?: readonly TokenResponseExtension[];
  /** Single-use ids (DPoP proof and client assertion `jti`s). */
  readonly replay: ReplayStore;
  /** How DPoP proofs are checked (RFC 9449). */
  readonly dpop: DpopSettings & ResolvedDpop;
  /** How client assertions are checked (private_key_jwt, client_secret_jwt). */
  readonly assertions: AssertionSettings;
  /** The client authentication methods, in the order the pipeline tries them. */
  readonly methods: readonly ClientAuthMethod[];
  /** Where endpoints and grants report what happened: `oauth.events` and OpenTelemetry. */
  readonly observer: Observer;
  /** Answers a request's error as `options.errors` says: written, or handed to `next(err)`. */
  readonly fail: ErrorOut;
}
