/**
 * The listeners of a shared token store: told of every revocation and of `reset`s, each
 * guarded so that one that throws neither stops the others nor escapes into a driver's
 * event emitter.
 * @packageDocumentation
 */
import type { Logger } from '../core/logging';
import type { RevocationEvent } from './types';

type Listener = (event: RevocationEvent) => void;

/** The `onRevoke` listeners of one store instance that hears other instances through a connection. */
export class RevocationListeners {
  private readonly listeners = new Set<Listener>();

  /**
   * @param store - the store's name, for log lines
   * @param logger - where a throwing listener is reported
   */
  constructor(
    private readonly store: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Add a listener. If, once the current task is done, `live()` says other instances cannot be
   * heard yet, the listener is told `{ reset: 'lost' }` (the 'restored' follows when they can).
   */
  add(listener: Listener, live: () => boolean): () => void {
    this.listeners.add(listener);
    if (!live()) {
      queueMicrotask(() => {
        if (!live() && this.listeners.has(listener)) this.call(listener, { ids: [], until: 0, reset: 'lost' });
      });
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Tell every listener. */
  emit(event: RevocationEvent): void {
    for (const listener of this.listeners) this.call(listener, event);
  }

  private call(listener: Listener, event: RevocationEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.logger.error(`${this.store}: a revocation listener threw`, err);
    }
  }
}
