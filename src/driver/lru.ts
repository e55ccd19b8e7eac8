/**
 * Least-recently-used eviction for the embedded adapters' per-connection statement caches: each entry records the
 * connection's tick when last used, and a full cache drops the entry with the smallest one (a scan: caches are small,
 * and eviction only happens when a new statement is prepared, which costs far more).
 */

/** A cache entry: `used` is the owner's counter at its last use. */
export interface UsedEntry {
  used: number;
}

/** Removes the least recently used entry and returns it (for the caller to free), or undefined when `map` is empty. */
export function evictLeastRecentlyUsed<E extends UsedEntry>(map: Map<string, E>): E | undefined {
  let oldest: string | undefined;
  let entry: E | undefined;
  let min = Number.POSITIVE_INFINITY;
  for (const [k, v] of map) {
    if (v.used < min) {
      min = v.used;
      oldest = k;
      entry = v;
    }
  }
  if (oldest !== undefined) map.delete(oldest);
  return entry;
}
