/**
 * Per-connection bookkeeping of named prepared statements, shared by the pg and postgres.js adapters.
 *
 * A bounded LRU keyed by SQL text, by count and by the text's total size (the server's memory for a statement grows
 * with it). The hot path (the same statement again) costs one Map lookup and no write: the
 * recency of the most recent hit is tracked by reference instead of by re-inserting into the Map.
 */
export interface PreparedStatement {
  /** Server-side statement name. */
  readonly name: string;
  /** Column names from the first execution, reused for every later result (no per-query allocation). */
  columns: string[] | undefined;
}

let nextId = 0;

/** Default text budget per connection (characters of SQL). */
export const DEFAULT_STATEMENT_CACHE_BYTES = 1024 * 1024;

export class StatementCache {
  readonly #map = new Map<string, PreparedStatement>();
  readonly #capacity: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #last: string | undefined;
  /** Names evicted but not yet deallocated on the server. */
  evicted: string[] = [];

  constructor(capacity: number, maxBytes = DEFAULT_STATEMENT_CACHE_BYTES) {
    this.#capacity = capacity;
    this.#maxBytes = maxBytes;
  }

  /** Whether a statement of this text may be kept at all (one above a quarter of the budget runs unnamed). */
  static fits(text: string, maxBytes: number): boolean {
    return text.length <= maxBytes / 4;
  }

  /** Characters of SQL text held. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  /**
   * The statement for `text`, creating (and evicting the least recently used past the count or byte bound) when new;
   * undefined when the text is too large to keep (run it unnamed).
   */
  get(text: string): PreparedStatement | undefined {
    const hit = this.#map.get(text);
    if (hit !== undefined) {
      if (this.#last !== text) {
        // Move to the back: Map iteration order is insertion order, so the front is the least recently used.
        this.#map.delete(text);
        this.#map.set(text, hit);
        this.#last = text;
      }
      return hit;
    }
    if (!StatementCache.fits(text, this.#maxBytes)) return undefined;
    while (this.#map.size > 0 && (this.#map.size >= this.#capacity || this.#bytes + text.length > this.#maxBytes)) {
      const oldest = this.#map.keys().next().value as string;
      const entry = this.#map.get(oldest) as PreparedStatement;
      this.#map.delete(oldest);
      this.#bytes -= oldest.length;
      this.evicted.push(entry.name);
    }
    const created: PreparedStatement = { name: `sqlspec_${(nextId++).toString(36)}`, columns: undefined };
    this.#map.set(text, created);
    this.#bytes += text.length;
    this.#last = text;
    return created;
  }

  /** Whether `text` is cached (no recency change). */
  has(text: string): boolean {
    return this.#map.has(text);
  }

  /** Forgets a statement whose Parse failed, so a later attempt parses it again under a new name. */
  delete(text: string): void {
    if (this.#map.delete(text)) this.#bytes -= text.length;
    if (this.#last === text) this.#last = undefined;
  }

  /** Every statement is to be closed on the server before the next use (a schema change made them stale). */
  evictAll(): void {
    for (const entry of this.#map.values()) this.evicted.push(entry.name);
    this.#map.clear();
    this.#bytes = 0;
    this.#last = undefined;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
    this.#last = undefined;
    this.evicted = [];
  }
}
