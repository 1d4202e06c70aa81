/**
 * The revocation channel of {@link postgresTokenStore}: `LISTEN` on one pooled connection so
 * every instance's `requireToken` cache hears every other instance's revocations, a heartbeat
 * that notices a connection which died silently, and `reset` events when some may be missed.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logging';
import { RevocationListeners } from '../revocation-listeners';
import type { RevocationEvent } from '../types';
import type { PgPool, PgPoolClient } from './pool';

/** What the channel needs to know. */
export interface PgChannelOptions {
  pool: PgPool;
  /** The NOTIFY channel name (a validated identifier). */
  channel: string;
  heartbeatMs: number;
  logger: Logger;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A NOTIFY payload: `{ o: origin, ids, until }`; anything else is ignored. */
function parse(payload: string | undefined): { o?: string; ids: string[]; until: number } | undefined {
  try {
    const value = JSON.parse(payload ?? '') as { o?: unknown; ids?: unknown; until?: unknown };
    if (
      !Array.isArray(value.ids) ||
      !value.ids.every((id) => typeof id === 'string') ||
      typeof value.until !== 'number'
    )
      return undefined;
    return { o: typeof value.o === 'string' ? value.o : undefined, ids: value.ids as string[], until: value.until };
  } catch {
    return undefined;
  }
}

/** Fans revocations out to this instance's listeners, from this instance and from PostgreSQL. */
export class PgRevocationChannel {
  /** This instance's mark on its notifications, so it does not deliver its own twice. */
  readonly origin = randomBytes(9).toString('base64url');
  private readonly listeners: RevocationListeners;
  private client: PgPoolClient | undefined;
  private connecting = false;
  private live = false;
  private everLive = false;
  private closed = false;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private pinging = false;

  constructor(private readonly options: PgChannelOptions) {
    this.listeners = new RevocationListeners('postgresTokenStore', options.logger);
  }

  /** The payload to `pg_notify` for a revocation. */
  payload(ids: string[], until: number): string {
    return JSON.stringify({ o: this.origin, ids, until });
  }

  /** Deliver a revocation made by this instance, now (its notification is then skipped). */
  deliverLocal(ids: string[], until: number): void {
    this.listeners.emit({ ids, until });
  }

  /** Add a listener; the first one opens the LISTEN connection. Until LISTEN is confirmed, it is told 'lost'. */
  add(listener: (event: RevocationEvent) => void): () => void {
    const remove = this.listeners.add(listener, () => this.live);
    this.start();
    return remove;
  }

  /** Whether other instances' revocations are being heard right now. */
  get isLive(): boolean {
    return this.live;
  }

  /** Stop listening and give the connection back to the pool. */
  async close(): Promise<void> {
    this.closed = true;
    this.live = false;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('notification');
    try {
      await withTimeout(client.query(`UNLISTEN ${this.quoted()}`), this.options.heartbeatMs, 'UNLISTEN');
      client.removeAllListeners('error');
      client.removeAllListeners('end');
      client.release();
    } catch (err) {
      client.release(err instanceof Error ? err : true);
    }
  }

  private quoted(): string {
    return `"${this.options.channel}"`;
  }

  private start(): void {
    if (this.client !== undefined || this.connecting || this.closed) return;
    this.connecting = true;
    // connect() handles its own failures (it schedules a retry), so nothing is left to catch.
    void this.connect().finally(() => {
      this.connecting = false;
    });
  }

  private async connect(): Promise<void> {
    let client: PgPoolClient | undefined;
    try {
      client = await this.options.pool.connect();
      const c = client;
      // A checked-out client with no 'error' listener would crash the process when it fails.
      c.on('error', (err) => this.drop(c, `the LISTEN connection failed (${err.message})`, err));
      c.on('end', () => this.drop(c, 'the LISTEN connection ended'));
      c.on('notification', (message) => {
        if (message.channel === this.options.channel) this.receive(message.payload);
      });
      await withTimeout(c.query(`LISTEN ${this.quoted()}`), Math.max(this.options.heartbeatMs, 1000), 'LISTEN');
      if (this.closed) {
        c.release();
        return;
      }
      this.client = c;
      this.failures = 0;
      this.live = true;
      if (this.everLive)
        this.options.logger.warn('postgresTokenStore: revocation channel is back; caches start afresh.');
      this.everLive = true;
      this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
      this.heartbeat.unref();
      this.listeners.emit({ ids: [], until: 0, reset: 'restored' });
    } catch (err) {
      if (client) {
        client.removeAllListeners('notification');
        client.release(err instanceof Error ? err : true);
      }
      this.scheduleRetry(err);
    }
  }

  private scheduleRetry(err: unknown): void {
    if (this.closed) return;
    this.failures++;
    if (this.failures === 1) {
      this.options.logger.warn(
        `postgresTokenStore: cannot LISTEN for revocations (${err instanceof Error ? err.message : String(err)}); retrying.`,
      );
    }
    const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures - 1, 7));
    this.retry = setTimeout(() => this.start(), delay);
    this.retry.unref();
  }

  // A connection can die without a FIN (a partition, a frozen server): the heartbeat bounds
  // how long that goes unnoticed to about two heartbeats.
  private beat(): void {
    const client = this.client;
    if (!client || this.pinging) return;
    this.pinging = true;
    withTimeout(client.query('SELECT 1'), this.options.heartbeatMs, 'heartbeat')
      .catch((err: Error) => this.drop(client, `the LISTEN connection did not answer (${err.message})`, err))
      .finally(() => {
        this.pinging = false;
      });
  }

  private drop(client: PgPoolClient, reason: string, err?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    client.removeAllListeners('notification');
    client.release(err ?? true);
    if (this.live && !this.closed) {
      this.live = false;
      this.options.logger.warn(
        `postgresTokenStore: revocation channel lost (${reason}); caches are dropped until it is back.`,
      );
      this.listeners.emit({ ids: [], until: 0, reset: 'lost' });
    }
    this.scheduleRetry(new Error(reason));
  }

  private receive(payload: string | undefined): void {
    const event = parse(payload);
    if (!event) {
      this.options.logger.warn('postgresTokenStore: ignored a malformed notification on the revocation channel.');
      return;
    }
    if (event.o === this.origin) return;
    this.listeners.emit({ ids: event.ids, until: event.until });
  }
}
