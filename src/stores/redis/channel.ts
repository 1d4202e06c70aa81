/**
 * The revocation channel of {@link redisTokenStore}: a dedicated subscriber connection that
 * hears every instance's revocations, a heartbeat that notices a connection which died
 * silently, and the `reset` events that tell caches when revocations may have been missed.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logging';
import type { RevocationEvent } from '../types';
import type { RedisConnection } from './connection';

type Listener = (event: RevocationEvent) => void;

/** What the channel needs to know. */
export interface ChannelOptions {
  channel: string;
  /** A subscriber connection supplied by the app; otherwise one is duplicated from the client. */
  subscriber?: RedisConnection;
  heartbeatMs: number;
  timeoutMs: number;
  logger: Logger;
}

// Ids of events this process delivered itself, so its own echo from Redis is not delivered
// twice. Bounded: forgetting one only means a listener hears a revocation twice (harmless).
const MAX_PENDING_ECHOES = 10_000;

function timeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function parse(message: string): { e?: string; ids: string[]; until: number } | undefined {
  try {
    const value = JSON.parse(message) as { e?: unknown; ids?: unknown; until?: unknown };
    if (
      !Array.isArray(value.ids) ||
      !value.ids.every((id) => typeof id === 'string') ||
      typeof value.until !== 'number'
    )
      return undefined;
    return { e: typeof value.e === 'string' ? value.e : undefined, ids: value.ids as string[], until: value.until };
  } catch {
    return undefined;
  }
}

/** Fans revocations out to this process's listeners, from this process and from Redis. */
export class RevocationChannel {
  private readonly listeners = new Set<Listener>();
  private readonly echoes = new Set<string>();
  private waiting: (() => void)[] = [];
  private subscriber: RedisConnection | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private live = false;
  private everLive = false;
  private pinging = false;
  private closed = false;
  private errorLogged = false;
  // ioredis emits untyped events; each handler below declares what it receives.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly handlers: Record<string, (...args: any[]) => void>;

  constructor(
    private readonly client: RedisConnection,
    private readonly options: ChannelOptions,
  ) {
    this.handlers = {
      message: (channel: string, message: string) => {
        if (channel === options.channel) this.receive(message);
      },
      ready: () => this.subscribe(),
      close: () => this.lost('the subscriber connection closed'),
      error: (err: Error) => {
        if (this.errorLogged) return;
        this.errorLogged = true;
        options.logger.warn(`redisTokenStore: revocation subscriber error: ${err.message}`);
      },
    };
  }

  /** The message to publish for a revocation, and its id. */
  message(ids: string[], until: number): { id: string; text: string } {
    const id = randomBytes(9).toString('base64url');
    return { id, text: JSON.stringify({ e: id, ids, until }) };
  }

  /** Deliver a revocation made by this process, now (its echo from Redis is then skipped). */
  deliverLocal(eventId: string, ids: string[], until: number): void {
    if (this.subscriber !== undefined) {
      if (this.echoes.size >= MAX_PENDING_ECHOES) this.echoes.clear();
      this.echoes.add(eventId);
    }
    this.emit({ ids, until });
  }

  /** Add a listener; the first one opens the subscription. */
  add(listener: Listener): () => void {
    this.listeners.add(listener);
    this.start();
    // Until the subscription is confirmed, revocations from other instances can be missed.
    if (!this.live) {
      queueMicrotask(() => {
        if (!this.live && this.listeners.has(listener)) this.call(listener, { ids: [], until: 0, reset: 'lost' });
      });
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Whether revocations from other instances are being heard right now. */
  get isLive(): boolean {
    return this.live;
  }

  /** Open the subscription (if not yet open) and resolve once it is live; reject after `ms`. */
  whenLive(ms: number): Promise<void> {
    this.start();
    if (this.live) return Promise.resolve();
    return timeout(new Promise<void>((resolve) => this.waiting.push(resolve)), ms);
  }

  /** Stop listening; closes the subscriber connection if this channel opened it. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const sub = this.subscriber;
    if (!sub) return;
    this.subscriber = undefined;
    this.live = false;
    for (const [event, handler] of Object.entries(this.handlers)) sub.off(event, handler);
    if (this.options.subscriber === undefined) {
      // QUIT lets the server close the socket at once; a bare disconnect can keep the process
      // alive for ioredis's 2 s socket-close grace when the socket is already half gone.
      if (sub.status === 'ready') await timeout(sub.quit(), this.options.timeoutMs).catch(() => sub.disconnect(false));
      else sub.disconnect(false);
    } else {
      await timeout(sub.unsubscribe(this.options.channel), this.options.timeoutMs).catch(() => undefined);
    }
  }

  /** Open the subscription; idempotent. */
  start(): void {
    if (this.subscriber !== undefined || this.closed) return;
    const sub = this.options.subscriber ?? this.client.duplicate();
    this.subscriber = sub;
    for (const [event, handler] of Object.entries(this.handlers)) sub.on(event, handler);
    this.subscribe();
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private subscribe(): void {
    const sub = this.subscriber;
    if (!sub || this.closed) return;
    timeout(sub.subscribe(this.options.channel), this.options.timeoutMs).then(
      () => {
        if (this.subscriber !== sub || this.live || sub.status !== 'ready') return;
        this.live = true;
        this.errorLogged = false;
        if (this.everLive)
          this.options.logger.warn('redisTokenStore: revocation channel is back; caches start afresh.');
        this.everLive = true;
        this.emit({ ids: [], until: 0, reset: 'restored' });
        for (const resolve of this.waiting.splice(0)) resolve();
      },
      () => undefined, // retried on the next 'ready' or heartbeat
    );
  }

  // A connection can die without a FIN (a partition, a frozen server); the heartbeat bounds
  // how long such a death goes unnoticed to heartbeatMs + timeoutMs.
  private beat(): void {
    const sub = this.subscriber;
    if (!sub || this.pinging) return;
    if (!this.live) {
      if (sub.status === 'ready') this.subscribe();
      return;
    }
    this.pinging = true;
    timeout(sub.ping(), this.options.timeoutMs)
      .catch(() => {
        if (this.subscriber !== sub) return;
        this.lost(`the subscriber did not answer a ping within ${this.options.timeoutMs} ms`);
        sub.disconnect(true);
      })
      .finally(() => {
        this.pinging = false;
      });
  }

  private lost(reason: string): void {
    this.echoes.clear();
    if (!this.live) return;
    this.live = false;
    this.options.logger.warn(
      `redisTokenStore: revocation channel lost (${reason}); caches are dropped until it is back.`,
    );
    this.emit({ ids: [], until: 0, reset: 'lost' });
  }

  private receive(message: string): void {
    const event = parse(message);
    if (!event) {
      this.options.logger.warn('redisTokenStore: ignored a malformed message on the revocation channel.');
      return;
    }
    if (event.e !== undefined && this.echoes.delete(event.e)) return;
    this.emit({ ids: event.ids, until: event.until });
  }

  private emit(event: RevocationEvent): void {
    for (const listener of this.listeners) this.call(listener, event);
  }

  // A listener that throws must not stop the others, nor escape into ioredis's event emitter.
  private call(listener: Listener, event: RevocationEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.options.logger.error('redisTokenStore: a revocation listener threw', err);
    }
  }
}
