/**
 * A least-recently-used cache with a byte budget, for decoded (and possibly reduced) images. It
 * never holds more than its budget: an entry larger than the whole budget is not stored at all.
 */
export interface CacheStats {
  readonly bytes: number;
  readonly peakBytes: number;
  readonly budget: number;
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

export class ByteBudgetCache<V> {
  // A Map iterates in insertion order: re-inserting on access keeps the oldest entry first.
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;
  private peakBytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly budget: number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, bytes: number): void {
    const existing = this.entries.get(key);
    if (existing) {
      this.entries.delete(key);
      this.bytes -= existing.bytes;
    }
    if (bytes > this.budget) return;
    while (this.bytes + bytes > this.budget) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.bytes -= this.entries.get(oldest.value)!.bytes;
      this.entries.delete(oldest.value);
      this.evictions++;
    }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.bytes);
  }

  stats(): CacheStats {
    return {
      bytes: this.bytes,
      peakBytes: this.peakBytes,
      budget: this.budget,
      entries: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }
}
