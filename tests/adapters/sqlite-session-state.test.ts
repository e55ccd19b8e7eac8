/**
 * SQLite session state: per-connection pragmas a session set do not outlive it on the shared `:memory:` handle, and
 * a statement that is not INSERT/UPDATE/DELETE/REPLACE reports no rows affected (sqlite3_changes() still holds the
 * last DML's count).
 */
import { describe, expect, test } from "vitest";
import { sqliteConfigs } from "../support/sqlite-file.js";

const { memory } = sqliteConfigs();

describe("sqlite :memory:: pragmas a session assigned are restored on release", () => {
  test("query_only, foreign_keys, defer_foreign_keys, recursive_triggers, busy_timeout", async () => {
    const db = memory();
    const names = ["query_only", "foreign_keys", "defer_foreign_keys", "recursive_triggers", "busy_timeout"];
    const read = (s: Awaited<ReturnType<typeof db.provideSession>>) =>
      Promise.all(names.map((n) => s.selectValue(`PRAGMA ${n}`)));
    const before = await db.withSession(async (s) => {
      await s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      return read(s);
    });
    await db.withSession(async (s) => {
      await s.execute("PRAGMA foreign_keys = OFF");
      await s.execute("PRAGMA defer_foreign_keys = ON");
      await s.execute("PRAGMA recursive_triggers = ON");
      await s.execute("PRAGMA busy_timeout = 1234");
      await s.execute("PRAGMA query_only = ON");
    });
    await db.withSession(async (s) => {
      expect(await read(s)).toEqual(before);
      const r = await s.execute("INSERT INTO t VALUES (1, 'x')");
      expect(r.rowsAffected).toBe(1);
    });
  });
});

describe("sqlite: rowsAffected of a statement that is not DML", () => {
  test("PRAGMA and DDL after an UPDATE report 0, not the UPDATE's count", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)");
      await s.execute("INSERT INTO u VALUES (1, 'a'), (2, 'a')");
      expect((await s.execute("UPDATE u SET v = 'b'")).rowsAffected).toBe(2);
      const pragma = await s.execute("PRAGMA journal_mode = MEMORY");
      expect(pragma.rowsAffected).toBe(0);
      expect(pragma.data).toEqual([{ journal_mode: "memory" }]);
      expect((await s.execute("UPDATE u SET v = 'c'")).rowsAffected).toBe(2);
      expect((await s.execute("PRAGMA user_version = 3")).rowsAffected).toBe(0);
      expect((await s.execute("UPDATE u SET v = 'd'")).rowsAffected).toBe(2);
      expect((await s.execute("CREATE INDEX u_v ON u (v)")).rowsAffected).toBe(0);
    });
  });
});
