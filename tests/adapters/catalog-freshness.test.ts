/**
 * Review 13b: upsert decisions taken from a catalog that did not describe the target table, each reproduced before
 * its fix: SQLite drops its per-pool catalog cache when the schema cookie moves (DDL by another connection or
 * process), DuckDB reads the current database's catalog only (an ATTACHed one may hold a table of the same name).
 */
import { describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { CardinalityViolationError, NotNullViolationError } from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs("sqlspec-review13b-");

describe("sqlite: the per-pool catalog cache is not refreshed after DDL by another connection", () => {
  test("key made NOCASE elsewhere: 'a' and 'A' are merged silently instead of refused", async () => {
    const { path, db: a } = await sqlite.file("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)");
    const b = sqlite.config({ poolConfig: { database: path } });
    await a.withSession((s) => s.upsert("t", [{ k: "x", v: "1" }], { on: ["k"] }));
    await b.withSession((s) =>
      s.executeScript("DROP TABLE t; CREATE TABLE t (k TEXT COLLATE NOCASE PRIMARY KEY, v TEXT)"),
    );
    const rows = [
      { k: "a", v: "lower" },
      { k: "A", v: "upper" },
    ];
    // A config that never cached the table refuses the batch:
    expect(await b.withSession((s) => s.upsert("t", rows, { on: ["k"] })).catch((e: unknown) => e)).toBeInstanceOf(
      CardinalityViolationError,
    );
    // The config that cached it: observed rowsAffected 2 and one row {k: 'a', v: 'upper'}.
    const err = await a.withSession((s) => s.upsert("t", rows, { on: ["k"] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardinalityViolationError);
    expect(await a.withSession((s) => s.selectValue("SELECT count(*) FROM t"))).toBe(0);
  });

  test("key made INTEGER PRIMARY KEY elsewhere: a NULL key silently takes a new rowid", async () => {
    const { path, db: a } = await sqlite.file("CREATE TABLE u (id INT PRIMARY KEY, v TEXT)");
    const b = sqlite.config({ poolConfig: { database: path } });
    await a.withSession((s) => s.upsert("u", [{ id: 1, v: "1" }], { on: ["id"] }));
    await b.withSession((s) => s.executeScript("DROP TABLE u; CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)"));
    expect(
      await b.withSession((s) => s.upsert("u", [{ id: null, v: "n" }], { on: ["id"] })).catch((e: unknown) => e),
    ).toBeInstanceOf(NotNullViolationError);
    const err = await a
      .withSession((s) => s.upsert("u", [{ id: null, v: "n" }], { on: ["id"] }))
      .catch((e: unknown) => e);
    // Observed: rowsAffected 1, row {id: 1, v: 'n'} written.
    expect(err).toBeInstanceOf(NotNullViolationError);
    expect(await a.withSession((s) => s.selectValue("SELECT count(*) FROM u"))).toBe(0);
  });
});

describe("duckdb: a table of the same name in an ATTACHed database", () => {
  test("upsert into main's t fails once db2.main.t exists (columns/keys of both tables are read)", async () => {
    const duck = new DuckdbConfig();
    try {
      await duck.withSession(async (s) => {
        await s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)");
        await s.upsert("t", [{ id: 1, a: "x" }], { on: ["id"] });
        await s.execute("ATTACH ':memory:' AS db2");
        await s.execute("CREATE TABLE db2.main.t (code VARCHAR PRIMARY KEY, b TEXT)");
        // Observed: SQLParsingError 'DuckDB binder error: Table "t" does not have a column named "[redacted]"'.
        await s.upsert("t", [{ id: 2, a: "y" }], { on: ["id"] });
        expect(await s.select("SELECT * FROM t ORDER BY id")).toEqual([
          { id: 1, a: "x" },
          { id: 2, a: "y" },
        ]);
      });
    } finally {
      await duck.close();
    }
  });
});

describe("duckdb: collations read under the connection's own settings", () => {
  test("after SET default_collation = 'nocase' keys compare as DuckDB then does, on that connection and the next", async () => {
    const duck = new DuckdbConfig({ poolConfig: { maxSize: 1 } });
    try {
      await duck.withSession(async (s) => {
        await s.execute("CREATE TABLE bin (k VARCHAR PRIMARY KEY, v TEXT)");
        await s.upsert("bin", [{ k: "z", v: "0" }], { on: ["k"] });
        await s.execute("SET default_collation = 'nocase'");
        const rows = [
          { k: "b", v: "1" },
          { k: "B", v: "2" },
        ];
        await s.upsert("bin", rows, { on: ["k"], duplicates: "last-wins" });
        expect(await s.select("SELECT k, v FROM bin WHERE v <> '0'")).toEqual([{ k: "B", v: "2" }]);
      });
      // The SET connection was closed on release; default_collation is a global setting, so the next connection
      // compares without case too (its collations are probed again): one key, the last row kept.
      await duck.withSession(async (s) => {
        await s.execute("DELETE FROM bin");
        await s.upsert(
          "bin",
          [
            { k: "c", v: "1" },
            { k: "C", v: "2" },
          ],
          { on: ["k"], duplicates: "last-wins" },
        );
        expect(await s.select("SELECT k, v FROM bin")).toEqual([{ k: "C", v: "2" }]);
      });
    } finally {
      await duck.close();
    }
  });
});
