/**
 * The better-sqlite3 adapter: the conformance suite on `:memory:` (one shared connection) and on a file (a pool),
 * then what is SQLite's own: a file database's defaults and pragmas, the int8 rule, dates in any process time zone,
 * values SQLite cannot store, and typed errors. Waiting for locks (the shared connection, the write lock, a file
 * locked elsewhere): sqlite-locking.test.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { importDriver } from "../../src/driver/dependencies.js";
import {
  DataError,
  ForeignKeyViolationError,
  InvalidColumnReferenceError,
  MissingDependencyError,
  ParameterError,
  SQLParsingError,
  sql,
  TransactionError,
} from "../../src/index.js";
import { runConformance } from "../conformance/suite.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const sqlite = sqliteConfigs();
const { config, path: file } = sqlite;
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

runConformance("sqlite", () => new SqliteConfig({ poolConfig: { database: ":memory:" } }));
const conformanceFile = file();
runConformance("sqlite_file", () => new SqliteConfig({ poolConfig: { database: conformanceFile } }));

describe("sqlite: a file database", () => {
  test("defaults to WAL and foreign keys; two concurrent writers are serialized, never SQLITE_BUSY", async () => {
    const db = config({ poolConfig: { database: file() } });
    await db.withSession(async (s) => {
      expect(await s.selectValue("PRAGMA journal_mode")).toBe("wal");
      expect(await s.selectValue("PRAGMA foreign_keys")).toBe(1);
      await s.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)");
      await s.execute("INSERT INTO c VALUES (1, 0)");
    });
    // Each writer reads, yields to the other, then writes: with BEGIN DEFERRED on two handles this is the classic
    // lock-upgrade deadlock (SQLITE_BUSY); BEGIN IMMEDIATE behind the write lock serializes them.
    const bump = () =>
      db.withSession((s) =>
        s.transaction(async (tx) => {
          const n = await tx.selectValue<number>("SELECT n FROM c WHERE id = 1");
          await later(10);
          await tx.execute("UPDATE c SET n = ? WHERE id = 1", [n + 1]);
        }),
      );
    await Promise.all(Array.from({ length: 6 }, bump));
    expect(await db.withSession((s) => s.selectValue("SELECT n FROM c WHERE id = 1"))).toBe(6);
  });

  test("readers run while a writer holds its transaction open, and see only committed data", async () => {
    const { db } = await sqlite.file("CREATE TABLE v (id INTEGER PRIMARY KEY); INSERT INTO v VALUES (1)");
    const writer = await db.provideSession();
    await writer.begin();
    await writer.execute("INSERT INTO v VALUES (2)");
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM v"))).toBe(1);
    await writer.commit();
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM v"))).toBe(2);
    await writer.release();
  });

  test("a changed PRAGMA does not leak to the next session (the connection is closed)", async () => {
    const db = config({ poolConfig: { database: file(), maxSize: 1 } });
    await db.withSession((s) => s.execute("PRAGMA foreign_keys = OFF"));
    expect(await db.withSession((s) => s.selectValue("PRAGMA foreign_keys"))).toBe(1);
  });

  test("pragmas from poolConfig apply to every connection; bad pragma names are refused", async () => {
    const db = config({ poolConfig: { database: file(), pragmas: { synchronous: "NORMAL", cache_size: -4000 } } });
    expect(await db.withSession((s) => s.selectValue("PRAGMA synchronous"))).toBe(1);
    expect(await db.withSession((s) => s.selectValue("PRAGMA cache_size"))).toBe(-4000);
    const bad = config({ poolConfig: { database: file(), pragmas: { "x; DROP TABLE t": 1 } } });
    await expect(bad.withSession((s) => s.selectValue("SELECT 1"))).rejects.toThrow(/invalid pragma name/);
  });
});

describe("sqlite: values", () => {
  test("INTEGER follows driverFeatures.int8; a REAL beyond 2^53 stays a number", async () => {
    const setup =
      "CREATE TABLE n (id INTEGER PRIMARY KEY, big INTEGER, r REAL); INSERT INTO n VALUES (1, 9007199254740993, 1e20)";
    const num = config();
    await num.withSession(async (s) => {
      await s.executeScript(setup);
      await expect(s.selectValue("SELECT big FROM n")).rejects.toBeInstanceOf(DataError);
      await expect(s.selectValue("SELECT big + 0 FROM n")).rejects.toBeInstanceOf(DataError);
      expect(await s.selectValue("SELECT r FROM n")).toBe(1e20);
      expect(await s.selectValue("SELECT r * 1 FROM n")).toBe(1e20);
      // RETURNING is read with safe integers (it cannot be re-run).
      await expect(s.execute("UPDATE n SET big = big RETURNING big")).rejects.toBeInstanceOf(DataError);
    });
    const big = config({ driverFeatures: { int8: "bigint" } });
    await big.withSession(async (s) => {
      await s.executeScript(setup);
      expect(await s.selectOne("SELECT id, big, r FROM n")).toEqual({ id: 1n, big: 9007199254740993n, r: 1e20 });
      const ins = await s.execute("INSERT INTO n (big) VALUES (?)", [-9223372036854775808n]);
      expect(ins.lastInsertId).toBe(2n);
      expect(await s.selectValue("SELECT big FROM n WHERE id = 2")).toBe(-9223372036854775808n);
    });
    const str = config({ driverFeatures: { int8: "string" } });
    await str.withSession(async (s) => {
      await s.executeScript(setup);
      expect(await s.selectOne("SELECT id, big FROM n")).toEqual({ id: "1", big: "9007199254740993" });
      const [rows] = await Promise.all([s.select("SELECT big FROM n")]);
      expect(rows).toEqual([{ big: "9007199254740993" }]);
    });
  });

  test("lastInsertId and rowsAffected come from the engine; an UPDATE reports no stale rowid", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE ids (id INTEGER PRIMARY KEY, v TEXT)");
      const a = await s.execute("INSERT INTO ids (v) VALUES (?), (?)", ["a", "b"]);
      expect(a.rowsAffected).toBe(2);
      expect(a.lastInsertId).toBe(2);
      const u = await s.execute("UPDATE ids SET v = 'c'");
      expect(u.rowsAffected).toBe(2);
      expect(u.lastInsertId).toBeUndefined();
      const d = await s.execute("DELETE FROM ids WHERE id = 1 RETURNING v");
      expect(d.rowsAffected).toBe(1);
      expect(d.data).toEqual([{ v: "c" }]);
    });
  });

  test("Dates are stored as UTC text and read back exactly whatever the process time zone", async () => {
    const tz = process.env.TZ;
    process.env.TZ = "Asia/Tokyo";
    try {
      await config().withSession(async (s) => {
        await s.execute("CREATE TABLE d (id INTEGER PRIMARY KEY, at DATETIME, day DATE)");
        const at = new Date("2024-03-01T00:30:00.250Z");
        await s.execute("INSERT INTO d VALUES (1, ?, '2024-03-01')", [at]);
        expect(await s.selectValue("SELECT CAST(at AS TEXT) FROM d")).toBe("2024-03-01 00:30:00.250");
        expect(await s.selectValue("SELECT datetime(at) FROM d")).toBe("2024-03-01 00:30:00");
        const row = await s.selectOne<{ at: Date; day: Date }>("SELECT at, day FROM d");
        expect(row.at.getTime()).toBe(at.getTime());
        expect(row.day.toISOString()).toBe("2024-03-01T00:00:00.000Z");
        await s.execute("INSERT INTO d VALUES (2, '2024-03-01T09:30:00+09:00', 'not a date')");
        const r2 = await s.selectOne<{ at: Date; day: unknown }>("SELECT at, day FROM d WHERE id = 2");
        expect(r2.at.toISOString()).toBe("2024-03-01T00:30:00.000Z");
        expect(r2.day).toBe("not a date");
      });
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  test("builders render for SQLite and run: booleans as 1/0, ON CONFLICT upsert", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, on_ BOOLEAN)");
      await s.execute(sql.insertInto("kv").values([{ k: "a", v: "1", on_: true }]));
      await s.execute(
        sql
          .upsert("kv", { dialect: "sqlite" })
          .values([{ k: "a", v: "2", on_: false }])
          .onConflict("k")
          .doUpdate(["v", "on_"]),
      );
      expect(await s.selectOne("SELECT v, on_ FROM kv")).toEqual({ v: "2", on_: false });
    });
  });

  test("upsert after DDL run behind sqlspec's back (another connection): a new column is written, the current unique keys decide", async () => {
    const path = file();
    const db = config({ poolConfig: { database: path } });
    const other = new Database(path);
    try {
      other.exec("CREATE TABLE up (id INTEGER PRIMARY KEY, name TEXT)");
      await db.withSession(async (s) => {
        // The pool caches the table's columns and unique keys.
        await s.upsert("up", [{ id: 1, name: "a" }], { on: ["id"] });
        other.exec("ALTER TABLE up ADD COLUMN note TEXT");
        await s.upsert("up", [{ id: 1, name: "b", note: "n" }], { on: ["id"] });
        expect(await s.select("SELECT id, name, note FROM up")).toEqual([{ id: 1, name: "b", note: "n" }]);
        // Cached again: (id) is the unique key.
        await s.upsert("up", [{ id: 1, name: "c", note: "n" }], { on: ["id"] });

        other.exec(
          "DROP TABLE up; CREATE TABLE up (id INTEGER NOT NULL, code TEXT NOT NULL UNIQUE, name TEXT); " +
            "INSERT INTO up VALUES (1, 'x', 'a')",
        );
        for (const n of [1, 500]) {
          const rows = Array.from({ length: n }, (_, i) => ({ id: i + 1, code: `y${i}`, name: "b" }));
          const err = (await s.upsert("up", rows, { on: ["id"] }).catch((e) => e)) as Error;
          expect(err).toBeInstanceOf(InvalidColumnReferenceError);
          expect(err.message).toContain("on (id) is not a unique key");
          expect(err.message).toContain("(code)");
          expect(await s.select("SELECT id, code, name FROM up")).toEqual([{ id: 1, code: "x", name: "a" }]);
        }
        // Inside the caller's transaction: only the upsert's own work is undone.
        await s.transaction(async () => {
          await s.execute("INSERT INTO up VALUES (2, 'z', 'kept')");
          const err = await s.upsert("up", [{ id: 1, code: "w", name: "b" }], { on: ["id"] }).catch((e) => e);
          expect(err).toBeInstanceOf(InvalidColumnReferenceError);
        });
        await s.upsert("up", [{ id: 3, code: "x", name: "c" }], { on: ["code"] });
        expect(await s.select("SELECT id, code, name FROM up ORDER BY id")).toEqual([
          { id: 2, code: "z", name: "kept" },
          { id: 3, code: "x", name: "c" },
        ]);
      });
    } finally {
      other.close();
    }
  });

  test("upsert rows in any key order, with values that need encoding in some chunks only, land as single inserts do", async () => {
    const db = config({ poolConfig: { database: ":memory:" } });
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE mix (id INTEGER PRIMARY KEY, flag INTEGER, at TEXT, note TEXT, data BLOB)");
      // 450 rows = seven 64-row chunks and a 2-row one: plain values only in the first three, a boolean / Date /
      // undefined in the fourth (row 250), a Buffer in the fifth (row 260), and rows listing their keys in another
      // order from row 400 (the seventh, after 16 plain rows, and the last).
      const rows = Array.from({ length: 450 }, (_, i) => {
        if (i >= 400) return { note: `n${i}`, data: null, at: "t", flag: i, id: i };
        if (i === 250) return { id: i, flag: true, at: new Date(Date.UTC(2024, 0, 2)), note: undefined, data: null };
        if (i === 260) return { id: i, flag: 1, at: "t", note: "b", data: Buffer.from([1, 2]) };
        return { id: i, flag: i, at: "t", note: `n${i}`, data: null };
      });
      const r = await s.upsert("mix", rows, { on: ["id"] });
      expect(r.rowsAffected).toBe(450);
      const got = await s.select<{ id: number; flag: number; at: string; note: string | null; data: Buffer | null }>(
        "SELECT id, flag, at, note, data FROM mix ORDER BY id",
      );
      expect(got).toHaveLength(450);
      expect(got[0]).toEqual({ id: 0, flag: 0, at: "t", note: "n0", data: null });
      expect(got[250]).toEqual({ id: 250, flag: 1, at: "2024-01-02 00:00:00.000", note: null, data: null });
      expect(got[260]?.data).toEqual(Buffer.from([1, 2]));
      expect(got[449]).toEqual({ id: 449, flag: 449, at: "t", note: "n449", data: null });
      // A bad value anywhere is a ParameterError naming its column and row, and nothing is written.
      const bad = rows.map((row, i) => (i === 420 ? { ...row, note: Symbol("x") } : { ...row, flag: -1 }));
      const err = (await s.upsert("mix", bad, { on: ["id"] }).catch((e) => e)) as Error;
      expect(err).toBeInstanceOf(ParameterError);
      expect(err.message).toContain('column "note" of row 420');
      expect(await s.selectValue("SELECT count(*) FROM mix WHERE flag = -1")).toBe(0);
    });
  });

  test("syntax errors are SQLParsingError; a failed transaction is never silently committed", async () => {
    await config().withSession(async (s) => {
      await expect(s.execute("SELECT FROM")).rejects.toBeInstanceOf(SQLParsingError);
      await expect(s.execute("SELECT * FROM missing_table")).rejects.toBeInstanceOf(SQLParsingError);
      await expect(s.commit()).rejects.toBeInstanceOf(TransactionError);
    });
  });
});

test("a missing better-sqlite3 raises MissingDependencyError naming it", async () => {
  const err = await importDriver(
    "better-sqlite3",
    "SqliteConfig",
    () => import(/* @vite-ignore */ `better-sqlite3-not-installed${""}`),
  ).catch((e) => e);
  expect(err).toBeInstanceOf(MissingDependencyError);
  expect(err.message).toContain("npm install better-sqlite3");
});

test("a readOnly transaction leaves a configured query_only as it found it, and is no setting change", async () => {
  const { path } = await sqlite.file("CREATE TABLE qo (id INTEGER)");
  const ro = config({ poolConfig: { database: path, pragmas: { query_only: true }, maxSize: 1 } });
  await ro.withSession(async (s) => {
    await s.transaction((tx) => tx.selectValue("SELECT count(*) FROM qo"), { readOnly: true });
    expect(await s.selectValue("PRAGMA query_only")).toBe(1);
    await expect(s.execute("INSERT INTO qo VALUES (1)")).rejects.toThrow(/read-only|readonly/);
  });
  const rw = config({ poolConfig: { database: path, maxSize: 1 } });
  const handles = new Set<unknown>();
  for (let i = 0; i < 2; i++) {
    await rw.withSession(async (s) => {
      handles.add((s.conn as { handle: unknown }).handle);
      await s.transaction((tx) => tx.selectValue("SELECT count(*) FROM qo"), { readOnly: true });
      expect(s.adapter.state(s.conn).settingsChanged).toBe(false);
      await s.execute("INSERT INTO qo VALUES (1)");
    });
  }
  // The connection was reused, not closed as one whose settings changed.
  expect(handles.size).toBe(1);
});

describe("sqlite: a failed COMMIT ends the transaction", () => {
  test.each([
    [":memory:", ":memory:"],
    ["a file", "file"],
  ])(
    "%s: a COMMIT refused by a deferred foreign key rolls back; the session is idle and the next statement autocommits",
    async (_, kind) => {
      const db = config({ poolConfig: { database: kind === "file" ? file() : ":memory:", acquireTimeoutMs: 500 } });
      await db.withSession((s) =>
        s.executeScript(
          "CREATE TABLE p (id INTEGER PRIMARY KEY); " +
            "CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED); " +
            "CREATE TABLE other (id INTEGER)",
        ),
      );
      await db.withSession(async (s) => {
        await s.begin();
        await s.execute("INSERT INTO c VALUES (1, 99)");
        const err = await s.commit().catch((e) => e);
        expect(err).toBeInstanceOf(ForeignKeyViolationError);
        expect(s.inTransaction).toBe(false);
        expect(s.adapter.state(s.conn).transaction).toBe("idle");
        // Another session is not kept waiting by a transaction that no longer exists.
        expect(await db.withSession((o) => o.selectValue("SELECT count(*) FROM c"))).toBe(0);
        expect((await s.execute("INSERT INTO other VALUES (1)")).rowsAffected).toBe(1);
      });
      expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM other"))).toBe(1);
      expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM c"))).toBe(0);
    },
  );
});

describe("sqlite: values SQLite cannot store faithfully raise ParameterError before any I/O", () => {
  test.each([
    ["a string with a lone surrogate", "a\uD800b", "v TEXT"],
    ["NaN", Number.NaN, "v REAL"],
  ])("%s: execute, upsert and loadRecords write nothing and name the parameter or column", async (_, bad, col) => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute(`CREATE TABLE bv (id INTEGER PRIMARY KEY, ${col}, k INTEGER NOT NULL DEFAULT 0)`);
      const exec = await s.execute("INSERT INTO bv (id, v) VALUES (?, ?)", [1, bad]).catch((e) => e);
      expect(exec).toBeInstanceOf(ParameterError);
      expect(exec.message).toContain("Parameter 2");
      for (const run of [
        () =>
          s.upsert(
            "bv",
            [
              { id: 2, v: 1 },
              { id: 3, v: bad },
            ],
            { on: ["id"] },
          ),
        () =>
          s.loadRecords("bv", [
            { id: 4, v: 1 },
            { id: 5, v: bad },
          ]),
      ]) {
        const err = await run().catch((e) => e);
        expect(err).toBeInstanceOf(ParameterError);
        expect(err.message).toMatch(/"v"|Parameter \d+/);
      }
      expect(await s.selectValue("SELECT count(*) FROM bv")).toBe(0);
    });
  });

  test("±Infinity is stored as REAL infinity and read back", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE inf (id INTEGER PRIMARY KEY, v REAL)");
      await s.execute("INSERT INTO inf VALUES (1, ?)", [Number.POSITIVE_INFINITY]);
      await s.upsert("inf", [{ id: 2, v: Number.NEGATIVE_INFINITY }], { on: ["id"] });
      await s.loadRecords("inf", [{ id: 3, v: Number.POSITIVE_INFINITY }]);
      expect((await s.select("SELECT v FROM inf ORDER BY id")).map((r) => r.v)).toEqual([
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
      ]);
    });
  });
});

describe("sqlite: loadRecords from an async iterable", () => {
  test("rows are inserted in slices inside one transaction; a bad row late in the source writes nothing", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE ai (id INTEGER PRIMARY KEY, v TEXT)");
      async function* source(n: number, bad?: number) {
        for (let i = 0; i < n; i++) yield { id: i, v: i === bad ? Number.NaN : `r${i}` };
      }
      const r = await s.loadRecords("ai", source(2500));
      expect(r.rowsAffected).toBe(2500);
      expect(await s.selectValue("SELECT count(*) FROM ai")).toBe(2500);
      await s.execute("DELETE FROM ai");
      const err = await s.loadRecords("ai", source(2500, 2400)).catch((e) => e);
      expect(err).toBeInstanceOf(ParameterError);
      expect(await s.selectValue("SELECT count(*) FROM ai")).toBe(0);
      expect(s.inTransaction).toBe(false);
    });
  });
});
