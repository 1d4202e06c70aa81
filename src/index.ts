/**
 * tokengate: an OAuth 2.0 authorization server for Express and Connect apps.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { oauthServer, memoryStores, getAuth } from 'tokengate/express'; // or 'tokengate' (Node-typed hooks)
 *
 * const oauth = oauthServer(memoryStores({ clients, users }), { issuer: 'https://auth.example.com' });
 * const app = express();
 * app.use(oauth);
 * app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => res.json(getAuth(req)));
 * ```
 * @module tokengate
 * @packageDocumentation
 */
export { oauthServer, type OAuthServer } from './server';
export type { ServerOptions, CacheOptions } from './options';
export { consoleLogger, LOG_CHANNEL, type Logger, type LogEvent, type LogFields, type LogLevel } from './core/logging';
export type {
  TokengateEvents,
  TokengateEventName,
  TokengateEventEmitter,
  TokengateListener,
  TokenIssuedEvent,
  TokenRefreshedEvent,
  TokenRevokedEvent,
  ReuseDetectedEvent,
  ClientAuthenticationFailedEvent,
  ClientAuthenticationFailure,
  PasswordFailedEvent,
  LimitReachedEvent,
  ClientRegistrationEvent,
  StoreUnavailableEvent,
} from './observe/events';
export type { ResourceOptions } from './resources/indicators';
export {
  BRUTE_FORCE_DEFAULTS,
  type BruteForceOptions,
  type LimitRule,
  type AttemptLimiter,
  type LimiterConfig,
  type LimiterResult,
  type ResetTarget,
  type SlowdownRule,
} from './limits/brute-force';
export type { RemoteAddressFn } from './limits/remote-address';
export type { CorsOptions } from './http/cors';
export type { ErrorMode } from './http/respond';
export type { PasswordGrantOptions } from './grants/password-options';
export type {
  AuthorizeHooks,
  AuthorizeRequestInfo,
  ConsentInfo,
  PkceOptions,
  SignedInUser,
} from './endpoints/authorize-hooks';
export type { OpenIdOptions, ClaimsInfo, LogoutInfo } from './oidc/options';
export type { OpenIdProviderMetadata } from './oidc/discovery';
export type { IdTokenClaims } from './oidc/id-token';
export {
  LoginRequired,
  ConsentRequired,
  InteractionRequired,
  RequestNotSupported,
  RequestUriNotSupported,
  RegistrationNotSupported,
} from './oidc/errors';
export type {
  KeyInput,
  SymmetricKeyInput,
  PrivateKeyInput,
  PublicKeyInput,
  KeyMaterial,
  SigningAlgorithm,
  SymmetricAlgorithm,
  AsymmetricAlgorithm,
} from './tokens/keys';
export type { RequireTokenOptions, Middleware } from './bearer/require-token';
export type { ProtectedResource, ProtectedResourceOptions } from './bearer/protected-resource';
export type { ProtectedResourceMetadata } from './endpoints/resource-metadata';
export type { DpopOptions } from './dpop/options';
export type { AsymmetricJwsAlgorithm } from './jose/jws';
// Option types that ServerOptions and the store factories refer to, so the API reference links them.
export type { ClientAssertionOptions } from './clients/assertion-options';
export type { JwksFetcher } from './clients/client-keys';
export type { FetchFunction, OutboundFetchOptions } from './http/outbound-fetch';
export type { ClientIdMetadataDocumentOptions } from './clients/metadata-document';
export type { RegistrationOptions, RegistrationPolicyResult } from './registration/options';
export type { MemoryClientStoreOptions } from './stores/memory/clients';
export { memoryReplayStore, type MemoryReplayStoreOptions } from './stores/memory/replay';
export type { AuthInfo } from './bearer/auth-info';
export { getAuth, type GetAuthOptions } from './bearer/get-auth';
export {
  requireToken,
  type ResourceServerOptions,
  type IntrospectionOptions,
  type ResourceGuard,
} from './resource-server/require-token';
export type { AuthorizationServerMetadata } from './endpoints/metadata';
export type { IntrospectionResponse } from './endpoints/introspect';
export type { JwkSet } from './endpoints/jwks';
export type { TokenResponse } from './tokens/issue';
export {
  TOKEN_EXCHANGE_GRANT,
  ACCESS_TOKEN_TYPE,
  InvalidTarget,
  type TokenExchangeOptions,
  type TokenExchangeRequest,
  type TokenExchangeDecision,
  type ExchangeToken,
  type ActClaim,
} from './grants/token-exchange';
export { memoryDeviceStore } from './device/memory-store';
export { DEVICE_CODE_GRANT } from './device/endpoint';
export { normalizeUserCode } from './device/user-code';
export { DEVICE_RECORD_GRACE, type DeviceStore, type DeviceAuthorization, type PollResult } from './device/types';
export type { DeviceVerification, PendingDeviceRequest } from './device/verification';
export type { DeviceAuthorizationOptions } from './device/options';
export type { DeviceAttemptLimits } from './device/attempts';
export type { AccessTokenClaims } from './tokens/jwt';
export {
  RESERVED_ACCESS_TOKEN_CLAIMS,
  MAX_CUSTOM_CLAIMS_BYTES,
  type AccessTokenClaimsHook,
  type AccessTokenClaimsContext,
} from './tokens/custom-claims';
export type { ClientAuthMethodName } from './clients/methods';
export type {
  ExtensionGrants,
  ExtensionGrant,
  ExtensionGrantHandler,
  ExtensionGrantRequest,
  ExtensionGrantResult,
} from './grants/extension-options';
export * from './core/errors';
export { TokengateConfigError, CONFIG_ERROR_CODES, isConfigError, type ConfigErrorCode } from './core/config';
export * from './stores/types';
export {
  memoryStores,
  memoryClientStore,
  memoryUserStore,
  memoryTokenStore,
  type MemoryStoresInput,
  type MemoryClientInput,
  type MemoryUserInput,
  type MemoryTokenStoreOptions,
  type MemoryTokenStore,
  type MemoryClientStore,
  type MemoryUserStore,
} from './stores/memory';
export { hashClientSecret, hashPassword, verifyPassword, hashToken, verifyClientSecret } from './core/crypto';
export { randomToken } from './core/crypto';
export {
  generateKeys,
  loadKeys,
  type GenerateKeysOptions,
  type GeneratedKeys,
  type SigningJwk,
  type SigningJwkSet,
} from './tokens/keygen';
