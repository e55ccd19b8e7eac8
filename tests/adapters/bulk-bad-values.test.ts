/**
 * A value the engine cannot store faithfully (SQLite: NaN, which it would store as NULL; every engine: a string with
 * a lone surrogate, which has no UTF-8 form) in the rows of `session.upsert` / `loadRecords` on an INSERT-form engine:
 * a ParameterError naming the column and the row (as the PostgreSQL COPY/JSON encoders do), raised before any
 * statement runs, nothing written. Not "Parameter N" of some chunk's statement, which the caller cannot map back.
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { ParameterError } from "../../src/index.js";
import type { AnyConfig } from "../conformance/suite.js";

const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});

const engines: [string, () => AnyConfig, string, [string, unknown][]][] = [
  [
    "sqlite",
    () => new SqliteConfig(),
    "v REAL, t TEXT",
    [
      ["NaN", Number.NaN],
      ["a lone surrogate", "a\uD800b"],
    ],
  ],
  ["duckdb", () => new DuckdbConfig(), "v VARCHAR, t VARCHAR", [["a lone surrogate", "a\uDC00b"]]],
];

async function* slowly<T>(rows: T[]): AsyncGenerator<T> {
  for (const r of rows) yield r;
}

describe.each(engines)("%s: bad values in bulk rows are named by column and row", (_, make, cols, cases) => {
  test.each(cases)("%s", async (_what, bad) => {
    const db = make();
    opened.push(db);
    await db.withSession(async (s) => {
      await s.execute(`CREATE TABLE bb (id INTEGER PRIMARY KEY, ${cols})`);
      const column = typeof bad === "number" ? "v" : "t";
      const rows = (n: number, at: number) =>
        Array.from({ length: n }, (_, i) => ({
          id: i + 1,
          v: i === at && column === "v" ? bad : 1.5,
          t: i === at && column === "t" ? bad : "ok",
        }));
      const calls: [string, () => Promise<unknown>, number][] = [
        ["upsert, 2 rows", () => s.upsert("bb", rows(2, 1), { on: ["id"] }), 1],
        ["upsert, 300 rows", () => s.upsert("bb", rows(300, 250), { on: ["id"] }), 250],
        ["loadRecords, 2 rows", () => s.loadRecords("bb", rows(2, 1)), 1],
        ["loadRecords, 300 rows", () => s.loadRecords("bb", rows(300, 250)), 250],
        ["loadRecords, async source", () => s.loadRecords("bb", slowly(rows(3000, 2500))), 2500],
      ];
      for (const [name, run, row] of calls) {
        const err = await run().catch((e: unknown) => e);
        expect(err, name).toBeInstanceOf(ParameterError);
        expect((err as Error).message, name).toContain(`column "${column}" of row ${row}`);
        expect((err as Error).message, name).not.toMatch(/Parameter \d/);
      }
      expect(await s.selectValue("SELECT count(*) FROM bb")).toBe(0);
    });
  });
});
