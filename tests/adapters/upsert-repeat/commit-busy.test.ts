/**
 * journal_mode=DELETE (a configured pragma): COMMIT needs the file's EXCLUSIVE lock, which another connection's open
 * read holds off. The general path retries the busy COMMIT on timers (busyTimeoutMs) and writes; the fast path rolls
 * back and throws SQLITE_BUSY at once.
 */
import Database from "better-sqlite3";
import { expect, test } from "vitest";
import { sqliteConfigs } from "../../support/sqlite-file.js";
import { compare } from "./compare.js";

const sqlite = sqliteConfigs("review-busy-");
const SETUP =
  "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER); INSERT INTO t VALUES (100, 'x', 0)";

test("a reader holding SHARED for 100 ms: both paths wait and write", async () => {
  const readers: Database.Database[] = [];
  const { fast, general } = await compare(
    sqlite,
    SETUP,
    async (s) => {
      await s.execute("PRAGMA journal_mode = DELETE");
      await s.upsert("t", [{ id: 1, name: "a", qty: 1 }], { on: ["id"] });
    },
    async (s) => {
      // Another connection (another process, say) reads: BEGIN + SELECT keeps its SHARED lock until it ends.
      const path = (s.conn as { handle: { db: Database.Database } }).handle.db.name;
      const reader = new Database(path);
      readers.push(reader);
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM t").get();
      setTimeout(() => reader.exec("COMMIT"), 100);
      return s.upsert("t", [{ id: 2, name: "b", qty: 2 }], { on: ["id"] });
    },
    { busyTimeoutMs: 3000, pragmas: { journal_mode: "DELETE" } },
  );
  for (const r of readers) r.close();
  expect(fast.fastCalls.length).toBe(1);
  expect(general.error).toBeUndefined();
  expect(fast.error).toBeUndefined();
  expect(fast.table).toEqual(general.table);
});
