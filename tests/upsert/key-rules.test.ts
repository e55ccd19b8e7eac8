/**
 * Upsert keys compared as the engine compares them: a key column's collation (SQLite NOCASE/RTRIM, DuckDB
 * NOCASE/NOACCENT) decides which rows of one call are duplicates; a NULL in a NOT NULL key is refused before I/O.
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { CardinalityViolationError, NotNullViolationError, type Session } from "../../src/index.js";

const opened: SqliteConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
function memory(): SqliteConfig {
  const c = new SqliteConfig({ poolConfig: { database: ":memory:" } });
  opened.push(c);
  return c;
}

describe("sqlite upsert: duplicates by the key column's collation", () => {
  test("NOCASE: 'a' and 'A' are one key (CardinalityViolationError; last-wins keeps the last)", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE k (k TEXT COLLATE NOCASE PRIMARY KEY, v INTEGER)");
      await expect(
        s.upsert(
          "k",
          [
            { k: "a", v: 1 },
            { k: "A", v: 2 },
          ],
          { on: ["k"] },
        ),
      ).rejects.toBeInstanceOf(CardinalityViolationError);
      expect(await s.selectValue("SELECT count(*) FROM k")).toBe(0);
      const r = await s.upsert(
        "k",
        [
          { k: "a", v: 1 },
          { k: "b", v: 3 },
          { k: "A", v: 2 },
        ],
        { on: ["k"], duplicates: "last-wins" },
      );
      expect(r.rowsAffected).toBe(2);
      expect(await s.select("SELECT k, v FROM k ORDER BY k")).toEqual([
        { k: "A", v: 2 },
        { k: "b", v: 3 },
      ]);
      // NOCASE folds ASCII only, as SQLite does: 'é' and 'É' are two keys.
      await s.upsert(
        "k",
        [
          { k: "é", v: 4 },
          { k: "É", v: 5 },
        ],
        { on: ["k"] },
      );
      expect(await s.selectValue("SELECT count(*) FROM k")).toBe(4);
    });
  });

  test("RTRIM on a unique index: trailing spaces do not make another key", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, code TEXT, v INTEGER)");
      await s.execute("CREATE UNIQUE INDEX r_code ON r (code COLLATE RTRIM)");
      await expect(
        s.upsert(
          "r",
          [
            { code: "x", v: 1 },
            { code: "x  ", v: 2 },
          ],
          { on: ["code"] },
        ),
      ).rejects.toBeInstanceOf(CardinalityViolationError);
      expect(await s.selectValue("SELECT count(*) FROM r")).toBe(0);
    });
  });
});

describe("upsert: a NULL in a NOT NULL key column", () => {
  test("raises NotNullViolationError before any write (SQLite's INTEGER PRIMARY KEY would take a new rowid)", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE w (id INTEGER PRIMARY KEY, c0 INTEGER)");
      await s.execute("CREATE TABLE n (k TEXT NOT NULL UNIQUE, c0 INTEGER)");
      const err = await s
        .upsert(
          "w",
          [
            { id: 1, c0: 1 },
            { id: null, c0: 2 },
          ],
          { on: ["id"] },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotNullViolationError);
      expect((err as Error).message).toMatch(/"id".*row 1/);
      await expect(s.upsert("n", [{ k: undefined, c0: 1 }], { on: ["k"] })).rejects.toBeInstanceOf(
        NotNullViolationError,
      );
      expect(await s.selectValue("SELECT (SELECT count(*) FROM w) + (SELECT count(*) FROM n)")).toBe(0);
      // A nullable unique key keeps the engine's rule: NULLs are distinct, the row is inserted.
      await s.execute("CREATE TABLE u (k TEXT UNIQUE, c0 INTEGER)");
      expect((await s.upsert("u", [{ k: null, c0: 1 }], { on: ["k"] })).rowsAffected).toBe(1);
    });
  });
});

describe("duckdb upsert: duplicates by the key column's collation", () => {
  test("NOCASE: 'a' and 'A' are one key (DuckDB kept the first and dropped the other silently)", async () => {
    const db = new DuckdbConfig({ poolConfig: { database: ":memory:" } });
    try {
      await db.withSession(async (s) => {
        await s.execute("CREATE TABLE k (k VARCHAR COLLATE NOCASE PRIMARY KEY, v INTEGER)");
        await s.execute('CREATE TABLE "a b" ("Key ""x""" VARCHAR COLLATE NOCASE.NOACCENT UNIQUE, v INTEGER)');
        const rows = [
          { k: "a", v: 1 },
          { k: "A", v: 2 },
        ];
        await expect(s.upsert("k", rows, { on: ["k"] })).rejects.toBeInstanceOf(CardinalityViolationError);
        const r = await s.upsert("k", rows, { on: ["k"], duplicates: "last-wins" });
        expect(r.rowsAffected).toBe(1);
        expect(await s.select("SELECT k, v FROM k")).toEqual([{ k: "A", v: 2 }]);
        const accents = [
          { 'Key "x"': "Été", v: 1 },
          { 'Key "x"': "ete", v: 2 },
        ];
        await expect(s.upsert("a b", accents, { on: ['Key "x"'] })).rejects.toBeInstanceOf(CardinalityViolationError);
      });
    } finally {
      await db.close();
    }
  });
});

async function duckdb(fn: (s: Session) => Promise<void>): Promise<void> {
  const db = new DuckdbConfig({ poolConfig: { database: ":memory:" } });
  try {
    await db.withSession(fn);
  } finally {
    await db.close();
  }
}

const pair = [
  { k: "b", v: 1 },
  { k: "B", v: 2 },
];

describe("duckdb upsert: the key's collation as the engine applies it", () => {
  test("SET default_collation = 'nocase' folds a plain VARCHAR key (ON CONFLICT kept 'b' and dropped 'B' silently)", async () => {
    await duckdb(async (s) => {
      await s.execute("SET default_collation = 'nocase'");
      await s.execute("CREATE TABLE d (k VARCHAR PRIMARY KEY, v INTEGER)");
      await expect(s.upsert("d", pair, { on: ["k"] })).rejects.toBeInstanceOf(CardinalityViolationError);
      expect(await s.selectValue("SELECT count(*) FROM d")).toBe(0);
      await s.upsert("d", pair, { on: ["k"], duplicates: "last-wins" });
      expect(await s.select("SELECT k, v FROM d")).toEqual([{ k: "B", v: 2 }]);
    });
  });

  test("COLLATE written in a CHECK, a DEFAULT text or a column's name does not make a plain key fold", async () => {
    await duckdb(async (s) => {
      await s.execute(
        `CREATE TABLE c (k VARCHAR UNIQUE, v INTEGER CHECK (k COLLATE NOCASE <> 'x'),
           w VARCHAR DEFAULT ', k VARCHAR COLLATE NOCASE')`,
      );
      expect((await s.upsert("c", pair, { on: ["k"] })).rowsAffected).toBe(2);
      await s.execute(
        'CREATE TABLE n ("collate" VARCHAR COLLATE NOCASE UNIQUE, "k COLLATE NOCASE" VARCHAR UNIQUE, "x, COLLATE" VARCHAR)',
      );
      const plain = [
        { collate: "a", "k COLLATE NOCASE": "b", "x, COLLATE": "1" },
        { collate: "c", "k COLLATE NOCASE": "B", "x, COLLATE": "2" },
      ];
      expect((await s.upsert("n", plain, { on: ["k COLLATE NOCASE"] })).rowsAffected).toBe(2);
      const folded = [
        { collate: "x", "k COLLATE NOCASE": "y", "x, COLLATE": "1" },
        { collate: "X", "k COLLATE NOCASE": "z", "x, COLLATE": "2" },
      ];
      await expect(s.upsert("n", folded, { on: ["collate"] })).rejects.toBeInstanceOf(CardinalityViolationError);
      expect(
        (await s.selectValue<number>("SELECT count(*) FROM c")) +
          (await s.selectValue<number>("SELECT count(*) FROM n")),
      ).toBe(4);
    });
  });

  test("a table made by CREATE TABLE AS keyed by CREATE UNIQUE INDEX: the index is the key, its column's collation counts", async () => {
    await duckdb(async (s) => {
      await s.execute('CREATE TABLE src ("a ""b"" c" VARCHAR COLLATE NOCASE, v INTEGER)');
      await s.execute("CREATE TABLE t AS SELECT * FROM src");
      await s.execute('CREATE UNIQUE INDEX t_key ON t ("a ""b"" c")');
      const rows = [
        { 'a "b" c': "x", v: 1 },
        { 'a "b" c': "X", v: 2 },
      ];
      const err = await s.upsert("t", rows, { on: ['a "b" c'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CardinalityViolationError);
      expect((err as Error).message).toMatch(/rows 0 and 1/);
      await s.upsert("t", rows, { on: ['a "b" c'], duplicates: "last-wins" });
      await s.upsert("t", [{ 'a "b" c': "x", v: 3 }], { on: ['a "b" c'] });
      expect(await s.select("SELECT * FROM t")).toEqual([{ 'a "b" c': "X", v: 3 }]);
    });
  });
});

describe("upsert: several unique indexes on the key columns, compared differently", () => {
  test("sqlite: rows equal under any of them are one key (ON CONFLICT (k) targets one; the other failed or merged them)", async () => {
    await memory().withSession(async (s) => {
      // The newest index is SQLite's ON CONFLICT (k) target: here the NOCASE one, so 'b' and 'B' were merged silently
      // into one row (key 'b', values of 'B').
      await s.execute("CREATE TABLE m (k TEXT UNIQUE, v INTEGER)");
      await s.execute("CREATE UNIQUE INDEX z_nocase ON m (k COLLATE NOCASE)");
      // Here the BINARY one: 'B' hit the NOCASE index and the statement failed with SQLITE_CONSTRAINT_UNIQUE.
      await s.execute("CREATE TABLE r (k TEXT COLLATE NOCASE UNIQUE, v INTEGER)");
      await s.execute("CREATE UNIQUE INDEX a_binary ON r (k COLLATE BINARY)");
      for (const table of ["m", "r"]) {
        const err = await s.upsert(table, pair, { on: ["k"] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CardinalityViolationError);
        expect((err as Error).message).toMatch(/rows 0 and 1/);
        expect(await s.selectValue(`SELECT count(*) FROM ${table}`)).toBe(0);
        await s.upsert(table, [...pair, { k: "c", v: 3 }], { on: ["k"], duplicates: "last-wins" });
        expect(await s.select(`SELECT k, v FROM ${table} ORDER BY v`)).toEqual([
          { k: "B", v: 2 },
          { k: "c", v: 3 },
        ]);
      }
    });
  });

  test("sqlite: NOCASE and RTRIM on one column: no two rows written collide under either", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE x (k TEXT, v INTEGER)");
      await s.execute("CREATE UNIQUE INDEX x_nocase ON x (k COLLATE NOCASE)");
      await s.execute("CREATE UNIQUE INDEX x_rtrim ON x (k COLLATE RTRIM)");
      const rows = [
        { k: "a", v: 1 },
        { k: "A ", v: 2 },
        { k: "A", v: 3 },
        { k: "z", v: 4 },
      ];
      const err = await s.upsert("x", rows, { on: ["k"] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CardinalityViolationError);
      expect((err as Error).message).toMatch(/rows 1 and 2|rows 0 and 2/);
      // 'a' ~ 'A' (NOCASE), 'A ' ~ 'A' (RTRIM): each has a later row of its key, only 'A' and 'z' are written.
      await s.upsert("x", rows, { on: ["k"], duplicates: "last-wins" });
      expect(await s.select("SELECT k, v FROM x ORDER BY v")).toEqual([
        { k: "A", v: 3 },
        { k: "z", v: 4 },
      ]);
    });
  });

  test("duckdb: an index cannot carry its own collation, so every unique index on a column compares alike", async () => {
    await duckdb(async (s) => {
      await s.execute("CREATE TABLE p (k VARCHAR COLLATE NOCASE PRIMARY KEY, v INTEGER)");
      await expect(s.execute("CREATE UNIQUE INDEX p_noaccent ON p (k COLLATE NOACCENT)")).rejects.toThrow(
        /collation not supported/i,
      );
      await s.execute("CREATE UNIQUE INDEX p_again ON p (k)");
      await expect(s.upsert("p", pair, { on: ["k"] })).rejects.toBeInstanceOf(CardinalityViolationError);
      await s.upsert("p", pair, { on: ["k"], duplicates: "last-wins" });
      expect(await s.select("SELECT k, v FROM p")).toEqual([{ k: "B", v: 2 }]);
    });
  });
});
