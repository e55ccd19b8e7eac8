/**
 * The embedded adapters' per-connection statement caches (SQLite, DuckDB) are bounded by statementCacheSize and evict
 * the least recently used statement: what was used last stays prepared, and an evicted statement prepares again and
 * answers correctly.
 */
import { describe, expect, test } from "vitest";
import { DuckdbConfig, type DuckdbConnection } from "../../src/adapters/duckdb/index.js";
import { SqliteConfig, type SqliteConnection } from "../../src/adapters/sqlite/index.js";

const texts = ["SELECT ? + 1 AS v", "SELECT ? + 2 AS v", "SELECT ? + 3 AS v"];

describe.each([
  [
    "sqlite",
    () => new SqliteConfig({ poolConfig: { database: ":memory:" }, statementConfig: { statementCacheSize: 2 } }),
    (c: unknown) => (c as SqliteConnection).handle.statements,
  ],
  [
    "duckdb",
    () => new DuckdbConfig({ poolConfig: { database: ":memory:" }, statementConfig: { statementCacheSize: 2 } }),
    (c: unknown) => (c as DuckdbConnection).statements,
  ],
] as const)("%s: statementCacheSize 2", (_, make, cacheOf) => {
  test("keeps the two most recently used statements; an evicted one prepares again", async () => {
    const db = make();
    try {
      await db.withSession(async (s) => {
        const cache = cacheOf(s.conn) as Map<string, unknown>;
        expect(Number(await s.selectValue(texts[0] as string, [10]))).toBe(11);
        expect(Number(await s.selectValue(texts[1] as string, [10]))).toBe(12);
        // Touch the first again: the second is now the least recently used.
        expect(Number(await s.selectValue(texts[0] as string, [20]))).toBe(21);
        expect(Number(await s.selectValue(texts[2] as string, [10]))).toBe(13);
        expect([...cache.keys()].filter((k) => texts.includes(k)).sort()).toEqual([texts[0], texts[2]]);
        expect(cache.size).toBeLessThanOrEqual(2);
        expect(Number(await s.selectValue(texts[1] as string, [30]))).toBe(32);
        expect([...cache.keys()].filter((k) => texts.includes(k)).sort()).toEqual([texts[1], texts[2]]);
      });
    } finally {
      await db.close();
    }
  });
});
