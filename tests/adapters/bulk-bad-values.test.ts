/**
 * A value the engine cannot store faithfully (SQLite: NaN, which it would store as NULL; every engine: a string with
 * a lone surrogate, which has no UTF-8 form) in the rows of `session.upsert` / `loadRecords` on an INSERT-form engine:
 * a ParameterError naming the column and the row (as the PostgreSQL COPY/JSON encoders do), raised before any
 * statement runs, nothing written. Not "Parameter N" of some chunk's statement, which the caller cannot map back.
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { CheckViolationError, ParameterError } from "../../src/index.js";
import type { AnyConfig } from "../conformance/suite.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";

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

/**
 * A string for a JSON column that is not JSON text, in rows streamed from an async iterable: the same ParameterError
 * naming column and row as for an array, raised as the row is read, and nothing of the load written.
 */
const jsonEngines: [string, () => AnyConfig, string][] = [
  ["sqlite", () => new SqliteConfig(), "JSON"],
  ["duckdb", () => new DuckdbConfig(), "JSON"],
  ["mysql", () => new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 1 } }), "JSON"],
  ["pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } }), "jsonb"],
  ["postgresjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 1 } }), "jsonb"],
  ["pglite", () => new PgliteConfig({ driverFeatures: { enablePgvector: false } }), "jsonb"],
];

describe.each(jsonEngines)(
  "%s: a string that is not JSON text for a JSON column, from an async source",
  (engine, make, type) => {
    test("ParameterError naming column and row as the row streams by; nothing written", async () => {
      const db = make();
      opened.push(db);
      await db.withSession(async (s) => {
        await s.execute("DROP TABLE IF EXISTS bj");
        await s.execute(`CREATE TABLE bj (id INTEGER PRIMARY KEY, j ${type}, n INTEGER)`);
        try {
          const rows = (n: number, at: number) =>
            Array.from({ length: n }, (_, i) => ({ id: i + 1, j: i === at ? "{not json" : `{"a":${i}}`, n: i }));
          const mariadbJson =
            engine === "mysql" &&
            /longtext/i.test(
              String(
                await s.selectValue(
                  "SELECT data_type FROM information_schema.columns WHERE table_name = 'bj' AND column_name = 'j' AND table_schema = database()",
                ),
              ),
            );
          const calls: [string, () => Promise<unknown>, number][] = [
            ["array", () => s.loadRecords("bj", rows(1500, 1400)), 1400],
            ["async, 2 rows", () => s.loadRecords("bj", slowly(rows(2, 1))), 1],
            ["async, 1500 rows", () => s.loadRecords("bj", slowly(rows(1500, 1400))), 1400],
            ["async, bad first row", () => s.loadRecords("bj", slowly(rows(5, 0))), 0],
            [
              "async, value arrays, a column subset",
              () =>
                s.loadRecords(
                  "bj",
                  slowly(rows(1500, 1499).map((r) => [r.id, r.j] as unknown as Record<string, unknown>)),
                  { columns: ["id", "j"] },
                ),
              1499,
            ],
          ];
          for (const [name, run, row] of calls) {
            const err = await run().catch((e: unknown) => e);
            if (mariadbJson) {
              // MariaDB's JSON is LONGTEXT with a json_valid CHECK: its catalog type says nothing of JSON, so every
              // path leaves the value to that CHECK (nothing written either way).
              expect(err, name).toBeInstanceOf(CheckViolationError);
            } else {
              expect(err, name).toBeInstanceOf(ParameterError);
              expect((err as Error).message, name).toContain(`column "j" of row ${row}`);
              expect((err as Error).message, name).toContain("JSON text");
            }
            expect(await s.selectValue("SELECT count(*) FROM bj"), name).toBe(0);
          }
          // Valid JSON text streams in whole.
          expect((await s.loadRecords("bj", slowly(rows(1500, -1)))).rowsAffected).toBe(1500);
        } finally {
          await s.execute("DROP TABLE IF EXISTS bj");
        }
      });
    });
  },
);
