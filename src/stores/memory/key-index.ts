/**
 * A map from string keys to small integers (slots) that keeps the usual keys off the V8 heap:
 * a key that is the base64url of exactly `bytes` random bytes (a token hash, a family id) is
 * stored as those bytes in a typed array and found through an open-addressing table, so a
 * million of them cost the garbage collector nothing to trace. Any other string is kept in an
 * ordinary `Map` beside it, so every key works.
 * @packageDocumentation
 */

const EMPTY = 0;
const TOMBSTONE = -1;

// The last base64url character of a canonical encoding carries only the bits that are left,
// the rest zero (RFC 4648 §3.5): 32 bytes end in a character whose value is a multiple of 4,
// 16 bytes in one whose value is a multiple of 16.
const CANONICAL: Record<16 | 32, RegExp> = {
  16: /^[A-Za-z0-9_-]{21}[AQgw]$/,
  32: /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/,
};

/** String keys to slots, binary where the key allows it. */
export class KeyIndex {
  private keys: Uint32Array;
  private table: Int32Array;
  // 32 - log2(table size): the table index is the top bits of the mixed hash.
  private shift: number;
  private used = 0;
  private tombstones = 0;
  private readonly words: number;
  private readonly canonical: RegExp;
  // Other keys, both ways (rare: ids the library did not make, e.g. a test's 'id-1').
  private readonly other = new Map<string, number>();
  private readonly otherKey = new Map<number, string>();
  private readonly scratch: Buffer;
  private readonly scratchWords: Uint32Array;

  /**
   * @param bytes - size of the binary form of a usual key: 32 (SHA-256 ids) or 16 (family ids)
   * @param capacity - initial number of slots
   */
  constructor(
    private readonly bytes: 16 | 32,
    capacity: number,
  ) {
    this.words = bytes / 4;
    this.canonical = CANONICAL[bytes];
    this.keys = new Uint32Array(capacity * this.words);
    this.table = new Int32Array(tableSizeFor(capacity));
    this.shift = 32 - Math.log2(this.table.length);
    this.scratch = Buffer.alloc(bytes);
    this.scratchWords = new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, this.words);
  }

  /** Make room for slots below `capacity`. */
  grow(capacity: number): void {
    if (capacity * this.words <= this.keys.length) return;
    const keys = new Uint32Array(capacity * this.words);
    keys.set(this.keys);
    this.keys = keys;
  }

  /** The slot of `key`, or -1. */
  get(key: string): number {
    if (!this.toScratch(key)) return this.other.get(key) ?? -1;
    const at = this.locate();
    return at === -1 ? -1 : (this.table[at] as number) - 1;
  }

  /** Remember `key` → `slot`; the key must not be present and `slot` must be below the capacity. */
  set(key: string, slot: number): void {
    if (!this.toScratch(key)) {
      this.other.set(key, slot);
      this.otherKey.set(slot, key);
      return;
    }
    this.keys.set(this.scratchWords, slot * this.words);
    if ((this.used + this.tombstones + 1) * 2 > this.table.length) this.rehash();
    this.insert(slot);
    this.used++;
  }

  /** Forget the key of `slot`. */
  delete(slot: number): void {
    const other = this.otherKey.get(slot);
    if (other !== undefined) {
      this.otherKey.delete(slot);
      this.other.delete(other);
      return;
    }
    const mask = this.table.length - 1;
    for (let i = this.hashOf(this.keys, slot * this.words) >>> this.shift; ; i = (i + 1) & mask) {
      const entry = this.table[i] as number;
      if (entry === EMPTY) return;
      if (entry === slot + 1) {
        this.table[i] = TOMBSTONE;
        this.used--;
        this.tombstones++;
        return;
      }
    }
  }

  /** The key of `slot` as it was given. */
  keyOf(slot: number): string {
    const other = this.otherKey.get(slot);
    if (other !== undefined) return other;
    const words = this.keys.subarray(slot * this.words, (slot + 1) * this.words);
    return Buffer.from(words.buffer, words.byteOffset, this.bytes).toString('base64url');
  }

  // Decode a canonical key into the scratch buffer; false for any other string.
  private toScratch(key: string): boolean {
    if (key.length !== (this.bytes === 32 ? 43 : 22) || !this.canonical.test(key)) return false;
    this.scratch.write(key, 'base64url');
    return true;
  }

  // Fibonacci hashing (the top bits of a multiply) of the first two words: the keys are
  // hashes or random, but a caller may choose them, so their bits are mixed, not trusted.
  private hashOf(words: Uint32Array, offset: number): number {
    return Math.imul((words[offset] as number) ^ Math.imul(words[offset + 1] as number, 0x85ebca6b), 0x9e3779b1) >>> 0;
  }

  // The table index holding the scratch key, or -1.
  private locate(): number {
    const mask = this.table.length - 1;
    const w = this.words;
    for (let i = this.hashOf(this.scratchWords, 0) >>> this.shift; ; i = (i + 1) & mask) {
      const entry = this.table[i] as number;
      if (entry === EMPTY) return -1;
      if (entry !== TOMBSTONE) {
        const o = (entry - 1) * w;
        let same = true;
        for (let j = 0; j < w; j++) {
          if (this.keys[o + j] !== this.scratchWords[j]) {
            same = false;
            break;
          }
        }
        if (same) return i;
      }
    }
  }

  private insert(slot: number): void {
    const mask = this.table.length - 1;
    for (let i = this.hashOf(this.keys, slot * this.words) >>> this.shift; ; i = (i + 1) & mask) {
      const entry = this.table[i] as number;
      if (entry === EMPTY || entry === TOMBSTONE) {
        if (entry === TOMBSTONE) this.tombstones--;
        this.table[i] = slot + 1;
        return;
      }
    }
  }

  // Rebuild at a load of at most 1/4 (tombstones dropped), so inserts stay short probes.
  private rehash(): void {
    const old = this.table;
    this.table = new Int32Array(tableSizeFor(this.used * 2 + 2));
    this.shift = 32 - Math.log2(this.table.length);
    this.tombstones = 0;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i] as number;
      if (entry > 0) this.insert(entry - 1);
    }
  }
}

/** A power of two with room for `entries` at a load of at most 1/2. */
function tableSizeFor(entries: number): number {
  let size = 16;
  while (size < entries * 2) size *= 2;
  return size;
}
