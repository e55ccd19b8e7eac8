/**
 * DuckDB under a process time zone that is not UTC (this project runs with TZ=Asia/Tokyo from the start, which is
 * when DuckDB reads it): a Date is stored as its UTC wall clock on every path, as on PostgreSQL.
 */
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { DataError, ParameterError } from "../../src/index.js";

const opened: DuckdbConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
function config(): DuckdbConfig {
  const c = new DuckdbConfig();
  opened.push(c);
  return c;
}

describe("duckdb: time zones", () => {
  test("a Date round-trips through TIMESTAMP, TIMESTAMPTZ and DATE on every path, whatever the process TZ", async () => {
    expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(-540);
    {
      // 23:30 UTC is already the next day in Tokyo: a local-time conversion moves the hour and the date.
      const d = new Date("2024-06-01T23:30:00.123Z");
      await config().withSession(async (s) => {
        await s.execute("CREATE TABLE tzr (id INTEGER PRIMARY KEY, a TIMESTAMP, b TIMESTAMPTZ, c DATE)");
        await s.execute("INSERT INTO tzr VALUES (?, ?, ?, ?)", [1, d, d, d]);
        await s.upsert("tzr", [{ id: 2, a: d, b: d, c: d }], { on: ["id"] });
        await s.loadRecords("tzr", [{ id: 3, a: d, b: d, c: d }]);
        const big = Array.from({ length: 3000 }, (_, i) => ({ id: 10 + i, a: d, b: d, c: d }));
        await s.upsert("tzr", big, { on: ["id"] });
        const rows = await s.select<{ id: number; a: Date; b: Date; c: Date; at: string; ct: string }>(
          "SELECT id, a, b, c, CAST(a AS VARCHAR) AS at, CAST(c AS VARCHAR) AS ct FROM tzr WHERE id IN (1, 2, 3, 10) ORDER BY id",
        );
        expect(rows).toHaveLength(4);
        for (const r of rows) {
          expect(r.a.toISOString(), `a of ${r.id}`).toBe(d.toISOString());
          expect(r.b.toISOString(), `b of ${r.id}`).toBe(d.toISOString());
          expect(r.c.toISOString(), `c of ${r.id}`).toBe("2024-06-01T00:00:00.000Z");
          expect(r.at, `stored a of ${r.id}`).toBe("2024-06-01 23:30:00.123");
          expect(r.ct, `stored c of ${r.id}`).toBe("2024-06-01");
        }
      });
    }
  });

  test("a value DuckDB cannot convert is DataError on execute, upsert and loadRecords; a huge bigint ParameterError first", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE cv (id INTEGER PRIMARY KEY, c DOUBLE, u UUID, j JSON, h HUGEINT)");
      const paths = (column: string, value: unknown) =>
        [
          ["execute", () => s.execute(`INSERT INTO cv (id, ${column}) VALUES (1, ?)`, [value])],
          ["upsert", () => s.upsert("cv", [{ id: 2, [column]: value }], { on: ["id"] })],
          ["loadRecords", () => s.loadRecords("cv", [{ id: 3, [column]: value }])],
        ] as const;
      for (const [column, value] of [
        ["c", "abc"],
        ["u", "not-a-uuid"],
      ] as const) {
        for (const [path, run] of paths(column, value)) {
          const err = await run().catch((e: unknown) => e);
          expect(err, `${path} ${column}`).toBeInstanceOf(DataError);
          expect((err as Error).message, `${path} ${column}`).toMatch(/^DuckDB /);
        }
      }
      // Text that is not JSON for a JSON column: DuckDB's DataError for a bound value; the bulk paths, which know the
      // column types, refuse it before any write (ParameterError naming the column), as on every engine.
      const json = paths("j", "not json");
      expect(await json[0][1]().catch((e: unknown) => e)).toBeInstanceOf(DataError);
      for (const [path, run] of json.slice(1)) {
        expect(await run().catch((e: unknown) => e), path).toBeInstanceOf(ParameterError);
      }
      for (const [path, run] of paths("h", 2n ** 200n)) {
        expect(await run().catch((e: unknown) => e), path).toBeInstanceOf(ParameterError);
      }
      expect(await s.selectValue("SELECT count(*) FROM cv")).toBe(0);
      // Text that is JSON goes in on every path, and reads back parsed.
      for (const [, run] of paths("j", '{"a": [1]}')) await run();
      expect(await s.select("SELECT j FROM cv ORDER BY id")).toEqual([1, 2, 3].map(() => ({ j: { a: [1] } })));
    });
    // A deserializer that fails is reported as such, not as DuckDB's error.
    const failing = new DuckdbConfig({
      driverFeatures: {
        jsonDeserializer: () => {
          throw new SyntaxError("Unexpected token");
        },
      },
    });
    opened.push(failing);
    const err = await failing.withSession((s) => s.select(`SELECT '{"a": 1}'::JSON AS j`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain("JSON deserializer");
  });
});
