/**
 * A session released with a DatabaseConnectionError (what the pool's drain reports when a released session's
 * statements did not settle after being cancelled, or what the caller passes for a connection it saw break) hands
 * back a connection in an unknown state: SQLite and DuckDB discard it, as the server adapters do, and the next
 * session gets a fresh connection (no TEMP table of the old one).
 */
import { describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { DatabaseConnectionError } from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs("sqlspec-discard-");

describe("embedded adapters: a connection released as broken is discarded", () => {
  test("SQLite file pool", async () => {
    const { db } = await sqlite.file(undefined, { maxSize: 1 });
    const s = await db.provideSession();
    await s.execute("CREATE TEMP TABLE mark (x INTEGER)");
    await s.release(new DatabaseConnectionError("statements did not settle"));
    const left = await db.withSession((t) =>
      t.selectValue("SELECT count(*) FROM sqlite_temp_master WHERE name = 'mark'"),
    );
    expect(left).toBe(0);
  });

  test("DuckDB", async () => {
    const db = new DuckdbConfig({ poolConfig: { database: ":memory:", maxSize: 1 } });
    try {
      const s = await db.provideSession();
      await s.execute("CREATE TEMP TABLE mark (x INTEGER)");
      await s.release(new DatabaseConnectionError("statements did not settle"));
      const left = await db.withSession((t) =>
        t.selectValue("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'mark'"),
      );
      expect(Number(left)).toBe(0);
    } finally {
      await db.close();
    }
  });
});
