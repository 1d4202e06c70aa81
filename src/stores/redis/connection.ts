/**
 * Talking to Redis with a bounded wait: every store operation fails fast while the client is
 * reconnecting and gives up after a timeout otherwise, so a request never hangs on Redis and
 * the app answers `temporarily_unavailable` (503) instead.
 * @packageDocumentation
 */
import type { EventEmitter } from 'node:events';
import { TemporarilyUnavailable } from '../../core/errors';

/**
 * The part of an ioredis `Redis` or `Cluster` the store uses. Declared here so the store's
 * code does not depend on ioredis's generics; {@link redisTokenStore} takes the real types.
 */
export interface RedisConnection extends EventEmitter {
  readonly status: string;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  time(): Promise<(number | string)[]>;
  ping(): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
  duplicate(): RedisConnection;
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

// Statuses in which a command would only wait in ioredis's offline queue for a reconnect.
const DOWN = new Set(['reconnecting', 'close', 'end', 'disconnecting']);
const CONNECTING = new Set(['connecting', 'connect']);

// Replies that mean "not now" rather than "wrong": loading after a restart, a replica during
// failover, a cluster re-sharding, a server busy with a long script.
const TRANSIENT_REPLY = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY|MOVED|ASK)\b/;

/** The 503 a store operation fails with; `cause` carries what Redis said, for the log. */
export function unavailable(cause: unknown): TemporarilyUnavailable {
  const error = new TemporarilyUnavailable('The token store is temporarily unavailable; try again shortly.', {
    'Retry-After': '1',
  });
  error.cause = cause;
  return error;
}

/** Runs store operations against one client with fail-fast and a timeout. */
export class Guard {
  private wasReady: boolean;
  // Operations waiting for a reply: failed at once when the connection closes, since ioredis
  // would otherwise hold them until it reconnects (or our timeout fires).
  private readonly pending = new Set<(err: unknown) => void>();

  constructor(
    private readonly client: RedisConnection,
    private readonly timeoutMs: number,
  ) {
    this.wasReady = client.status === 'ready';
  }

  /** Call when the client reports `ready`. */
  ready(): void {
    this.wasReady = true;
  }

  /** Call when the client's connection closes: every pending operation fails now. */
  closed(): void {
    for (const fail of this.pending) fail(unavailable(new Error('the Redis connection closed before it answered')));
    this.pending.clear();
  }

  /**
   * Run `op`. Connection failures, timeouts and transient replies become
   * {@link TemporarilyUnavailable}; any other Redis error is rethrown (a `server_error`).
   */
  async run<T>(op: () => Promise<T>): Promise<T> {
    const status = this.client.status;
    // At start-up a command may wait for the first connection; after that, a client that is
    // connecting again is reconnecting, and waiting would only hold the request.
    if (DOWN.has(status) || (this.wasReady && CONNECTING.has(status))) {
      throw unavailable(new Error(`Redis connection is ${status}`));
    }
    let timer: NodeJS.Timeout | undefined;
    let fail: ((err: unknown) => void) | undefined;
    try {
      return await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          fail = reject;
          this.pending.add(reject);
          timer = setTimeout(
            () => reject(unavailable(new Error(`Redis did not answer within ${this.timeoutMs} ms`))),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      if (err instanceof TemporarilyUnavailable) throw err;
      const reply = err instanceof Error && err.name === 'ReplyError';
      if (!reply || TRANSIENT_REPLY.test((err as Error).message)) throw unavailable(err);
      throw err;
    } finally {
      clearTimeout(timer);
      if (fail) this.pending.delete(fail);
    }
  }
}
