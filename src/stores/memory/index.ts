import type { ClientStore, TokenStore, UserStore } from '../types';
import { memoryClientStore, type MemoryClientInput } from './clients';
import { memoryTokenStore } from './tokens';
import { memoryUserStore, type MemoryUserInput } from './users';

export { memoryClientStore, memoryTokenStore, memoryUserStore };
export type { MemoryClientInput, MemoryUserInput };
export type { MemoryTokenStoreOptions, MemoryTokenStore } from './tokens';
export type { MemoryClientStore, MemoryClientStoreOptions } from './clients';
export type { MemoryUserStore } from './users';

/** What {@link memoryStores} takes: the clients and (for the password grant) users to serve. */
export interface MemoryStoresInput {
  /** Registered clients, with plain secrets that are hashed at construction. */
  clients: readonly MemoryClientInput[];
  /** Users, with plain passwords that are hashed with scrypt at construction. Omit them and there is no user store (no password grant). */
  users?: readonly MemoryUserInput[];
  /** Most dynamically registered clients kept (RFC 7591); see {@link MemoryClientStoreOptions}. Default 10 000. */
  maxRegisteredClients?: number;
}

/**
 * The embedded default: all three stores in memory. Good for development, tests and a single
 * process; tokens are lost on restart and not shared between processes.
 *
 * @example
 * ```ts
 * const stores = memoryStores({
 *   clients: [{ id: 'web-app', secret: 'web-secret', grants: ['client_credentials'], scopes: ['read'] }],
 *   users: [{ id: 'user-alice', username: 'alice@example.com', password: 'wonderland' }],
 * });
 * app.use(oauthServer(stores, { issuer: 'https://auth.example.com' }));
 * ```
 */
export function memoryStores(input: MemoryStoresInput & { users: readonly MemoryUserInput[] }): {
  clients: ClientStore;
  users: UserStore;
  tokens: TokenStore;
};
export function memoryStores(input: MemoryStoresInput): { clients: ClientStore; users?: UserStore; tokens: TokenStore };
export function memoryStores(input: MemoryStoresInput): {
  clients: ClientStore;
  users?: UserStore;
  tokens: TokenStore;
} {
  // No users given means no user store: the password grant stays off (and unadvertised), and
  // users of the authorization code flow come from the app's own session, not from here.
  const stores: { clients: ClientStore; users?: UserStore; tokens: TokenStore } = {
    clients: memoryClientStore(input.clients, { maxRegistered: input.maxRegisteredClients }),
    tokens: memoryTokenStore(),
  };
  if (input.users !== undefined) stores.users = memoryUserStore(input.users);
  return stores;
}
