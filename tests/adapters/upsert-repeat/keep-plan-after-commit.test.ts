/**
 * An upsert that committed resolves: what it keeps for its repeats afterwards (the plan, read from the catalog cache)
 * must never fail it, even when DDL elsewhere lands right after its COMMIT and drops the cache.
 */
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { dump } from "./compare.js";

const sqlite = sqliteConfigs("review-keep-");
const TABLE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)";
const rows = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `n${from + i}`, qty: i }));

test("another process's DDL landing right after the COMMIT (simulated at the adapter): the committed upsert resolves", async () => {
  const Database = (await import("better-sqlite3")).default;
  const { db, path } = await sqlite.file(TABLE, { maxSize: 1 });
  const other = new Database(path);
  const out = await db.withSession(async (s) => {
    const adapter = s.adapter as unknown as { query: (...a: unknown[]) => Promise<unknown> };
    const query = adapter.query;
    adapter.query = function (this: unknown, ...a: unknown[]) {
      const p = query.apply(this, a);
      if (a[1] === "COMMIT") {
        return p.then((r) => {
          // Another process alters the table the moment the upsert's transaction is committed; >1 ms later the
          // session's next catalog read sees the new schema cookie.
          other.exec("ALTER TABLE t DROP COLUMN qty");
          const until = performance.now() + 3;
          while (performance.now() < until);
          return r;
        });
      }
      return p;
    };
    try {
      return await s.upsert("t", rows(1, 3), { on: ["id"] }).then(
        (r) => `ok ${r.rowsAffected}`,
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      );
    } finally {
      adapter.query = query;
    }
  });
  other.close();
  // The rows were committed (before the ALTER).
  expect(dump(path).length).toBe(3);
  expect(out).toBe("ok 3");
});
