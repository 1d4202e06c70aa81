/**
 * `oauthServer`: validates options once, wires stores, keys and endpoints together, and
 * returns a Connect-style middleware that answers its own paths.
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokenCache } from './bearer/cache';
import { localValidator } from './bearer/local-validator';
import {
  createProtectedResource,
  type ProtectedResource,
  type ProtectedResourceOptions,
} from './bearer/protected-resource';
import { createGuard, type RequireTokenOptions } from './bearer/require-token';
import { clientAssertionMethod } from './clients/assertion-method';
import { clientKeySource } from './clients/client-keys';
import { resolveMetadataDocuments, withMetadataDocuments } from './clients/metadata-document';
import { BUILT_IN_METHODS } from './clients/methods';
import { configError, TokengateConfigError } from './core/config';
import type { Handler, Middleware, Next, Request } from './core/http';
import { DEVICE_CODE_GRANT, deviceAuthorizationEndpoint } from './device/endpoint';
import { deviceCodeGrant } from './device/grant';
import { memoryDeviceStore } from './device/memory-store';
import { deviceVerification, type DeviceVerification } from './device/verification';
import { authorizeEndpoint } from './endpoints/authorize';
import type { ServerContext } from './endpoints/context';
import { introspectionEndpoint } from './endpoints/introspect';
import { jwksEndpoint, jwkSet } from './endpoints/jwks';
import {
  buildMetadata,
  metadataEndpoint,
  WELL_KNOWN,
  wellKnownMiddleware,
  wellKnownPath,
  type AuthorizationServerMetadata,
} from './endpoints/metadata';
import { revocationEndpoint } from './endpoints/revoke';
import { tokenEndpoint } from './endpoints/token';
import { builtInGrants } from './grants';
import { extensionGrant } from './grants/extension';
import { errorOut } from './http/respond';
import type { ResetTarget } from './limits/brute-force';
import { EventHub, type TokengateEventEmitter } from './observe/events';
import { Observer } from './observe/observer';
import { Telemetry } from './observe/telemetry';
import { OPENID_WELL_KNOWN, openIdMetadata } from './oidc/discovery';
import { endSessionEndpoint } from './oidc/logout';
import { OpenIdProvider } from './oidc/provider';
import { userinfoEndpoint } from './oidc/userinfo';
import { resolveOptions, type ServerOptions } from './options';
import { isManagementPath, registrationEndpoints, resolveRegistration } from './registration/endpoint';
import { memoryReplayStore } from './stores/memory/replay';
import { memoryTokenStore } from './stores/memory/tokens';
import type { Stores, TokenStore } from './stores/types';
import { TokenIssuer } from './tokens/issue';
import { JwtVerifier } from './tokens/jwt';
import { RevokedIds } from './tokens/revoked-ids';

/**
 * The middleware `oauthServer` returns: mount it with `app.use(oauth)`; it answers its own
 * endpoints and calls `next()` for every other request.
 */
export interface OAuthServer {
  (req: Request, res: ServerResponse, next: Next): void;
  /**
   * A guard for routes of this app: validates the bearer token with this server's keys and
   * stores, and sets `req.auth`.
   *
   * @example
   * ```ts
   * app.get('/api/me', oauth.requireToken({ scope: 'read' }), (req, res) => res.json(getAuth(req)));
   * ```
   */
  requireToken(options?: RequireTokenOptions): Middleware;
  /**
   * One of `options.resources` as a protected resource (RFC 9728): its metadata document,
   * for discovery from nothing but its URL, and a guard that accepts only tokens meant for it.
   *
   * @example
   * ```ts
   * const mcp = oauth.protectedResource({ resource: 'https://mcp.example.com/mcp', scope: 'tools:call' });
   * app.use(mcp.metadata);                       // GET /.well-known/oauth-protected-resource/mcp
   * app.post('/mcp', mcp.requireToken(), mcpHandler);
   * ```
   */
  protectedResource(options: ProtectedResourceOptions): ProtectedResource;
  /** The token store in use (the in-memory default when none was given). */
  readonly tokens: TokenStore;
  /**
   * The server's events: tokens issued, refreshed and revoked, refresh-token and code reuse,
   * failed client authentication and passwords, limits reached, client registration, an
   * unavailable store. Payloads carry ids and reasons, never a token or secret; see
   * docs/logging-and-events.md.
   *
   * @example
   * ```ts
   * oauth.events.on('token.issued', ({ grantType, clientId }) => issued.inc({ grant_type: grantType }));
   * oauth.events.on('refresh_token.reuse_detected', (e) => alert(`token theft? family ${e.familyId} revoked`));
   * ```
   */
  readonly events: TokengateEventEmitter;
  /**
   * The validated options and the stores, as the endpoints share them. Not a public API: for
   * tokengate's own tests and tools.
   * @internal
   */
  readonly context: ServerContext;
  /** The RFC 8414 metadata document this server serves, built from what it mounted. */
  readonly metadata: AuthorizationServerMetadata;
  /**
   * A middleware that serves the metadata document where RFC 8414 §3.1 puts it, for mounting
   * at the root of the issuer's host. Only needed when the issuer has a path:
   *
   * @example
   * ```ts
   * // issuer: 'https://example.com/tenant1'
   * app.use(oauth.wellKnown);     // GET /.well-known/oauth-authorization-server/tenant1
   * app.use('/tenant1', oauth);   // POST /tenant1/oauth/token, ...
   * ```
   */
  readonly wellKnown: Middleware;
  /**
   * Forget the failed attempts counted against a username, client id and/or address by the
   * brute-force limits (`options.bruteForce`), e.g. once support has verified the user.
   *
   * @example
   * ```ts
   * await oauth.resetLimits({ username: 'alice@example.com' });
   * ```
   */
  resetLimits(target: ResetTarget): Promise<void>;
  /**
   * The verification page's API for the device authorization grant (RFC 8628 §3.3): look up
   * a user code, approve or deny. `undefined` unless `options.deviceAuthorization` is set.
   */
  readonly device: DeviceVerification | undefined;
}

function checkStores(stores: Stores): void {
  if (!stores || typeof stores !== 'object')
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE',
      'oauthServer(stores, options): stores must be { clients, users?, tokens? }.',
    );
  if (!stores.clients || typeof stores.clients.findClient !== 'function') {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE',
      'oauthServer: stores.clients must implement findClient(clientId); see memoryStores() or the ClientStore interface.',
    );
  }
  if (stores.users !== undefined && typeof stores.users.authenticate !== 'function') {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE',
      'oauthServer: stores.users must implement authenticate(username, password); see the UserStore interface.',
    );
  }
  const methods = ['save', 'find', 'consume', 'revoke', 'isRevoked', 'onRevoke'] as const;
  const missing =
    stores.tokens &&
    methods.filter((m) => typeof (stores.tokens as unknown as Record<string, unknown>)[m] !== 'function');
  if (missing && missing.length > 0)
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE',
      `oauthServer: stores.tokens is missing ${missing.join(', ')}; see the TokenStore interface.`,
    );
  if (stores.replay !== undefined && typeof stores.replay?.use !== 'function') {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_STORE',
      'oauthServer: stores.replay must implement use(id, expiresAt); see the ReplayStore interface (redisReplayStore, postgresReplayStore).',
    );
  }
}

/**
 * Create an OAuth 2.0 authorization server middleware.
 *
 * The hooks (`authorize`, `openid.logout`) receive Node's `IncomingMessage` and
 * `ServerResponse` as types, or the types their parameters are annotated with; with Express,
 * import `oauthServer` from `tokengate/express` to have them typed as Express's.
 *
 * @param stores - where clients, users and tokens live (see {@link memoryStores})
 * @param options - at least the `issuer`; everything else has a default
 *
 * @example
 * ```ts
 * const oauth = oauthServer(memoryStores({ clients, users }), { issuer: 'https://auth.example.com' });
 * app.use(oauth); // POST /oauth/token
 * app.get('/api/me', oauth.requireToken({ scope: 'read' }), handler);
 * ```
 */
export function oauthServer<Req = IncomingMessage, Res = ServerResponse>(
  stores: Stores,
  options: ServerOptions<Req, Res>,
): OAuthServer {
  checkStores(stores);
  // The hooks are called with the framework's own req and res objects, which are what their
  // parameters were typed as; inside, they are handled as the Node objects they also are.
  const resolved = resolveOptions(options as unknown as ServerOptions);
  const tokens = stores.tokens ?? memoryTokenStore();
  const openid =
    resolved.openid &&
    new OpenIdProvider(resolved.openid, resolved.issuer, resolved.keys, stores.clients, stores.users);
  // Tokens for a resource (RFC 8707) carry its URI as `aud`: this server's own checks accept
  // those too, and each guard then checks the audience its route expects.
  const defaultAudience = typeof resolved.audience === 'string' ? [resolved.audience] : [...resolved.audience];
  const verifierAudience =
    resolved.resources.size === 0 ? resolved.audience : [...defaultAudience, ...resolved.resources.keys()];
  // Scopes a client may register or describe in a metadata document: those discovery shows.
  const clientScopes = [
    ...new Set([
      ...(resolved.scopesSupported ?? []),
      ...[...resolved.resources.values()].flatMap((r) => r.scopes ?? []),
    ]),
  ];
  const documents = resolveMetadataDocuments(options.clientIdMetadataDocuments);
  const clients = documents
    ? withMetadataDocuments(stores.clients, documents, clientScopes, resolved.logger)
    : stores.clients;
  const replay = stores.replay ?? memoryReplayStore();
  const assertions = Object.freeze({
    issuer: resolved.issuer,
    tokenEndpoint: resolved.issuer.replace(/\/+$/, '') + resolved.tokenPath,
    replay,
    logger: resolved.logger,
    ...resolved.clientAssertions,
    keys: clientKeySource(resolved.clientAssertions.fetchJwks, {
      maxAgeMs: resolved.clientAssertions.jwksMaxAgeMs,
      minRefetchMs: resolved.clientAssertions.jwksRefetchIntervalMs,
    }),
  });
  const events = new EventHub(resolved.logger);
  const observer = new Observer(events, new Telemetry());
  const ctx: ServerContext = Object.freeze({
    options: resolved,
    clients,
    users: stores.users,
    tokens,
    issuer: new TokenIssuer(resolved, tokens, events),
    verifier: new JwtVerifier(resolved.keys, {
      issuer: resolved.issuer,
      audience: verifierAudience,
      clockTolerance: resolved.clockTolerance,
    }),
    basicChallenge: `Basic realm="${resolved.realm}", charset="UTF-8"`,
    heardRevocations: new RevokedIds(),
    openid,
    tokenResponseExtensions: openid ? [openid.extendTokenResponse] : [],
    replay,
    dpop: Object.freeze({ ...resolved.dpop, replay }),
    assertions,
    // The client assertion (private_key_jwt, client_secret_jwt) comes first: a request that also
    // sends a secret is then refused as two methods, not read as the secret alone.
    methods: Object.freeze([clientAssertionMethod(assertions), ...BUILT_IN_METHODS]),
    observer,
    fail: errorOut(resolved.errors, resolved.logger),
  });

  const grants = builtInGrants({
    password: stores.users !== undefined,
    authorizationCode: resolved.authorize !== undefined,
    tokenExchange: resolved.tokenExchange,
  });
  // The device authorization grant (RFC 8628): its endpoint, its grant and oauth.device.
  const deviceOptions = resolved.deviceAuthorization;
  const devices = deviceOptions ? (stores.devices ?? memoryDeviceStore()) : undefined;
  if (devices) grants.set(DEVICE_CODE_GRANT, deviceCodeGrant(devices));
  // Extension grants (RFC 6749 §4.5): the same pipeline; their names never shadow the above.
  for (const [type, definition] of resolved.grants) grants.set(type, extensionGrant(type, definition));
  const { telemetry } = observer;
  const routes = new Map<string, Handler>([
    [resolved.tokenPath, telemetry.traced('token', tokenEndpoint(ctx, grants))],
  ]);
  if (deviceOptions && devices)
    routes.set(deviceOptions.path, deviceAuthorizationEndpoint(ctx, devices, deviceOptions));
  if (resolved.authorize) routes.set(resolved.authorizePath, authorizeEndpoint(ctx, resolved.authorize));
  routes.set(resolved.revocationPath, telemetry.traced('revocation', revocationEndpoint(ctx)));
  routes.set(resolved.introspectionPath, telemetry.traced('introspection', introspectionEndpoint(ctx)));
  routes.set(resolved.jwksPath, jwksEndpoint(resolved.keys, ctx.fail));
  const logout = openid?.options.logout;
  if (openid && logout) routes.set(openid.options.endSessionPath, endSessionEndpoint(ctx, openid, logout));
  // Dynamic client registration (RFC 7591/7592): off unless configured and the store can write.
  const registration = resolveRegistration(options.registration, stores.clients, clientScopes, resolved.logger);
  const registrationHandlers = registration && registrationEndpoints(ctx, registration);
  if (registration && registrationHandlers) routes.set(registration.path, registrationHandlers.register);

  // Discovery describes what is registered above, so register new endpoints before this line.
  const oauthMetadata = buildMetadata(
    resolved,
    {
      authorization: routes.has(resolved.authorizePath) ? resolved.authorizePath : undefined,
      token: resolved.tokenPath,
      revocation: resolved.revocationPath,
      introspection: resolved.introspectionPath,
      jwks: jwkSet(resolved.keys).keys.length > 0 ? resolved.jwksPath : undefined,
      registration: registration?.path,
    },
    [...grants.keys()],
  );
  if (documents) oauthMetadata.client_id_metadata_document_supported = true;
  // OpenID Connect Discovery: the same document with OIDC's members, so both agree.
  const metadata = openid ? openIdMetadata(oauthMetadata, openid, resolved.issuer.replace(/\/+$/, '')) : oauthMetadata;
  if (deviceOptions) metadata.device_authorization_endpoint = resolved.issuer.replace(/\/+$/, '') + deviceOptions.path;
  // CORS (options.cors) for what browser clients call; never for the authorize endpoint.
  const { cors } = resolved;
  if (cors) {
    for (const path of [resolved.tokenPath, resolved.revocationPath])
      routes.set(path, cors.wrap('POST', routes.get(path) as Handler));
    routes.set(resolved.jwksPath, cors.wrap('GET, HEAD', routes.get(resolved.jwksPath) as Handler, true));
  }
  const metadataHandler = cors
    ? cors.wrap('GET, HEAD', metadataEndpoint(metadata, resolved), true)
    : metadataEndpoint(metadata, resolved);
  // An issuer without a path has its document right under the mount point (the host root);
  // one with a path has it outside, served by `oauth.wellKnown` (RFC 8414 §3.1).
  if (wellKnownPath(resolved.issuer) === WELL_KNOWN) routes.set(WELL_KNOWN, metadataHandler);
  // OIDC Discovery §4: the issuer followed by /.well-known/openid-configuration, i.e. under
  // the mount point; `oauth.wellKnown` also answers RFC 8414 §5's form for an issuer with a path.
  if (openid) routes.set(OPENID_WELL_KNOWN, metadataHandler);

  // One cache per server, shared by all its guards: validity does not depend on the route.
  // The cache notes every revocation heard in ctx.heardRevocations, which outlives any reset:
  // a store that comes back without its data cannot revive a token this instance saw revoked.
  const cache = new TokenCache(
    resolved.cache.max,
    resolved.cache.maxAge,
    resolved.cache.staleIfUnavailable,
    ctx.heardRevocations,
  );
  tokens.onRevoke((event) => cache.revoke(event));
  const guardContext = {
    validate: localValidator(ctx.verifier, tokens, resolved.audience, ctx.heardRevocations, [verifierAudience].flat()),
    cache,
    realm: resolved.realm,
    maxBodyBytes: resolved.maxBodyBytes,
    bodyTimeoutMs: resolved.bodyTimeoutMs,
    logger: resolved.logger,
    dpop: ctx.dpop,
    errors: resolved.errors,
    ...(resolved.resources.size > 0 && { audience: Object.freeze(defaultAudience) }),
  };
  const guardFor = (guardOptions?: RequireTokenOptions, resourceMetadata?: string): Middleware => {
    if (guardOptions?.resource !== undefined && !resolved.resources.has(guardOptions.resource)) {
      configError(
        'ERR_TOKENGATE_RESOURCE',
        `oauth.requireToken: resource "${String(guardOptions.resource)}" is not in options.resources, so no token can be issued for it.`,
      );
    }
    return createGuard(guardContext, guardOptions, resourceMetadata);
  };
  if (openid) {
    routes.set(
      openid.options.userinfoPath,
      userinfoEndpoint({
        provider: openid,
        clients: stores.clients,
        tokens,
        guard: guardContext,
        cors: resolved.cors,
        fail: ctx.fail,
      }),
    );
    if (cors)
      routes.set(
        openid.options.userinfoPath,
        cors.wrap('GET, POST', routes.get(openid.options.userinfoPath) as Handler),
      );
  }

  const middleware = function tokengate(req: Request, res: ServerResponse, next: Next): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let handler = routes.get(path);
    // RFC 7592: each registered client's configuration URI sits under the registration path.
    if (handler === undefined && registration && registrationHandlers && isManagementPath(path, registration.path))
      handler = registrationHandlers.manage;
    if (handler === undefined) return next();
    // Handlers render their own errors; this catches what cannot be rendered (e.g. a header
    // the response refused) so that no request can take the process down.
    handler(req, res, next).catch((err: unknown) => {
      resolved.logger.error('request failed after its response was started; connection closed', err);
      res.destroy();
    });
  } as OAuthServer;

  Object.defineProperties(middleware, {
    requireToken: { value: (guardOptions?: RequireTokenOptions) => guardFor(guardOptions) },
    protectedResource: {
      value: (resourceOptions: ProtectedResourceOptions) =>
        createProtectedResource(
          { issuer: resolved.issuer, resources: resolved.resources, fail: ctx.fail, guard: guardFor },
          resourceOptions,
        ),
    },
    tokens: { value: tokens },
    events: { value: events },
    context: { value: ctx },
    metadata: { value: metadata },
    wellKnown: {
      value: wellKnownMiddleware(
        resolved.issuer,
        metadataHandler,
        openid ? [WELL_KNOWN, OPENID_WELL_KNOWN] : [WELL_KNOWN],
      ),
    },
    resetLimits: { value: async (target: ResetTarget) => resolved.bruteForce?.reset(target) },
    device: { value: deviceOptions && devices ? deviceVerification(ctx, devices, deviceOptions) : undefined },
  });
  return middleware;
}
