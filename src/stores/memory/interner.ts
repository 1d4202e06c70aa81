/**
 * Reference-counted interning: many records share one copy of each client id, user id, kind
 * and scope set, and refer to it by a small integer. A value is dropped when its last record
 * goes, so a store that churns through users does not keep them all.
 * @packageDocumentation
 */

/** Values under string keys, handed out as indices and counted. */
export class Interner<T> {
  private readonly index = new Map<string, number>();
  private readonly values: (T | undefined)[] = [];
  private readonly keys: (string | undefined)[] = [];
  private counts = new Int32Array(16);
  private readonly free: number[] = [];

  /** The index of `key`'s value (made by `make` the first time), counted once more. */
  acquire(key: string, make: (key: string) => T): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.free.pop() ?? this.values.length;
      if (i >= this.counts.length) {
        const counts = new Int32Array(this.counts.length * 2);
        counts.set(this.counts);
        this.counts = counts;
      }
      this.index.set(key, i);
      this.values[i] = make(key);
      this.keys[i] = key;
    }
    this.counts[i] = (this.counts[i] as number) + 1;
    return i;
  }

  /** One reference fewer; the value goes with the last. */
  release(i: number): void {
    const left = (this.counts[i] as number) - 1;
    this.counts[i] = left;
    if (left > 0) return;
    this.index.delete(this.keys[i] as string);
    this.values[i] = undefined;
    this.keys[i] = undefined;
    this.free.push(i);
  }

  /** The value at `i`. */
  value(i: number): T {
    return this.values[i] as T;
  }
}
