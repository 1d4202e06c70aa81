/**
 * The three store interfaces an app implements for its own database. The library only ever
 * hands a store hashes of secrets and tokens, never the raw values, so a leaked table holds
 * nothing a caller can present.
 * @packageDocumentation
 */
import type { DeviceStore } from '../device/types';

/** The grant types a client may be allowed to use. */
export type GrantType =
  | 'client_credentials'
  | 'password'
  | 'refresh_token'
  | 'authorization_code'
  /** Token exchange (RFC 8693), when `options.tokenExchange` is set. */
  | 'urn:ietf:params:oauth:grant-type:token-exchange'
  /** The device authorization grant (RFC 8628), when `options.deviceAuthorization` is set. */
  | 'urn:ietf:params:oauth:grant-type:device_code'
  /** An extension grant of `options.grants` (RFC 6749 §4.5). */
  | ExtensionGrantType;

/** A grant type that extends the built-in ones (`options.grants`): an absolute URI such as `urn:example:grant-type:saml2-bearer`. */
export type ExtensionGrantType = `${string}:${string}`;

/** The token endpoint authentication methods a registered client may use. */
export type RegisteredAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** Client metadata as registered (RFC 7591 §2), snake_case as on the wire: what is stored, echoed and shown to the consent hook. */
export interface ClientMetadata {
  redirect_uris: string[];
  token_endpoint_auth_method: RegisteredAuthMethod;
  grant_types: string[];
  response_types: string[];
  scope: string;
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
}

/** What the registration endpoint keeps about a client it registered (RFC 7591, RFC 7592). */
export interface ClientRegistration {
  /** The metadata as registered, echoed on read (RFC 7592 §2.1) and shown to the consent hook. */
  metadata: ClientMetadata;
  /**
   * SHA-256 of the registration access token ({@link hashToken}); the token itself is never
   * stored. Absent for a client described by a client ID metadata document (nothing to manage).
   */
  accessTokenHash?: string;
  /** `client_id_issued_at`, seconds since the epoch. */
  issuedAt: number;
}

/**
 * A registered client as the {@link ClientStore} returns it.
 *
 * @example
 * ```ts
 * const client: Client = {
 *   id: 'web-app',
 *   secretHash: hashClientSecret('web-secret'),
 *   grants: ['client_credentials', 'refresh_token'],
 *   scopes: ['read', 'write'],
 * };
 * ```
 */
export interface Client {
  /** The `client_id`. */
  id: string;
  /**
   * The secret as {@link hashClientSecret} returned it. Absent for a public client, which
   * authenticates with `client_id` alone (`token_endpoint_auth_method: none`).
   */
  secretHash?: string;
  /** The grants this client may use; any other is `unauthorized_client`. */
  grants: readonly GrantType[];
  /** Every scope this client may ask for; any other is `invalid_scope`. */
  scopes: readonly string[];
  /** Scopes granted when the request names none. Default: all of {@link Client.scopes}. */
  defaultScopes?: readonly string[];
  /** Registered redirect URIs, compared as exact strings (authorization code flow). */
  redirectUris?: readonly string[];
  /** Access token lifetime in seconds for this client; overrides the server option. */
  accessTokenLifetime?: number;
  /** Refresh token lifetime in seconds for this client; overrides the server option. */
  refreshTokenLifetime?: number;
  /**
   * This client is a resource server (an API that checks tokens through the introspection
   * endpoint, RFC 7662 §2.1): it may introspect every access token, not only its own.
   * Refresh tokens stay private to the client they were issued to. Default false.
   */
  resourceServer?: boolean;

  // OpenID Connect (docs/openid-connect.md); names as in OpenID Connect Dynamic Client Registration §2.
  /** Algorithm of this client's ID tokens (`id_token_signed_response_alg`): RS256 (default), PS256, ES256 or ES384, with a signing key of that algorithm in `options.keys`. */
  idTokenSignedResponseAlg?: 'RS256' | 'PS256' | 'ES256' | 'ES384';
  /** `public` (default: `sub` is the user id) or `pairwise` (a different `sub` per sector, OIDC Core §8.1; needs `options.openid.pairwiseSalt`). */
  subjectType?: 'public' | 'pairwise';
  /**
   * For pairwise subjects: a URI whose host is the client's sector (OIDC Core §8.1), needed
   * when its redirect URIs have more than one host. Registered by the app, which is trusted to
   * have checked it; tokengate does not fetch it.
   */
  sectorIdentifierUri?: string;
  /** Where the end-session endpoint may send the user after logout, compared as exact strings (RP-Initiated Logout §3). */
  postLogoutRedirectUris?: readonly string[];
  /** Always put `auth_time` in this client's ID tokens (`require_auth_time`). */
  requireAuthTime?: boolean;
  /** `max_age` applied when the client's request has none (`default_max_age`), in seconds. */
  defaultMaxAge?: number;
  /**
   * The resources (RFC 8707) this client may ask tokens for, among the server's
   * `options.resources`. Default: any of them.
   */
  resources?: readonly string[];
  /** Set for a client that registered itself (RFC 7591): its metadata and management credential. */
  registration?: ClientRegistration;
  /**
   * Every token request of this client must carry a DPoP proof (RFC 9449 §5), so all its access
   * tokens are DPoP-bound; one without gets `invalid_dpop_proof`. Default false (DPoP optional).
   */
  dpopBound?: boolean;
  /**
   * How this client authenticates (RFC 7591 §2 `token_endpoint_auth_method`). When set, only
   * this method is accepted. Default: whatever the client's credentials allow (a secret: basic or
   * post; none: a public client).
   */
  tokenEndpointAuthMethod?:
    'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';
  /**
   * The one JWS `alg` this client signs its client assertions with (RFC 7591 §2
   * `token_endpoint_auth_signing_alg`), e.g. `ES256` for private_key_jwt or `HS256` for
   * client_secret_jwt. Default: the `alg` of the matching JWK, else any accepted alg that fits
   * the key (never `none`, never HMAC with a public key).
   */
  tokenEndpointAuthSigningAlg?: string;
  /** private_key_jwt: the client's public keys, inline (RFC 7591 §2 `jwks`). */
  jwks?: { keys: readonly Readonly<Record<string, unknown>>[] };
  /** private_key_jwt: where the client publishes its public keys (RFC 7591 §2 `jwks_uri`), fetched SSRF-safe and cached. */
  jwksUri?: string;
  /**
   * client_secret_jwt only: the client secret in recoverable form, because an HMAC (RFC 7523
   * §2.2, HS256) can only be checked with the secret itself, not with its hash. Keep it
   * encrypted at rest in your database; prefer private_key_jwt, which stores no secret at all.
   */
  jwtSecret?: string;
}

/**
 * Where clients live. Read-only from the library's point of view; the app registers clients
 * itself, storing each secret as {@link hashClientSecret} returns it, never in plain text.
 * `describeClientStore` from `tokengate/testing` checks every rule below.
 */
export interface ClientStore {
  /**
   * The client with this `client_id`, or `undefined` when there is none.
   *
   * - Ids match as exact strings: no case folding, no trimming (check your column's collation).
   * - Must not throw for an unknown or odd id (empty, 4 KiB long, containing NUL or quotes):
   *   the id comes straight from the request. A database that rejects such a string must be
   *   answered `undefined` here. Throw only when the database itself fails (the request then
   *   gets a generic `server_error` and the cause goes to the logger).
   * - Fields the client does not have are `undefined`, never `null`; a public client has no
   *   `secretHash` at all.
   * - May be eventually consistent: a client registered a moment ago may not be found yet.
   */
  findClient(clientId: string): Promise<Client | undefined>;
  /**
   * Optional, for dynamic client registration (RFC 7591): store a new client, as a copy.
   * Rejects when the id exists. The client arrives with `secretHash` and
   * `registration.accessTokenHash` already hashed; store them as they are. Without this
   * method (and the two below) the registration endpoint stays off.
   */
  registerClient?(client: Client): Promise<void>;
  /** Optional (RFC 7592 §2.2): replace an existing client, as a copy; rejects when there is none. */
  updateClient?(client: Client): Promise<void>;
  /** Optional (RFC 7592 §2.3): remove a client; `true` if it existed. `findClient` no longer finds it once this resolves. */
  deleteClient?(clientId: string): Promise<boolean>;
}

/** A user as the {@link UserStore} returns it: an `id` (the token's `sub`) and anything else the app keeps. */
export interface User {
  /** Stable, unique user id; becomes the `sub` claim. Never the username or e-mail if those can change. */
  id: string;
  [key: string]: unknown;
}

/**
 * Where users live; needed only for the password grant.
 */
export interface UserStore {
  /**
   * The user whose username and password match, or `undefined`.
   *
   * - Passwords are stored only as slow, salted hashes ({@link tokengate!hashPassword} and
   *   {@link tokengate!verifyPassword}, bcrypt or argon2), never in plain text or as a fast hash.
   * - Must take about as long for an unknown username as for a wrong password (verify against
   *   a dummy hash), so that timing does not tell which usernames exist.
   * - Must not block the event loop: async `scrypt`, `bcrypt` or `argon2`, not the `Sync` ones.
   * - Must not throw for an unknown or odd username (empty, huge, NUL, quotes): `undefined`.
   */
  authenticate(username: string, password: string): Promise<User | undefined>;
  /**
   * The user with this id, or `undefined` once the user is gone (or for an odd id; never a
   * throw). Optional; when present, a refresh for a user that no longer exists is
   * `invalid_grant` and revokes the family.
   */
  findUser?(userId: string): Promise<User | undefined>;
}

/** The kinds of record the {@link TokenStore} keeps. */
export type TokenKind = 'access_token' | 'refresh_token' | 'authorization_code';

/**
 * One stored token. JWT access tokens are not stored (they carry their own claims); opaque
 * access tokens, refresh tokens and authorization codes are.
 */
export interface TokenRecord {
  /** What kind of token this is. */
  kind: TokenKind;
  /** SHA-256 of the raw token ({@link hashToken}); the raw token is never stored. */
  id: string;
  /**
   * The grant this token descends from. Every refresh token rotated from one grant, every
   * access token issued from them and the authorization code they came from share it, so
   * one call revokes them all (RFC 9700 §4.14).
   */
  familyId: string;
  /** The client the token was issued to. */
  clientId: string;
  /** The subject: the user id, or the client id for `client_credentials`. */
  sub: string;
  /** The user id, when a user granted the token. */
  userId?: string;
  /** The granted scopes. */
  scope: string[];
  /** Issue time, seconds since the epoch. */
  issuedAt: number;
  /** Expiry, seconds since the epoch; the store treats the record as absent from then on. */
  expiresAt: number;
  /** Set by {@link TokenStore.consume}: when the single-use token was redeemed (seconds). */
  consumedAt?: number;
  /** Authorization codes: the `redirect_uri` the code was issued for. */
  redirectUri?: string;
  /** Authorization codes: the PKCE `code_challenge`. */
  codeChallenge?: string;
  /** Authorization codes: the PKCE `code_challenge_method`. */
  codeChallengeMethod?: 'S256' | 'plain';
  /**
   * Refresh tokens: a random value, never sent to a client, from which (with the raw token) the
   * token's one successor is derived (`successorToken`, refresh rotation). A retry of a refresh within
   * the reuse window gets that same successor back instead of a second live token. Stored as
   * given; a store that drops it only loses the retry allowance (rotation is then strict).
   */
  successorSalt?: string;
  /**
   * The resources (RFC 8707) granted: for a code and a refresh token, those a later token
   * request may narrow to (never widen, §2.2); for an opaque access token, its audience.
   * Absent: the server's default audience.
   */
  resources?: string[];
  /**
   * DPoP key binding (RFC 9449): the RFC 7638 thumbprint of the key an opaque access token or
   * a public client's refresh token is bound to (§5, §6), or of the `dpop_jkt` an
   * authorization code was requested with (§10). Only a proof signed by that key may use it.
   */
  jkt?: string;
  /**
   * OpenID Connect: how the user signed in and what the client asked for, kept on the code
   * and carried to the refresh tokens of its family (without the nonce) so that a refresh
   * can issue an ID token with the original `auth_time`. Stores keep it as they keep every
   * other field (a nested object).
   */
  openid?: OpenIdGrant;
  /**
   * Opaque access tokens: the app's own claims (`options.accessTokenClaims`, e.g. `tenant`,
   * `roles`), shown by introspection and in `req.auth.claims`. A JSON object; stores keep it
   * as they keep every other field.
   */
  claims?: Record<string, unknown>;
}

/** What a grant keeps for OpenID Connect (see {@link TokenRecord.openid}). */
export interface OpenIdGrant {
  /** The authorization request's `nonce`, echoed in the ID token (codes only). */
  nonce?: string;
  /** When the user signed in (seconds since the epoch), as the authenticate hook reported. */
  authTime?: number;
  /** The authentication context class the hook reported. */
  acr?: string;
  /** The authentication methods the hook reported. */
  amr?: string[];
  /** Individual claims asked for with the `claims` parameter for the ID token. */
  idTokenClaims?: string[];
  /** Individual claims asked for with the `claims` parameter for UserInfo. */
  userinfoClaims?: string[];
  /** The request had `max_age` (or the client a default one): `auth_time` is required. */
  authTimeRequired?: boolean;
}

/** What {@link TokenStore.consume} returns for a record that exists. */
export interface ConsumeResult {
  /**
   * The record with `consumedAt` set: to now for the winning call, to the first consumption's
   * time for a reused one. Everything else as saved.
   */
  record: TokenRecord;
  /**
   * `false` for exactly one caller: the first to consume. `true` for every later call, which
   * is a replay: the caller revokes the whole family.
   */
  reused: boolean;
  /**
   * For a reused record: how many `consume` calls this record has seen after the winning one,
   * this one included (1 for the first replay), counted atomically like the consume itself.
   * Optional: a store that leaves it out gets strict rotation (every replay revokes the
   * family); with it, a retry of a refresh within `refreshTokenReuseInterval` can be answered
   * at most `refreshTokenReuseLimit` times.
   */
  reuses?: number;
}

/** What to revoke: one token, a whole family, or both. */
export interface RevocationTarget {
  /** A token id: a record's {@link TokenRecord.id} or a JWT's `jti`. */
  id?: string;
  /** A family: every record with this {@link TokenRecord.familyId}, and JWTs carrying it. */
  familyId?: string;
  /**
   * Seconds since the epoch until which the id or family must be reported revoked by
   * {@link TokenStore.isRevoked}: the latest expiry of any JWT that may carry it. After that
   * the store may forget it. A revocation with an earlier `until` never shortens one already
   * in place.
   */
  until: number;
}

/**
 * Told to every {@link TokenStore.onRevoke} listener when something is revoked, or, with
 * `reset`, when a shared store's link to other processes changes.
 *
 * @example
 * ```ts
 * const revoked = new Set<string>();
 * tokens.onRevoke((event) => {
 *   if (event.reset) myCache.clear(); // 'lost' or 'restored': revocations may have been missed
 *   for (const id of event.ids) revoked.add(id);
 * });
 * ```
 */
export interface RevocationEvent {
  /** The ids and family ids that were revoked; empty for a `reset`. */
  ids: string[];
  /** As in {@link RevocationTarget.until}; 0 for a `reset`. */
  until: number;
  /**
   * Set only by a shared store (one that tells listeners of other processes' revocations):
   * - `'lost'`: the store can no longer hear other processes' revocations (its connection
   *   dropped, or has not been confirmed yet). A listener that caches validity must drop what
   *   it holds and cache nothing until `'restored'`, or only for a bounded time it documents.
   * - `'restored'`: the store hears revocations again, but some may have been missed while it
   *   could not: drop everything cached before now.
   * Absent on an ordinary revocation; an in-process store never sends it.
   */
  reset?: 'lost' | 'restored';
}

/**
 * Where refresh tokens, authorization codes and opaque access tokens live, and where JWT
 * revocations are remembered.
 *
 * Contract, in short: ids are hashes (the store never sees a raw token); records past
 * `expiresAt` are absent; `consume` is atomic (exactly one caller ever sees `reused: false`);
 * `revoke` is immediate for `find`, `consume` and `isRevoked` on every instance, tells this
 * instance's `onRevoke` listeners before it resolves and other instances' promptly; a revoked
 * family stays closed to records saved later. Nothing here may be eventually consistent
 * except other instances' listeners. "Now" is the app's clock: `Math.floor(Date.now() / 1000)`.
 *
 * `describeTokenStore` from `tokengate/testing` checks every rule below; run it against your
 * adapter (with its `peer` option for a store shared between processes).
 */
export interface TokenStore {
  /**
   * Store a new record, as a copy (later changes to the object must not reach the store).
   *
   * - Durable before it resolves, and visible to `find`/`consume` on every instance: the token
   *   is handed out right after.
   * - Never overwrites: an existing `id` rejects (ids are 256 random bits, hashed, so a
   *   conflict is a bug, and an overwrite could un-consume a token).
   * - A record whose family is revoked is not kept, or kept but never returned, even after
   *   the revocation's `until`: a refresh that raced reuse detection must not leave a live
   *   token behind. Atomic with a concurrent `revoke({ familyId })`: once both resolve, the
   *   record is gone.
   * - A record already past `expiresAt` is accepted (and absent from then on), not an error.
   * - Optional fields left out come back `undefined`, never `null`; times as numbers.
   */
  save(record: TokenRecord): Promise<void>;
  /**
   * The record of this kind and id, including a consumed one (with its `consumedAt`, until it
   * expires, so replays can be detected), or `undefined` when unknown, of another kind,
   * expired (`expiresAt <= now`) or revoked. Must not throw for an unknown or odd id.
   */
  find(kind: TokenKind, id: string): Promise<TokenRecord | undefined>;
  /**
   * Mark a single-use record (refresh token, authorization code) consumed. **Atomic**: of any
   * number of concurrent calls, across processes for a shared store, exactly one gets
   * `reused: false`; the rest get `reused: true` (the caller then revokes the family). A
   * conditional write does it: `UPDATE … SET consumed_at = $now WHERE id = $1 AND consumed_at
   * IS NULL RETURNING …`, a Lua script, a compare-and-set; never read, then write.
   * `undefined` (and no effect) when unknown, of another kind, expired or revoked.
   */
  consume(kind: TokenKind, id: string): Promise<ConsumeResult | undefined>;
  /**
   * Revoke a token and/or a family. When it resolves, on every instance: every matching
   * record is gone for `find` and `consume` (a family's members of every kind, consumed ones
   * too); each id and family id is reported by {@link TokenStore.isRevoked} until at least
   * `target.until`, ids never stored (a JWT's `jti`) included; and this instance's listeners
   * have been told. Other instances' listeners are told promptly (eventually consistent).
   * Revoking something unknown is not an error.
   */
  revoke(target: RevocationTarget): Promise<void>;
  /**
   * Whether any of these ids (a JWT's `jti` and family id, or a record id) was revoked and its
   * `until` has not passed; it may stay `true` after that. `false` for `[]`, never a throw.
   * Consistent with `revoke` on every instance (called on every uncached request).
   */
  isRevoked(ids: readonly string[]): Promise<boolean>;
  /**
   * Register a listener told of every revocation (from this process, and for a shared store
   * from every process), with the revoked ids and family ids and the `until`. Returns a
   * function that removes it. Each `oauthServer` registers one to keep its `requireToken`
   * cache honest.
   *
   * - Revocations made through this instance reach its listeners before `revoke` resolves
   *   (synchronously is simplest), ids never stored included.
   * - A shared store tells its listeners of other instances' revocations promptly, and sends
   *   {@link RevocationEvent.reset} events when it may have missed some: `'lost'` as soon as
   *   a listener registers while it cannot hear other instances yet, and whenever that link
   *   drops; `'restored'` when it is back.
   * - A listener that throws should not stop the others from being told.
   */
  onRevoke(listener: (event: RevocationEvent) => void): () => void;
}

/** The stores handed to `oauthServer`. */
export interface Stores {
  /** Registered clients. */
  clients: ClientStore;
  /** Users, for the password grant. */
  users?: UserStore;
  /** Tokens; defaults to an in-memory store. */
  tokens?: TokenStore;
  /** Pending device authorizations (RFC 8628), for `options.deviceAuthorization`; defaults to an in-memory store. */
  devices?: DeviceStore;
  /** Single-use `jti`s of DPoP proofs and client assertions; defaults to an in-memory store (one instance only). */
  replay?: ReplayStore;
}

/**
 * Where single-use identifiers are remembered until they expire: the `jti` of DPoP proofs
 * (RFC 9449 §11.1) and of client assertions (RFC 7523 §3). Shared between instances (Redis,
 * PostgreSQL), it refuses a proof replayed at another instance.
 *
 * `describeReplayStore` from `tokengate/testing` checks every rule below.
 */
export interface ReplayStore {
  /**
   * Record `id` as used until `expiresAt` (seconds since the epoch). **Atomic**: of any number
   * of concurrent calls with one id, across processes for a shared store, exactly one resolves
   * `true` (first use); every other call until `expiresAt` resolves `false` (a replay). After
   * `expiresAt` the id may be forgotten. Rejects when the store cannot answer: callers then
   * refuse the request (fail closed), never accept it.
   */
  use(id: string, expiresAt: number): Promise<boolean>;
}
