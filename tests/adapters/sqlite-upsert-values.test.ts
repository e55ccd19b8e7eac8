/**
 * Review 13b: values on the SQLite bulk VALUES path, each reproduced before its fix: text a toString() makes is
 * checked as given text is, and a bad value after last-wins is named by its row in the caller's list.
 */
import { afterAll, describe, expect, test } from "vitest";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { ParameterError, SQLBuilderError } from "../../src/index.js";

const db = new SqliteConfig();
afterAll(() => db.close());

/** A value type with its own toString (Decimal-like): SQLite binds its text. */
class Code {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

describe("sqlite: a lone surrogate reached through toString()", () => {
  test("upsert of 50 rows stores invalid UTF-8 (ED A0 80) instead of raising ParameterError", async () => {
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE lone (id INTEGER PRIMARY KEY, v TEXT)");
      const rows = Array.from({ length: 50 }, (_, i) => ({
        id: i + 1,
        v: i === 30 ? (new Code("x\ud800") as unknown as string) : `v${i}`,
      }));
      const err = await s.upsert("lone", rows, { on: ["id"] }).catch((e: unknown) => e);
      // Observed: rowsAffected 50; hex(v) of id 31 is 78EDA080. With 1 row it is refused ("Parameter 2"), because
      // arrays of ≤ 64 values are re-checked by the statement encoder while marked (plain) ones are not.
      expect(err).toBeInstanceOf(ParameterError);
      expect((err as Error).message).toContain('column "v" of row 30');
      expect(await s.selectValue("SELECT count(*) FROM lone")).toBe(0);
    });
  });

  test("execute stores it too", async () => {
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE lone2 (id INTEGER PRIMARY KEY, v TEXT)");
      const err = await s.execute("INSERT INTO lone2 VALUES (?, ?)", [1, new Code("x\ud800")]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParameterError);
    });
  });
});

describe("sqlite: last-wins renumbers rows", () => {
  test("a bad value is named by its position in the caller's rows, not in the deduplicated list", async () => {
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE renum (id INTEGER PRIMARY KEY, v TEXT)");
      const rows = [
        { id: 1, v: "a" },
        { id: 1, v: "b" },
        { id: 2, v: "c" },
        { id: 3, v: "\ud800" },
      ];
      const err = await s.upsert("renum", rows, { on: ["id"], duplicates: "last-wins" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParameterError);
      // Observed: 'column "v" of row 2' (row 3 of the input is meant).
      expect((err as Error).message).toContain('column "v" of row 3');
    });
  });
});

describe("rows that are not objects", () => {
  test("null, undefined, holes and strings are refused with SQLBuilderError naming the row (was a TypeError)", async () => {
    const lite = new PgliteConfig();
    try {
      for (const config of [db, lite]) {
        await config.withSession(async (s) => {
          await s.execute("CREATE TABLE IF NOT EXISTS objs (id INTEGER PRIMARY KEY, v TEXT)");
          const cases: [unknown[], string][] = [
            [[null], "Row 0 is null"],
            [[{ id: 1, v: "a" }, undefined], "Row 1 is undefined"],
            // biome-ignore lint/suspicious/noSparseArray: the hole is the case.
            [[{ id: 1, v: "a" }, , { id: 2, v: "b" }], "Row 1 is undefined"],
            [["x"], "Row 0 is string"],
          ];
          for (const [rows, message] of cases) {
            const err = await s.upsert("objs", rows as never, { on: ["id"] }).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(SQLBuilderError);
            expect((err as Error).message).toContain(message);
          }
          expect(Number(await s.selectValue("SELECT count(*) FROM objs"))).toBe(0);
        });
      }
    } finally {
      await lite.close();
    }
  });

  test("SQLite reports no inserted/updated counts it does not have (rowsAffected only)", async () => {
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE counts (id INTEGER PRIMARY KEY, v TEXT)");
      const r = await s.upsert(
        "counts",
        [
          { id: 1, v: "a" },
          { id: 2, v: "b" },
        ],
        { on: ["id"] },
      );
      expect(r.rowsAffected).toBe(2);
      expect(r.metadata).not.toHaveProperty("inserted");
    });
  });
});
