/**
 * Per-connection bookkeeping of named prepared statements, shared by the pg and postgres.js adapters.
 *
 * A bounded LRU keyed by SQL text. The hot path (the same statement again) costs one Map lookup and no write: the
 * recency of the most recent hit is tracked by reference instead of by re-inserting into the Map.
 */
export interface PreparedStatement {
  /** Server-side statement name. */
  readonly name: string;
  /** Column names from the first execution, reused for every later result (no per-query allocation). */
  columns: string[] | undefined;
}

let nextId = 0;

export class StatementCache {
  readonly #map = new Map<string, PreparedStatement>();
  readonly #capacity: number;
  #last: string | undefined;
  /** Names evicted but not yet deallocated on the server. */
  evicted: string[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The statement for `text`, creating (and possibly evicting the least recently used) when new. */
  get(text: string): PreparedStatement {
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
    if (this.#map.size >= this.#capacity) {
      const oldest = this.#map.keys().next().value as string;
      const entry = this.#map.get(oldest) as PreparedStatement;
      this.#map.delete(oldest);
      this.evicted.push(entry.name);
    }
    const created: PreparedStatement = { name: `sqlspec_${(nextId++).toString(36)}`, columns: undefined };
    this.#map.set(text, created);
    this.#last = text;
    return created;
  }

  /** Whether `text` is cached (no recency change). */
  has(text: string): boolean {
    return this.#map.has(text);
  }

  /** Forgets a statement whose Parse failed, so a later attempt parses it again under a new name. */
  delete(text: string): void {
    this.#map.delete(text);
    if (this.#last === text) this.#last = undefined;
  }

  clear(): void {
    this.#map.clear();
    this.#last = undefined;
    this.evicted = [];
  }
}
