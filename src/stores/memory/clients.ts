import { configError, TokengateConfigError } from '../../core/config';
import { hashClientSecret } from '../../core/crypto';
import { TemporarilyUnavailable } from '../../core/errors';
import type { Client, ClientStore, GrantType } from '../types';

/** A client as given to {@link memoryStores}: like {@link Client}, with the plain `secret`. */
export interface MemoryClientInput extends Omit<Client, 'secretHash' | 'grants'> {
  /**
   * The client secret; hashed at construction and then dropped. Omit for a public client. A
   * client with `tokenEndpointAuthMethod: 'client_secret_jwt'` also keeps it as `jwtSecret`,
   * since HMAC assertions can only be verified with the secret itself.
   */
  secret?: string;
  /** The grants this client may use. */
  grants: readonly GrantType[];
}

// Caught at start-up rather than on the first authorization request: the registered URIs are
// compared as exact strings, so they must be complete and usable as they are.
function checkRedirectUris(input: MemoryClientInput): void {
  const uris = input.redirectUris ?? [];
  if (input.grants.includes('authorization_code') && uris.length === 0) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_CLIENT',
      `memoryStores: client "${input.id}" has the authorization_code grant but no redirectUris; register the exact URIs it may redirect to.`,
    );
  }
  checkOpenIdFields(input);
  for (const uri of [...uris, ...(input.postLogoutRedirectUris ?? [])]) {
    // Printable ASCII only: the URI goes into a Location header as it is (register an IDN in
    // its punycode form), and exact matching needs one spelling.
    let ok = typeof uri === 'string' && /^[\x21-\x7e]+$/.test(uri) && !uri.includes('#');
    try {
      if (ok) new URL(uri);
    } catch {
      ok = false;
    }
    if (!ok)
      throw new TokengateConfigError(
        'ERR_TOKENGATE_CLIENT',
        `memoryStores: client "${input.id}" has redirect URI "${String(uri)}"; it must be an absolute URI of printable ASCII (punycode for international names) without a fragment (RFC 6749 §3.1.2).`,
      );
  }
}

// OpenID Connect registration fields (docs/openid-connect.md), checked like the redirect URIs.
function checkOpenIdFields(input: MemoryClientInput): void {
  const { idTokenSignedResponseAlg: alg, subjectType, postLogoutRedirectUris, defaultMaxAge } = input;
  if (alg !== undefined && !['RS256', 'PS256', 'ES256', 'ES384'].includes(alg)) {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_CLIENT',
      `memoryStores: client "${input.id}" has idTokenSignedResponseAlg "${String(alg)}"; use RS256, PS256, ES256 or ES384.`,
    );
  }
  if (subjectType !== undefined && subjectType !== 'public' && subjectType !== 'pairwise') {
    throw new TokengateConfigError(
      'ERR_TOKENGATE_CLIENT',
      `memoryStores: client "${input.id}" has subjectType "${String(subjectType)}"; use "public" or "pairwise".`,
    );
  }
  if (postLogoutRedirectUris !== undefined && !Array.isArray(postLogoutRedirectUris))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_CLIENT',
      `memoryStores: client "${input.id}": postLogoutRedirectUris must be an array of URIs.`,
    );
  if (defaultMaxAge !== undefined && !(Number.isInteger(defaultMaxAge) && defaultMaxAge >= 0))
    throw new TokengateConfigError(
      'ERR_TOKENGATE_CLIENT',
      `memoryStores: client "${input.id}": defaultMaxAge must be whole seconds, 0 or more.`,
    );
}

/** Options of {@link memoryClientStore}. */
export interface MemoryClientStoreOptions {
  /**
   * Most clients kept from dynamic registration (RFC 7591); past it, registration answers 503
   * until some are deleted. Bounds the memory a flood of registrations can take. Default 10 000.
   */
  maxRegistered?: number;
}

/** A deep, frozen copy: later changes to the caller's object must not reach the store. */
function frozenCopy(client: Client): Client {
  return Object.freeze(structuredClone(client));
}

/** The in-memory {@link ClientStore}, with a helper for tests. */
export interface MemoryClientStore extends ClientStore {
  registerClient(client: Client): Promise<void>;
  updateClient(client: Client): Promise<void>;
  deleteClient(clientId: string): Promise<boolean>;
  /** Every client as held (secrets as hashes). For tests, e.g. `tokengate/testing`'s `describeClientStore`. */
  dump(): Client[];
}

/**
 * An in-memory {@link ClientStore}. Secrets are hashed at construction; the plain values are
 * not kept.
 */
export function memoryClientStore(
  clients: readonly MemoryClientInput[],
  options: MemoryClientStoreOptions = {},
): MemoryClientStore {
  const byId = new Map<string, Client>();
  const registered = new Set<string>();
  const maxRegistered = options.maxRegistered ?? 10_000;
  if (!Number.isInteger(maxRegistered) || maxRegistered < 0)
    configError('ERR_TOKENGATE_NUMBER', 'memoryClientStore: options.maxRegistered must be a whole number ≥ 0.');
  for (const input of clients) {
    if (byId.has(input.id))
      throw new TokengateConfigError(
        'ERR_TOKENGATE_CLIENT',
        `memoryStores: client id "${input.id}" is listed twice; ids must be unique.`,
      );
    checkRedirectUris(input);
    const { secret, ...rest } = input;
    const client: Client = { ...rest, grants: [...input.grants], scopes: [...input.scopes] };
    if (input.redirectUris !== undefined) client.redirectUris = Object.freeze([...input.redirectUris]);
    if (input.postLogoutRedirectUris !== undefined)
      client.postLogoutRedirectUris = Object.freeze([...input.postLogoutRedirectUris]);
    if (secret !== undefined) client.secretHash = hashClientSecret(secret);
    if (secret !== undefined && input.tokenEndpointAuthMethod === 'client_secret_jwt') client.jwtSecret = secret;
    byId.set(input.id, Object.freeze(client));
  }
  return {
    async findClient(clientId) {
      return byId.get(clientId);
    },
    dump() {
      return [...byId.values()];
    },
    async registerClient(client) {
      if (byId.has(client.id))
        throw new Error('memoryClientStore.registerClient: a client with this id already exists.');
      if (registered.size >= maxRegistered)
        throw new TemporarilyUnavailable('Client registration is full on this server; try again later.');
      byId.set(client.id, frozenCopy(client));
      registered.add(client.id);
    },
    async updateClient(client) {
      if (!byId.has(client.id)) throw new Error('memoryClientStore.updateClient: there is no client with this id.');
      byId.set(client.id, frozenCopy(client));
    },
    async deleteClient(clientId) {
      registered.delete(clientId);
      return byId.delete(clientId);
    },
  };
}
