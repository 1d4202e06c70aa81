import { hashClientSecret } from '../../tokens/crypto';
import type { Client, ClientStore, GrantType } from '../types';

/** A client as given to {@link memoryStores}: like {@link Client}, with the plain `secret`. */
export interface MemoryClientInput extends Omit<Client, 'secretHash' | 'grants'> {
  /** The client secret; hashed at construction and then dropped. Omit for a public client. */
  secret?: string;
  /** The grants this client may use. */
  grants: readonly GrantType[];
}

/**
 * An in-memory {@link ClientStore}. Secrets are hashed at construction; the plain values are
 * not kept.
 */
export function memoryClientStore(clients: readonly MemoryClientInput[]): ClientStore {
  const byId = new Map<string, Client>();
  for (const input of clients) {
    if (byId.has(input.id)) throw new Error(`memoryStores: client id "${input.id}" is listed twice; ids must be unique.`);
    const { secret, ...rest } = input;
    const client: Client = { ...rest, grants: [...input.grants], scopes: [...input.scopes] };
    if (secret !== undefined) client.secretHash = hashClientSecret(secret);
    byId.set(input.id, Object.freeze(client));
  }
  return {
    async findClient(clientId) {
      return byId.get(clientId);
    },
  };
}
