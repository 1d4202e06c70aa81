/**
 * `redisClientStore`: clients in Redis, one JSON value per client under `{prefix}:c:<id>`,
 * with the write methods dynamic client registration (RFC 7591/7592) needs.
 * @packageDocumentation
 */
import { checkRenamed, checkSecondsAsMs } from '../../core/config';
import { hashClientSecret } from '../../core/crypto';
import type { MemoryClientInput } from '../memory/clients';
import type { Client, ClientStore } from '../types';
import { Guard, type RedisConnection } from './connection';
import type { RedisClient } from './index';

/** Options for {@link redisClientStore}. */
export interface RedisClientStoreOptions {
  /** The ioredis client. It stays the app's: the store never closes it. */
  client: RedisClient;
  /** Key prefix. Default `tokengate`. */
  prefix?: string;
  /** Longest wait for Redis, in seconds (fractions allowed), before an operation fails with 503. Default 2. */
  timeout?: number;
}

/** A {@link ClientStore} in Redis with registration writes, plus `saveClient` for the app's own clients. */
export interface RedisClientStore extends ClientStore {
  registerClient(client: Client): Promise<void>;
  updateClient(client: Client): Promise<void>;
  deleteClient(clientId: string): Promise<boolean>;
  /** Register or replace one of the app's own clients; its plain `secret` is hashed here. */
  saveClient(input: MemoryClientInput): Promise<void>;
  /** Stop listening to the client's connection events (the client itself stays open). */
  close(): void;
}

interface Commands extends RedisConnection {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'NX' | 'XX'): Promise<'OK' | null>;
  set(key: string, value: string): Promise<'OK'>;
  del(key: string): Promise<number>;
}

// Ids come from requests: anything up to a sane length is a possible key, nothing longer.
const MAX_ID = 1024;

/**
 * Clients in Redis. Values are the {@link Client} as JSON (secrets and registration access
 * tokens only as the hashes the library hands over); ids match exactly (keys are binary-safe).
 *
 * @example
 * ```ts
 * const clients = redisClientStore({ client: new Redis(process.env.REDIS_URL) });
 * app.use(oauthServer({ clients, tokens }, { issuer, registration: { open: true } }));
 * ```
 */
export function redisClientStore(options: RedisClientStoreOptions): RedisClientStore {
  const client = options?.client as unknown as Commands | undefined;
  if (!client || typeof client.get !== 'function' || typeof client.on !== 'function') {
    throw new Error(
      'redisClientStore: options.client must be an ioredis client, e.g. redisClientStore({ client: new Redis(process.env.REDIS_URL) }).',
    );
  }
  const prefix = options.prefix ?? 'tokengate';
  if (typeof prefix !== 'string' || prefix === '')
    throw new Error('redisClientStore: options.prefix must be a non-empty string.');
  checkRenamed('redisClientStore: options', options, [{ from: 'timeoutMs', to: 'timeout', per: 1000 }]);
  const timeoutMs = checkSecondsAsMs('redisClientStore: options.timeout', options.timeout, 2);
  const guard = new Guard(client, timeoutMs);
  const onReady = (): void => guard.ready();
  const onClose = (): void => guard.closed();
  client.on('ready', onReady);
  client.on('close', onClose);
  const key = (id: string): string => `${prefix}:c:${id}`;
  const usable = (id: string): boolean => typeof id === 'string' && id !== '' && id.length <= MAX_ID;

  return {
    async findClient(clientId) {
      if (!usable(clientId)) return undefined;
      const json = await guard.run(() => client.get(key(clientId)));
      return json === null ? undefined : (JSON.parse(json) as Client);
    },
    async registerClient(c) {
      if (!usable(c.id)) throw new Error('redisClientStore.registerClient: the client id is empty or too long.');
      const ok = await guard.run(() => client.set(key(c.id), JSON.stringify(c), 'NX'));
      if (ok === null) throw new Error('redisClientStore.registerClient: a client with this id already exists.');
    },
    async updateClient(c) {
      if (!usable(c.id)) throw new Error('redisClientStore.updateClient: there is no client with this id.');
      const ok = await guard.run(() => client.set(key(c.id), JSON.stringify(c), 'XX'));
      if (ok === null) throw new Error('redisClientStore.updateClient: there is no client with this id.');
    },
    async deleteClient(clientId) {
      if (!usable(clientId)) return false;
      return (await guard.run(() => client.del(key(clientId)))) > 0;
    },
    async saveClient(input) {
      const { secret, ...rest } = input;
      const c: Client = { ...rest, grants: [...input.grants], scopes: [...input.scopes] };
      if (secret !== undefined) c.secretHash = hashClientSecret(secret);
      if (!usable(c.id)) throw new Error('redisClientStore.saveClient: the client id is empty or too long.');
      await guard.run(() => client.set(key(c.id), JSON.stringify(c)));
    },
    close() {
      client.off('ready', onReady);
      client.off('close', onClose);
    },
  };
}
