/**
 * SQLite values read and written by declared type: TIMESTAMP text with any zone offset, impossible dates, Dates
 * SQLite's date functions cannot represent, and JSON columns holding text that is not JSON.
 */
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { mapSqliteError } from "../../src/adapters/sqlite/errors.js";
import { ParameterError, SQLSpecError } from "../../src/index.js";
import { sqliteConfigs } from "../support/sqlite-file.js";

const { memory } = sqliteConfigs();
async function rejectsWith(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParameterError);
  expect((err as Error).message).toMatch(message);
}

describe("sqlite: TIMESTAMP text is read as the instant it names, or stays text", () => {
  test("zone offsets with minutes, with and without the colon", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP)");
      const texts = [
        "2024-01-01 10:00:00+05:30",
        "2024-01-01 10:00:00+0530",
        "2024-01-01 10:00:00-03:30",
        "2024-01-01 10:00:00-0330",
        "2024-01-01T10:00:00.5+0545",
        "2024-01-01 10:00:00Z",
        "2024-01-01 10:00+01",
      ];
      for (const [i, t] of texts.entries()) await s.execute("INSERT INTO t (id, ts) VALUES (?, ?)", [i, t]);
      const rows = await s.select<{ ts: Date }>("SELECT ts FROM t ORDER BY id");
      expect(rows.map((r) => (r.ts instanceof Date ? r.ts.toISOString() : r.ts))).toEqual([
        "2024-01-01T04:30:00.000Z",
        "2024-01-01T04:30:00.000Z",
        "2024-01-01T13:30:00.000Z",
        "2024-01-01T13:30:00.000Z",
        "2024-01-01T04:15:00.500Z",
        "2024-01-01T10:00:00.000Z",
        "2024-01-01T09:00:00.000Z",
      ]);
    });
  });

  test("a text that is not a valid date-time stays the stored string, never a wrong Date", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP)");
      const texts = [
        "2024-02-30 10:00:00",
        "2023-02-29",
        "2024-13-45 10:00:00",
        "2024-00-10",
        "2024-01-00",
        "2024-01-01 25:00:00",
        "2024-01-01 10:60:00",
        "2024-01-01 10:00:61",
        "2024-01-01 10:00:00+24:00",
        "2024-01-01 10:00:00+05:60",
      ];
      for (const [i, t] of texts.entries()) await s.execute("INSERT INTO t (id, ts) VALUES (?, ?)", [i, t]);
      const rows = await s.select<{ ts: unknown }>("SELECT ts FROM t ORDER BY id");
      expect(rows.map((r) => r.ts)).toEqual(texts);
      // Leap day of a leap year is a date.
      await s.execute("INSERT INTO t (id, ts) VALUES (99, '2024-02-29 23:59:59.999')");
      const leap = await s.selectValue<Date>("SELECT ts FROM t WHERE id = 99");
      expect(leap).toEqual(new Date("2024-02-29T23:59:59.999Z"));
    });
  });
});

describe("sqlite: a Date outside years 0000–9999 has no date-time text SQLite can read", () => {
  const at = (year: number): Date => {
    const d = new Date(Date.UTC(2000, 0, 1));
    d.setUTCFullYear(year);
    return d;
  };

  test("execute, upsert and loadRecords raise ParameterError naming the parameter or column; nothing is written", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, ts TIMESTAMP)");
      for (const year of [-1, 10000, 12345]) {
        await rejectsWith(s.execute("INSERT INTO v (id, ts) VALUES (?, ?)", [1, at(year)]), /Parameter 2/);
        await rejectsWith(s.upsert("v", [{ id: 2, ts: at(year) }], { on: ["id"] }), /"ts"/);
        await rejectsWith(s.loadRecords("v", [{ id: 3, ts: at(year) }]), /"ts"/);
      }
      expect(await s.selectValue("SELECT count(*) FROM v")).toBe(0);
      // The ends of the range are stored and read back.
      await s.execute("INSERT INTO v (id, ts) VALUES (?, ?), (?, ?)", [
        1,
        at(0),
        2,
        new Date("9999-12-31T23:59:59.999Z"),
      ]);
      const rows = await s.select<{ ts: Date }>("SELECT ts FROM v ORDER BY id");
      expect(rows.map((r) => r.ts.getTime())).toEqual([at(0).getTime(), Date.parse("9999-12-31T23:59:59.999Z")]);
    });
  });
});

describe("sqlite: a JSON column holding text that is not JSON", () => {
  test("is read as the stored string; the other rows still parse", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, j JSON)");
      await s.execute("INSERT INTO v (id, j) VALUES (1, ?)", [[[1, 2], [3]]]);
      // execute() binds a string as it is: SQLite does not know the column's type at bind time.
      await s.execute("INSERT INTO v (id, j) VALUES (2, ?)", ["just a string"]);
      expect(await s.select("SELECT id, j FROM v ORDER BY id")).toEqual([
        { id: 1, j: [[1, 2], [3]] },
        { id: 2, j: "just a string" },
      ]);
    });
  });

  test("upsert and loadRecords: a string that is not JSON text raises ParameterError naming the column, nothing written", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, j JSON)");
      await rejectsWith(s.upsert("v", [{ id: 1, j: "just a string" }], { on: ["id"] }), /"j".*JSON text/);
      await rejectsWith(s.loadRecords("v", [{ id: 2, j: "{not json" }]), /"j".*JSON text/);
      expect(await s.selectValue("SELECT count(*) FROM v")).toBe(0);
      // JSON text is stored as the document it is.
      await s.upsert("v", [{ id: 1, j: '{"a":1}' }], { on: ["id"] });
      await s.loadRecords("v", [{ id: 2, j: "[1,2]" }]);
      expect(await s.select("SELECT id, j FROM v ORDER BY id")).toEqual([
        { id: 1, j: { a: 1 } },
        { id: 2, j: [1, 2] },
      ]);
    });
  });
});

describe("sqlite: binding", () => {
  test("32,766 values in one statement (SQLite's limit) bind in order; 32,767 is a ParameterError before any I/O", async () => {
    await memory().withSession(async (s) => {
      await s.execute("CREATE TABLE many (a INTEGER)");
      const n = 32766;
      const values = Array.from({ length: n }, (_, i) => i + 1);
      const insert = `INSERT INTO many (a) VALUES ${new Array(n).fill("(?)").join(", ")}`;
      expect((await s.execute(insert, values)).rowsAffected).toBe(n);
      expect(await s.selectOne("SELECT count(*) AS c, sum(a) AS t, max(rowid) AS r FROM many")).toEqual({
        c: n,
        t: (n * (n + 1)) / 2,
        r: n,
      });
      // Order kept: row i holds value i.
      expect(await s.selectValue("SELECT count(*) FROM many WHERE a <> rowid")).toBe(0);
      const err = await s.execute(`${insert}, (?)`, [...values, 0]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ParameterError);
      expect(await s.selectValue("SELECT count(*) FROM many")).toBe(n);
    });
  });

  test("32,766 and 2,048 values bound from a deep call stack, where raw better-sqlite3's array form still runs", async () => {
    // Arguments live on the machine stack: a spread of 32,766 values (262 KB) overflowed where an array did not.
    const atDepth = <T>(depth: number, f: () => T): T => (depth === 0 ? f() : atDepth(depth - 1, f));
    for (const n of [32766, 2048]) {
      const text = `SELECT 1 IN (${new Array(n).fill("?").join(",")}) AS s`;
      const values = new Array<number>(n).fill(1);
      const raw = new Database(":memory:");
      const stmt = raw.prepare(text);
      let deepest = 0;
      for (let d = 250; d < 20_000; d += 250) {
        try {
          atDepth(d, () => stmt.all(values));
          deepest = d;
        } catch {
          break;
        }
      }
      raw.close();
      expect(deepest).toBeGreaterThan(3000);
      await memory().withSession(async (s) => {
        const out = await atDepth(deepest - 1000, () =>
          s.selectValue(text, values).then(
            (v) => `ok ${String(v)}`,
            (e: Error) => `${e.constructor.name}: ${e.message}`,
          ),
        );
        expect(out, `${n} values`).toBe("ok 1");
      });
    }
  });

  test("running out of call stack is not reported as a bad parameter", () => {
    const overflow = (() => {
      const down = (n: number): number => down(n + 1) + 1;
      try {
        down(0);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(overflow).toBeInstanceOf(RangeError);
    const mapped = mapSqliteError(overflow);
    expect(mapped).toBeInstanceOf(SQLSpecError);
    expect(mapped).not.toBeInstanceOf(ParameterError);
    expect(mapped.message).toContain("call stack");
    // better-sqlite3's own argument checks stay ParameterErrors.
    expect(mapSqliteError(new RangeError("Too many parameter values were provided"))).toBeInstanceOf(ParameterError);
  });

  test("an array, an object, a Buffer, a bigint and null are each one value (never a parameter list or names)", async () => {
    await memory().withSession(async (s) => {
      const row = await s.selectOne<Record<string, unknown>>(
        "SELECT ? AS arr, ? AS obj, ? AS buf, typeof(?) AS big, ? AS nul, ? AS after",
        [[1, 2], { a: 1 }, Buffer.from([7, 8]), 2n ** 60n, null, "last"],
      );
      expect(row).toEqual({
        arr: "[1,2]",
        obj: '{"a":1}',
        buf: Buffer.from([7, 8]),
        big: "integer",
        nul: null,
        after: "last",
      });
    });
  });
});
