/**
 * Dynamic client registration (RFC 7591) at `POST /oauth/register`, and management of a
 * registered client (RFC 7592) at its `registration_client_uri`: read, update, delete with
 * its registration access token.
 * @packageDocumentation
 */
import { LRUCache } from 'lru-cache';
import { nowSeconds } from '../core/clock';
import { configError } from '../core/config';
import { hashClientSecret, hashToken, randomToken, safeEqual, verifyClientSecret } from '../core/crypto';
import { InvalidRequest, InvalidToken, OAuthError, TooManyRequests } from '../core/errors';
import type { Request, Handler } from '../core/http';
import type { Logger } from '../core/logging';
import type { ServerContext } from '../endpoints/context';
import { readJson } from '../http/body';
import { sendJson } from '../http/respond';
import { addressKey, defaultRemoteAddress, type RemoteAddressFn } from '../limits/remote-address';
import type { Client, ClientStore } from '../stores/types';
import { clientRevocationId, REGISTERED_CLIENT_PREFIX } from './client-revocation';
import { InvalidClientMetadata, validateMetadata, type ClientMetadata } from './metadata';
import type { RegistrationOptions } from './options';

export type { RegistrationOptions, RegistrationPolicyResult } from './options';

/** Registration options after validation. */
export interface ResolvedRegistration {
  readonly path: string;
  readonly open: boolean;
  readonly initialAccessTokens: readonly string[];
  readonly policy: RegistrationOptions['policy'];
  readonly scopes: readonly string[];
  readonly limiter: AddressLimiter | undefined;
}

/**
 * A fixed-window count of registrations per address, bounded: at most `MAX_ADDRESSES` are
 * tracked, the least recently seen forgotten first, so a flood from many addresses cannot
 * grow it.
 */
export class AddressLimiter {
  private static readonly MAX_ADDRESSES = 10_000;
  private readonly windows: LRUCache<string, { count: number; resetAt: number }>;

  constructor(
    private readonly points: number,
    private readonly durationMs: number,
    private readonly remoteAddress: RemoteAddressFn,
  ) {
    this.windows = new LRUCache({ max: AddressLimiter.MAX_ADDRESSES });
  }

  /** Count one registration for this request's address, or throw 429 when its window is used up. */
  take(req: Request): void {
    const key = addressKey(this.remoteAddress(req));
    const now = Date.now();
    let window = this.windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.durationMs };
      this.windows.set(key, window);
    }
    if (window.count >= this.points)
      throw new TooManyRequests(
        (window.resetAt - now) / 1000,
        'Too many client registrations from this address; try again later.',
      );
    window.count++;
  }

  /** How many addresses are tracked (for tests of the bound). */
  get size(): number {
    return this.windows.size;
  }
}

/** Validate `options.registration` once, at start-up; `undefined` when registration is off. */
export function resolveRegistration(
  value: unknown,
  clients: ClientStore,
  defaultScopes: readonly string[],
  logger: Logger,
): ResolvedRegistration | undefined {
  if (value === undefined) return undefined;
  const r = value as RegistrationOptions;
  if (!r || typeof r !== 'object')
    configError(
      'ERR_TOKENGATE_REGISTRATION',
      'oauthServer: options.registration must be { open: true }, { initialAccessToken }, or { policy }.',
    );
  const tokens =
    r.initialAccessToken === undefined
      ? []
      : Array.isArray(r.initialAccessToken)
        ? r.initialAccessToken
        : [r.initialAccessToken];
  if (!tokens.every((t) => typeof t === 'string' && t.length >= 16))
    configError(
      'ERR_TOKENGATE_REGISTRATION',
      'oauthServer: options.registration.initialAccessToken must be a string (or strings) of at least 16 characters.',
    );
  if (r.open !== undefined && typeof r.open !== 'boolean')
    configError('ERR_TOKENGATE_REGISTRATION', 'oauthServer: options.registration.open must be true or false.');
  if (r.policy !== undefined && typeof r.policy !== 'function')
    configError(
      'ERR_TOKENGATE_REGISTRATION',
      'oauthServer: options.registration.policy must be a function (metadata, req) returning the metadata or false.',
    );
  if (r.open === true && tokens.length > 0)
    configError(
      'ERR_TOKENGATE_REGISTRATION',
      'oauthServer: options.registration: give open or initialAccessToken, not both.',
    );
  if (r.open !== true && tokens.length === 0 && r.policy === undefined) {
    configError(
      'ERR_TOKENGATE_REGISTRATION',
      'oauthServer: options.registration must say who may register: { open: true }, { initialAccessToken }, or { policy }.',
    );
  }
  if (
    typeof clients.registerClient !== 'function' ||
    typeof clients.updateClient !== 'function' ||
    typeof clients.deleteClient !== 'function'
  ) {
    logger.warn(
      'options.registration is set, but the client store has no registerClient/updateClient/deleteClient: client registration (RFC 7591) is OFF.',
    );
    return undefined;
  }
  const path = r.path ?? '/oauth/register';
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path))
    configError(
      'ERR_TOKENGATE_PATH',
      `oauthServer: options.registration.path must be a path starting with "/" (got ${String(path)}).`,
    );
  const scopes = r.scopes ?? defaultScopes;
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string'))
    configError('ERR_TOKENGATE_REGISTRATION', 'oauthServer: options.registration.scopes must be an array of scopes.');
  let limiter: AddressLimiter | undefined;
  if (r.perAddress !== false) {
    const { points, duration } = r.perAddress ?? { points: 20, duration: 3600 };
    if (!Number.isInteger(points) || points <= 0 || !Number.isFinite(duration) || duration <= 0) {
      configError(
        'ERR_TOKENGATE_NUMBER',
        'oauthServer: options.registration.perAddress must be { points, duration } with positive numbers, or false.',
      );
    }
    const remote = r.remoteAddress ?? defaultRemoteAddress;
    if (typeof remote !== 'function')
      configError(
        'ERR_TOKENGATE_REGISTRATION',
        'oauthServer: options.registration.remoteAddress must be a function (req) => address.',
      );
    limiter = new AddressLimiter(points, duration * 1000, remote);
  }
  return Object.freeze({
    path,
    open: r.open === true,
    initialAccessTokens: Object.freeze([...tokens]),
    policy: r.policy,
    scopes: Object.freeze([...new Set(scopes)]),
    limiter,
  });
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

function challenge(error?: string): Record<string, string> {
  return { 'WWW-Authenticate': error === undefined ? 'Bearer' : `Bearer error="${error}"` };
}

/** The registration and management handlers of one server. */
export function registrationEndpoints(
  ctx: ServerContext,
  reg: ResolvedRegistration,
): { register: Handler; manage: Handler } {
  const { options, clients, tokens, fail } = ctx;
  const base = options.issuer.replace(/\/+$/, '') + reg.path;
  const initialHashes = reg.initialAccessTokens.map((t) => hashToken(t));
  const store = clients as Required<Pick<ClientStore, 'registerClient' | 'updateClient' | 'deleteClient'>> &
    ClientStore;

  /** The answer of RFC 7591 §3.2.1 / RFC 7592 §3: the metadata as registered plus the client's credentials. */
  function information(
    client: Client,
    secret: string | undefined,
    accessToken: string | undefined,
  ): Record<string, unknown> {
    const registration = client.registration as NonNullable<Client['registration']>;
    const body: Record<string, unknown> = {
      client_id: client.id,
      ...registration.metadata,
      client_id_issued_at: registration.issuedAt,
    };
    if (secret !== undefined) body.client_secret = secret;
    // 0: the secret does not expire (RFC 7591 §3.2.1). REQUIRED whenever a secret exists.
    if (client.secretHash !== undefined) body.client_secret_expires_at = 0;
    if (accessToken !== undefined) body.registration_access_token = accessToken;
    body.registration_client_uri = `${base}/${encodeURIComponent(client.id)}`;
    return body;
  }

  async function checkInitialAccess(req: Request): Promise<void> {
    if (reg.initialAccessTokens.length === 0) return;
    const presented = bearer(req);
    if (presented === undefined)
      throw new InvalidToken('An initial access token is required to register (RFC 7591 §3).');
    // Hashes compared, so neither the contents nor the lengths of the configured tokens leak.
    const hash = hashToken(presented);
    let ok = false;
    for (const expected of initialHashes) ok = safeEqual(hash, expected) || ok;
    if (!ok) throw new InvalidToken('The initial access token is invalid.');
  }

  async function applyPolicy(body: unknown, req: Request): Promise<unknown> {
    if (reg.policy === undefined) return body;
    // Validated first, so the hook only ever sees well-formed metadata.
    validateMetadata(body, { scopes: reg.scopes });
    const result = await reg.policy(Object.freeze({ ...(body as Record<string, unknown>) }), req);
    if (result === false) throw new InvalidClientMetadata("The registration was refused by this server's policy.");
    if (!result || typeof result !== 'object')
      throw new Error('registration.policy must return the metadata or false.');
    return result;
  }

  function withStatus(err: unknown): unknown {
    if (err instanceof InvalidToken) return new OAuthError(err.error, err.message, 401, challenge('invalid_token'));
    return err;
  }

  const register: Handler = async function register(req, res, next) {
    try {
      if (req.method !== 'POST')
        throw new InvalidRequest('The registration endpoint accepts only POST.', 405, { Allow: 'POST' });
      reg.limiter?.take(req);
      await checkInitialAccess(req);
      const body = await applyPolicy(await readJson(req, options.maxBodyBytes, options.bodyTimeoutMs), req);
      const valid = validateMetadata(body, { scopes: reg.scopes });
      const secret = valid.confidential ? randomToken(32) : undefined;
      const accessToken = randomToken(32);
      const client: Client = {
        id: REGISTERED_CLIENT_PREFIX + randomToken(18),
        grants: valid.grants,
        scopes: valid.scopes,
        redirectUris: valid.metadata.redirect_uris,
        registration: { metadata: valid.metadata, accessTokenHash: hashToken(accessToken), issuedAt: nowSeconds() },
      };
      if (secret !== undefined) client.secretHash = hashClientSecret(secret);
      await store.registerClient(client);
      ctx.observer.registration('registered', client);
      sendJson(res, 201, information(client, secret, accessToken));
    } catch (err) {
      ctx.observer.failed(req, 'registration', err);
      fail(res, next, withStatus(err), 'registration endpoint');
    }
  };

  /** The registered client a management request names, if its registration access token is right (RFC 7592 §2). */
  async function authorized(req: Request): Promise<Client> {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let id: string;
    try {
      id = decodeURIComponent(path.slice(reg.path.length + 1));
    } catch {
      throw new InvalidToken('The registration access token is invalid.');
    }
    const presented = bearer(req);
    if (presented === undefined) throw new InvalidToken('The registration access token is required (RFC 7592 §2).');
    const client = id === '' || id.includes('/') ? undefined : await clients.findClient(id);
    // An unknown client and a wrong token look the same (RFC 7592 §2: 401, not 404).
    const expected = client?.registration?.accessTokenHash ?? hashToken('');
    if (!safeEqual(hashToken(presented), expected) || client === undefined)
      throw new InvalidToken('The registration access token is invalid.');
    return client;
  }

  const manage: Handler = async function manage(req, res, next) {
    try {
      if (req.method !== 'GET' && req.method !== 'PUT' && req.method !== 'DELETE') {
        throw new InvalidRequest('The client configuration endpoint accepts GET, PUT and DELETE.', 405, {
          Allow: 'GET, PUT, DELETE',
        });
      }
      const client = await authorized(req);
      if (req.method === 'GET') return sendJson(res, 200, information(client, undefined, undefined));
      if (req.method === 'DELETE') {
        await store.deleteClient(client.id);
        ctx.observer.registration('deleted', client);
        // RFC 7592 §2.3: the client's tokens stop working too.
        const marker = clientRevocationId(client.id);
        if (marker !== undefined) {
          const lifetime = Math.max(client.accessTokenLifetime ?? 0, options.accessTokenLifetime);
          await tokens.revoke({ id: marker, until: nowSeconds() + lifetime + options.clockTolerance });
        }
        res.statusCode = 204;
        res.setHeader('Cache-Control', 'no-store');
        res.end();
        return;
      }
      // PUT (RFC 7592 §2.2): the whole metadata again, replacing what was registered.
      const body = await readJson(req, options.maxBodyBytes, options.bodyTimeoutMs);
      const b = (body ?? {}) as Record<string, unknown>;
      if (b.client_id !== client.id)
        throw new InvalidRequest("The client_id in the body must be the client's own (RFC 7592 §2.2).");
      if (
        b.client_secret !== undefined &&
        (typeof b.client_secret !== 'string' || !verifyClientSecret(b.client_secret, client.secretHash))
      ) {
        throw new InvalidRequest("The client_secret in the body must be the client's current secret (RFC 7592 §2.2).");
      }
      const valid = validateMetadata(await applyPolicy(body, req), { scopes: reg.scopes });
      let secret: string | undefined;
      const updated: Client = {
        ...client,
        grants: valid.grants,
        scopes: valid.scopes,
        redirectUris: valid.metadata.redirect_uris,
        registration: {
          ...(client.registration as NonNullable<Client['registration']>),
          metadata: valid.metadata as ClientMetadata,
        },
      };
      if (!valid.confidential) delete updated.secretHash;
      else if (client.secretHash === undefined) updated.secretHash = hashClientSecret((secret = randomToken(32)));
      await store.updateClient(updated);
      ctx.observer.registration('updated', updated);
      sendJson(res, 200, information(updated, secret, undefined));
    } catch (err) {
      ctx.observer.failed(req, 'client configuration', err);
      fail(res, next, withStatus(err), 'client configuration endpoint');
    }
  };

  return { register, manage };
}

/** Whether a request path is a client configuration URI under `registerPath` (RFC 7592 §1). */
export function isManagementPath(path: string, registerPath: string): boolean {
  return path.length > registerPath.length + 1 && path.startsWith(registerPath + '/');
}
