/**
 * A map that keeps at most `capacity` entries: storing one more drops the least recently used (read or stored). For
 * caches of per-caller values, whose number is set by callers and so must be bounded.
 */
export class LruMap<K, V> {
  // A Map iterates in insertion order: an entry is moved to the end whenever it is used, so the first is the oldest.
  private readonly entries = new Map<K, V>();

  /** @param capacity the most entries kept; at least 1. */
  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as just used; undefined when absent. */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
