import { nowSeconds } from '../../core/clock';
import { checkRenamed, checkSecondsAsMs } from '../../core/config';
import type { RevocationEvent, TokenKind, TokenRecord, TokenStore } from '../types';
import { Interner } from './interner';
import { KeyIndex } from './key-index';

/** Options for {@link memoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** How often, in seconds (fractions allowed), to sweep a slice of expired records away. Default 1. (Formerly `sweepIntervalMs`.) */
  sweepInterval?: number;
  /** How many records one sweep looks at. Default 50 000 (well under a millisecond). */
  sweepBatch?: number;
}

/** The in-memory {@link TokenStore}, with two helpers for tests and monitoring. */
export interface MemoryTokenStore extends TokenStore {
  /** How many records are held (expired ones included until swept). */
  size(): number;
  /**
   * A copy of everything held: the records (under their hashed ids) and the revoked ids with
   * their `until`. For tests, e.g. the `dump` of `tokengate/testing`'s `describeTokenStore`.
   */
  dump(): { records: TokenRecord[]; revoked: [string, number][] };
}

// The fields kept in columns; any other field a record carries (authorization codes' PKCE and
// redirect URI, fields later features add) is kept as given, in a side map.
const COLUMNS = new Set([
  'kind',
  'id',
  'familyId',
  'clientId',
  'sub',
  'userId',
  'scope',
  'issuedAt',
  'expiresAt',
  'consumedAt',
]);
const NONE = -1;
const INITIAL_CAPACITY = 1024;

/**
 * The records, column by column: one slot per record across typed arrays (off the V8 heap,
 * nothing for the garbage collector to trace), ids as 32 binary bytes, families as indices
 * into a family table, client ids, user ids, kinds and scope sets interned. About 110 bytes
 * per refresh token instead of ~480 for an object per record; see docs/performance.md.
 */
class RecordTable {
  readonly ids = new KeyIndex(32, INITIAL_CAPACITY);
  private readonly families = new KeyIndex(16, INITIAL_CAPACITY);
  private readonly kinds = new Interner<string>();
  private readonly strings = new Interner<string>();
  private readonly scopes = new Interner<readonly string[]>();
  private readonly extras = new Map<number, Readonly<Record<string, unknown>>>();

  private capacity = INITIAL_CAPACITY;
  /** Slots ever used: the sweep scans `[0, highWater)`. */
  highWater = 0;
  count = 0;
  private readonly freeSlots: number[] = [];
  // Per record slot. kind is the interned kind + 1 (0: a free slot).
  kind = new Uint8Array(INITIAL_CAPACITY);
  private family = new Int32Array(INITIAL_CAPACITY);
  private nextInFamily = new Int32Array(INITIAL_CAPACITY);
  private prevInFamily = new Int32Array(INITIAL_CAPACITY);
  private client = new Int32Array(INITIAL_CAPACITY);
  private sub = new Int32Array(INITIAL_CAPACITY);
  private user = new Int32Array(INITIAL_CAPACITY);
  private scope = new Int32Array(INITIAL_CAPACITY);
  private issuedAt = new Float64Array(INITIAL_CAPACITY);
  expiresAt = new Float64Array(INITIAL_CAPACITY);
  // NaN: not consumed.
  private consumedAt = new Float64Array(INITIAL_CAPACITY);

  // Per family slot: the first record of the family, how many records it has.
  private familyCapacity = INITIAL_CAPACITY;
  private familyHead = new Int32Array(INITIAL_CAPACITY);
  private familySize = new Int32Array(INITIAL_CAPACITY);
  private familyHighWater = 0;
  private readonly freeFamilies: number[] = [];

  /** The kind of the record in `slot`. */
  kindOf(slot: number): string {
    return this.kinds.value((this.kind[slot] as number) - 1);
  }

  /** The slot of a record id, or -1. */
  slotOf(id: string): number {
    return this.ids.get(id);
  }

  /** Add a record (its id must be new); returns its slot. */
  add(record: TokenRecord): number {
    const slot = this.allocate();
    this.ids.set(record.id, slot);
    this.kind[slot] = this.kinds.acquire(record.kind, String) + 1;
    this.client[slot] = this.strings.acquire(record.clientId, String);
    this.sub[slot] = this.strings.acquire(record.sub, String);
    this.user[slot] = record.userId === undefined ? NONE : this.strings.acquire(record.userId, String);
    const scope = record.scope;
    this.scope[slot] = this.scopes.acquire(JSON.stringify(scope), () => Object.freeze([...scope]));
    this.issuedAt[slot] = record.issuedAt;
    this.expiresAt[slot] = record.expiresAt;
    this.consumedAt[slot] = record.consumedAt ?? NaN;
    this.link(slot, record.familyId);
    let extra: Record<string, unknown> | undefined;
    for (const name of Object.keys(record)) {
      const value = (record as unknown as Record<string, unknown>)[name];
      if (COLUMNS.has(name) || value === undefined) continue;
      // A copy, frozen all the way down: the store keeps what was saved, whatever the caller
      // or a later reader does with its objects (nested fields such as OIDC's `openid`).
      (extra ??= {})[name] = value !== null && typeof value === 'object' ? deepFreeze(structuredClone(value)) : value;
    }
    if (extra) this.extras.set(slot, Object.freeze(extra));
    this.count++;
    return slot;
  }

  /** Drop the record in `slot`. */
  remove(slot: number): void {
    this.ids.delete(slot);
    this.replays.delete(slot);
    this.unlink(slot);
    this.kinds.release((this.kind[slot] as number) - 1);
    this.strings.release(this.client[slot] as number);
    this.strings.release(this.sub[slot] as number);
    if (this.user[slot] !== NONE) this.strings.release(this.user[slot] as number);
    this.scopes.release(this.scope[slot] as number);
    this.extras.delete(slot);
    this.kind[slot] = 0;
    this.freeSlots.push(slot);
    this.count--;
  }

  /** Mark the record consumed now. */
  consume(slot: number, at: number): void {
    this.consumedAt[slot] = at;
  }

  // Replays of consumed records (ConsumeResult.reuses), by slot: rare, so a map, not a column.
  private readonly replays = new Map<number, number>();

  /** Count one more replay of the consumed record in `slot`; returns the count (1 for the first). */
  countReplay(slot: number): number {
    const reuses = (this.replays.get(slot) ?? 0) + 1;
    this.replays.set(slot, reuses);
    return reuses;
  }

  /** The record in `slot`, as a new frozen object (callers may keep it; it is never changed). */
  record(slot: number): TokenRecord {
    const record: TokenRecord = {
      kind: this.kinds.value((this.kind[slot] as number) - 1) as TokenKind,
      id: this.ids.keyOf(slot),
      familyId: this.families.keyOf(this.family[slot] as number),
      clientId: this.strings.value(this.client[slot] as number),
      sub: this.strings.value(this.sub[slot] as number),
      scope: this.scopes.value(this.scope[slot] as number) as string[],
      issuedAt: this.issuedAt[slot] as number,
      expiresAt: this.expiresAt[slot] as number,
    };
    if (this.user[slot] !== NONE) record.userId = this.strings.value(this.user[slot] as number);
    const consumedAt = this.consumedAt[slot] as number;
    if (!Number.isNaN(consumedAt)) record.consumedAt = consumedAt;
    const extra = this.extras.get(slot);
    return Object.freeze(extra ? { ...record, ...extra } : record);
  }

  /** The slots of a family's records. */
  familyMembers(familyId: string): number[] {
    const f = this.families.get(familyId);
    const members: number[] = [];
    if (f === -1) return members;
    for (let slot = this.familyHead[f] as number; slot !== NONE; slot = this.nextInFamily[slot] as number)
      members.push(slot);
    return members;
  }

  private allocate(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.highWater === this.capacity) this.grow(this.capacity * 2);
    return this.highWater++;
  }

  private grow(capacity: number): void {
    const resize = <A extends Uint8Array | Int32Array | Float64Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(capacity);
      b.set(a);
      return b;
    };
    this.kind = resize(this.kind);
    this.family = resize(this.family);
    this.nextInFamily = resize(this.nextInFamily);
    this.prevInFamily = resize(this.prevInFamily);
    this.client = resize(this.client);
    this.sub = resize(this.sub);
    this.user = resize(this.user);
    this.scope = resize(this.scope);
    this.issuedAt = resize(this.issuedAt);
    this.expiresAt = resize(this.expiresAt);
    this.consumedAt = resize(this.consumedAt);
    this.ids.grow(capacity);
    this.capacity = capacity;
  }

  // Put the record at the head of its family's list, making the family if it is new.
  private link(slot: number, familyId: string): void {
    let f = this.families.get(familyId);
    if (f === -1) {
      f = this.freeFamilies.pop() ?? this.familyHighWater++;
      if (f >= this.familyCapacity) this.growFamilies(this.familyCapacity * 2);
      this.families.set(familyId, f);
      this.familyHead[f] = NONE;
      this.familySize[f] = 0;
    }
    const head = this.familyHead[f] as number;
    this.family[slot] = f;
    this.prevInFamily[slot] = NONE;
    this.nextInFamily[slot] = head;
    if (head !== NONE) this.prevInFamily[head] = slot;
    this.familyHead[f] = slot;
    this.familySize[f] = (this.familySize[f] as number) + 1;
  }

  private unlink(slot: number): void {
    const f = this.family[slot] as number;
    const prev = this.prevInFamily[slot] as number;
    const next = this.nextInFamily[slot] as number;
    if (prev === NONE) this.familyHead[f] = next;
    else this.nextInFamily[prev] = next;
    if (next !== NONE) this.prevInFamily[next] = prev;
    const left = (this.familySize[f] as number) - 1;
    this.familySize[f] = left;
    if (left === 0) {
      this.families.delete(f);
      this.freeFamilies.push(f);
    }
  }

  private growFamilies(capacity: number): void {
    const head = new Int32Array(capacity);
    head.set(this.familyHead);
    const size = new Int32Array(capacity);
    size.set(this.familySize);
    this.familyHead = head;
    this.familySize = size;
    this.families.grow(capacity);
    this.familyCapacity = capacity;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * An in-process {@link TokenStore}. Every operation runs to completion within one tick, which
 * is what makes `consume` atomic here; revocation listeners are called synchronously, so a
 * `requireToken` cache sees a revocation before `revoke` resolves.
 *
 * Records are kept compactly (in columns, see `RecordTable` in the source): a million live refresh tokens take
 * about a tenth of the heap an object per record would, and add nothing to every garbage
 * collection's work, so cache hits in the same process do not slow down as the store grows.
 * Expired records are dropped lazily on access and by one background sweep that looks at a
 * bounded slice of slots at a time (one `unref`'d timer for the store, none per record).
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): MemoryTokenStore {
  checkRenamed('memoryTokenStore: options', options, [{ from: 'sweepIntervalMs', to: 'sweepInterval', per: 1000 }]);
  const sweepEvery = checkSecondsAsMs('memoryTokenStore: options.sweepInterval', options.sweepInterval, 1);
  const table = new RecordTable();
  const denied = new Map<string, number>();
  const listeners = new Set<(event: RevocationEvent) => void>();

  // The live slot of `id`, or -1; an expired record is dropped on the way.
  function live(id: string): number {
    const slot = table.slotOf(id);
    if (slot !== -1 && (table.expiresAt[slot] as number) <= nowSeconds()) {
      table.remove(slot);
      return -1;
    }
    return slot;
  }

  function ofKind(slot: number, kind: TokenKind): boolean {
    return slot !== -1 && table.kindOf(slot) === kind;
  }

  // Round-robin sweep: each tick continues where the last stopped, so 1M records cost many
  // short slices instead of one long pause.
  let recordCursor = 0;
  let deniedCursor: Iterator<[string, number]> | undefined;
  function sweep(batch: number): void {
    const now = nowSeconds();
    const end = Math.min(table.highWater, recordCursor + batch);
    for (let slot = recordCursor; slot < end; slot++) {
      if (table.kind[slot] !== 0 && (table.expiresAt[slot] as number) <= now) table.remove(slot);
    }
    recordCursor = end >= table.highWater ? 0 : end;
    deniedCursor ??= denied.entries();
    for (let i = 0; i < batch; i++) {
      const next = deniedCursor.next();
      if (next.done) {
        deniedCursor = undefined;
        break;
      }
      if (next.value[1] <= now) denied.delete(next.value[0]);
    }
  }
  const batch = options.sweepBatch ?? 50_000;
  const timer = setInterval(() => sweep(batch), sweepEvery);
  timer.unref();

  return {
    async save(record) {
      if (table.slotOf(record.id) !== -1)
        throw new Error('memoryTokenStore.save: a record with this id already exists.');
      // A refresh that raced its family's revocation (reuse detected meanwhile) must not
      // leave a live token behind: the record is born revoked, so it is not kept.
      if (denied.has(record.familyId)) return;
      table.add(record);
    },

    async find(kind, id) {
      const slot = live(id);
      return ofKind(slot, kind) ? table.record(slot) : undefined;
    },

    async consume(kind, id) {
      const slot = live(id);
      if (!ofKind(slot, kind)) return undefined;
      const record = table.record(slot);
      if (record.consumedAt !== undefined) return { record, reused: true, reuses: table.countReplay(slot) };
      table.consume(slot, nowSeconds());
      return { record: table.record(slot), reused: false };
    },

    async revoke({ id, familyId, until }) {
      const ids: string[] = [];
      if (id !== undefined) {
        const slot = table.slotOf(id);
        if (slot !== -1) table.remove(slot);
        denied.set(id, Math.max(until, denied.get(id) ?? 0));
        ids.push(id);
      }
      if (familyId !== undefined) {
        for (const member of table.familyMembers(familyId)) table.remove(member);
        denied.set(familyId, Math.max(until, denied.get(familyId) ?? 0));
        ids.push(familyId);
      }
      if (ids.length === 0) return;
      const event: RevocationEvent = { ids, until };
      for (const listener of listeners) listener(event);
    },

    async isRevoked(ids) {
      const now = nowSeconds();
      for (const id of ids) {
        const until = denied.get(id);
        if (until !== undefined && until > now) return true;
      }
      return false;
    },

    onRevoke(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    size() {
      return table.count;
    },

    dump() {
      const records: TokenRecord[] = [];
      for (let slot = 0; slot < table.highWater; slot++) {
        if (table.kind[slot] === 0) continue;
        const record = table.record(slot);
        records.push({ ...record, scope: [...record.scope] });
      }
      return { records, revoked: [...denied.entries()] };
    },
  };
}
