/**
 * SQLite re-prepares a cached statement by itself when another connection changed the schema (SQLITE_SCHEMA): a
 * `SELECT *` cached on one pooled connection then returns the new column list. The adapter's row plan (column
 * names, declared-type conversions) must follow, whoever ran the DDL: a connection of this pool, another config on
 * the file, another process.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs("sqlspec-sqlite-schema-");

type Alter = (path: string, db: SqliteConfig, ddl: string) => Promise<void>;
const alterers: [string, Alter][] = [
  ["another connection of the same pool", (_, db, ddl) => db.withSession((s) => s.executeScript(ddl)).then(() => {})],
  [
    "another config on the file",
    async (path, _, ddl) => {
      const other = new SqliteConfig({ poolConfig: { database: path } });
      try {
        await other.withSession((s) => s.executeScript(ddl));
      } finally {
        await other.close();
      }
    },
  ],
  [
    "another process (a plain better-sqlite3 handle)",
    async (path, _, ddl) => {
      const other = new Database(path);
      try {
        other.exec(ddl);
      } finally {
        other.close();
      }
    },
  ],
];

describe("sqlite: a statement cached before another connection changed the schema", () => {
  test.each(alterers)(
    "ALTER TABLE by %s: SELECT * returns the new columns, converted by their declared types",
    async (_, alter) => {
      const { path, db } = await sqlite.file(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO t VALUES (1, 'a')",
      );
      const a = await db.provideSession();
      try {
        const before = await a.execute("SELECT * FROM t");
        expect(before.columnNames).toEqual(["id", "x"]);
        const empty = await a.execute("SELECT * FROM t WHERE id = ?", [99]);
        expect(empty.columnNames).toEqual(["id", "x"]);
        await alter(path, db, "ALTER TABLE t ADD COLUMN flag BOOLEAN NOT NULL DEFAULT 1");
        const after = await a.execute("SELECT * FROM t");
        expect(after.columnNames).toEqual(["id", "x", "flag"]);
        expect(after.data).toEqual([{ id: 1, x: "a", flag: true }]);
        // No row to show the new shape: the column list still follows the schema.
        const none = await a.execute("SELECT * FROM t WHERE id = ?", [99]);
        expect(none.columnNames).toEqual(["id", "x", "flag"]);
        // A rename keeps the column count.
        await alter(path, db, "ALTER TABLE t RENAME COLUMN flag TO enabled");
        const renamed = await a.execute("SELECT * FROM t");
        expect(renamed.columnNames).toEqual(["id", "x", "enabled"]);
        expect(renamed.data).toEqual([{ id: 1, x: "a", enabled: true }]);
      } finally {
        await a.release();
      }
    },
  );
});

describe("sqlite: a table recreated with the same column names and other declared types", () => {
  test.each(alterers)("by %s: a cached SELECT * converts by the new declared types", async (_, alter) => {
    const { path, db } = await sqlite.file(
      `CREATE TABLE ev (id INTEGER PRIMARY KEY, done BOOLEAN, at TEXT, meta TEXT);
       INSERT INTO ev VALUES (1, 1, '2024-01-01 10:00:00', '{"v":1}')`,
    );
    const a = await db.provideSession();
    try {
      expect((await a.execute("SELECT * FROM ev")).data).toEqual([
        { id: 1, done: true, at: "2024-01-01 10:00:00", meta: '{"v":1}' },
      ]);
      await alter(
        path,
        db,
        `ALTER TABLE ev RENAME TO ev_old;
         CREATE TABLE ev (id INTEGER PRIMARY KEY, done INTEGER, at TIMESTAMP, meta JSON);
         INSERT INTO ev SELECT id, 1, at, meta FROM ev_old; DROP TABLE ev_old`,
      );
      // A connection outside this process is noticed through the schema cookie, read at most once a millisecond.
      await new Promise((r) => setTimeout(r, 5));
      const after = await a.execute("SELECT * FROM ev");
      expect(after.data).toEqual([{ id: 1, done: 1, at: new Date("2024-01-01T10:00:00Z"), meta: { v: 1 } }]);
    } finally {
      await a.release();
    }
  });
});

describe("sqlite: cached statements on every pooled connection after another connection's DDL", () => {
  test.each(alterers)(
    "by %s: RETURNING * and SELECT * on both pooled connections follow ADD COLUMN, then DROP + CREATE",
    async (_, alter) => {
      const { path, db } = await sqlite.file("CREATE TABLE r (id INTEGER PRIMARY KEY, a TEXT)", { maxSize: 3 });
      const insert = "INSERT INTO r (id) VALUES (?) RETURNING *";
      // Two sessions at once: each pooled connection caches both statements (a third is left for the DDL).
      const [a, b] = [await db.provideSession(), await db.provideSession()];
      try {
        expect(a.conn).not.toBe(b.conn);
        expect((await a.execute(insert, [1])).data).toEqual([{ id: 1, a: null }]);
        expect((await b.execute(insert, [2])).data).toEqual([{ id: 2, a: null }]);
        for (const s of [a, b])
          expect((await s.execute("SELECT * FROM r WHERE id = ?", [1])).columnNames).toEqual(["id", "a"]);

        await alter(path, db, "ALTER TABLE r ADD COLUMN on_ BOOLEAN NOT NULL DEFAULT 1");
        expect((await a.execute(insert, [3])).data).toEqual([{ id: 3, a: null, on_: true }]);
        expect((await b.execute(insert, [4])).data).toEqual([{ id: 4, a: null, on_: true }]);
        for (const s of [a, b]) {
          expect((await s.execute("SELECT * FROM r WHERE id = ?", [1])).data).toEqual([{ id: 1, a: null, on_: true }]);
        }

        // Recreated with a column fewer and others renamed and retyped.
        await alter(
          path,
          db,
          "DROP TABLE r; CREATE TABLE r (id INTEGER PRIMARY KEY, at TIMESTAMP); INSERT INTO r VALUES (1, '2024-01-01 00:00:00')",
        );
        await new Promise((r) => setTimeout(r, 5));
        for (const s of [a, b]) {
          const after = await s.execute("SELECT * FROM r WHERE id = ?", [1]);
          expect(after.columnNames).toEqual(["id", "at"]);
          expect(after.data).toEqual([{ id: 1, at: new Date("2024-01-01T00:00:00Z") }]);
          const none = await s.execute("SELECT * FROM r WHERE id = ?", [99]);
          expect(none.columnNames).toEqual(["id", "at"]);
        }
        expect((await a.execute(insert, [5])).data).toEqual([{ id: 5, at: null }]);
        expect((await b.execute(insert, [6])).data).toEqual([{ id: 6, at: null }]);
      } finally {
        await a.release();
        await b.release();
      }
    },
  );
});
