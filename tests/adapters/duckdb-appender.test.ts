/**
 * The @duckdb/node-api adapter's bulk paths: the Appender behind loadRecords and the upsert stage (typed appends,
 * DataChunks, a bad row failing the load whole), and values the engine cannot store faithfully.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig, type DuckdbConfigOptions } from "../../src/adapters/duckdb/index.js";
import {
  CheckViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  ParameterError,
  UniqueViolationError,
} from "../../src/index.js";

const opened: DuckdbConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
function config(o: DuckdbConfigOptions = {}): DuckdbConfig {
  const c = new DuckdbConfig(o);
  opened.push(c);
  return c;
}

describe("duckdb: the Appender's typed appends", () => {
  test("every column type gets the same value through the Appender (copy) as through bound VALUES", async () => {
    const cols =
      "id INTEGER PRIMARY KEY, i INTEGER, sm SMALLINT, ti TINYINT, b BIGINT, d DOUBLE, f FLOAT, s VARCHAR, j JSON, " +
      "ts TIMESTAMP, tz TIMESTAMPTZ, ok BOOLEAN, dec DECIMAL(10,2)";
    const at = new Date("2024-02-29T23:59:58.123Z");
    const rows = [
      // Values each typed append takes as they are.
      { id: 1, i: -2147483648, sm: -32768, ti: 127, b: 2n ** 62n, d: 0.1, f: 1.5, s: "é'x", j: { a: [1] } },
      { id: 2, i: 2147483647, sm: 5, ti: -128, b: 9007199254740991, d: -1.25e-5, f: -0.25, s: "", j: '{"x":1}' },
      // Values the typed appends hand to the generic path: a fraction for an integer, text for a number, a number
      // for text, a JSON scalar text.
      { id: 3, i: 1.5, sm: "7", ti: 2.5, b: "12", d: "1.25", f: 3, s: 42, j: "[]" },
      { id: 4, i: null, sm: null, ti: null, b: null, d: null, f: null, s: null, j: null },
    ].map((r) => ({ ...r, ts: at, tz: at, ok: r.id % 2 === 0, dec: "12.34" }));
    const db = config({ driverFeatures: { int8: "bigint" } });
    await db.withSession(async (s) => {
      await s.execute(`CREATE TABLE via_values (${cols})`);
      await s.execute(`CREATE TABLE via_copy (${cols})`);
      const v = await s.upsert("via_values", rows, { on: ["id"], strategy: "values" });
      const c = await s.upsert("via_copy", rows, { on: ["id"], strategy: "copy" });
      expect([v.metadata.strategy, c.metadata.strategy]).toEqual(["values", "copy"]);
      expect([v.rowsAffected, c.rowsAffected]).toEqual([4, 4]);
      // (A Date for a DATE column fails on both paths: DuckDB without ICU has no TIMESTAMPTZ → DATE cast.)
      const a = await s.select("SELECT * FROM via_values ORDER BY id");
      const b = await s.select("SELECT * FROM via_copy ORDER BY id");
      expect(b).toEqual(a);
      expect(b[0]).toMatchObject({ i: -2147483648, sm: -32768, ti: 127, d: 0.1, f: 1.5, s: "é'x", j: { a: [1] } });
      expect(b[0]).toMatchObject({ b: 2n ** 62n });
      expect(b[2]).toMatchObject({ i: 2, sm: 7, b: 12n, d: 1.25, s: "42", j: [] });
      expect((b[0] as { ts: Date }).ts.getTime()).toBe(at.getTime());
    });
    // loadRecords takes the same appends. (Its own database: on DuckDB 1.5.6 a cached parameterless DROP of the
    // stage, re-run on the same connection, does not drop it — a defect handled separately.)
    const db2 = config({ driverFeatures: { int8: "bigint" } });
    await db2.withSession(async (s) => {
      await s.execute(`CREATE TABLE via_copy (${cols})`);
      const l = await s.loadRecords(
        "via_copy",
        Array.from({ length: 1200 }, (_, k) => ({ ...rows[k % 4], id: k })),
      );
      expect(l.rowsAffected).toBe(1200);
      expect(await s.selectValue("SELECT count(*) FROM via_copy WHERE i = 2")).toBe(300n);
    });
  });
});

describe("duckdb: loadRecords through the Appender", () => {
  test("blocks of plain values go as DataChunks, a block with an odd value row by row: the same rows either way", async () => {
    const db = config();
    await db.withSession(async (s) => {
      const ddl = "(id INTEGER PRIMARY KEY, sm SMALLINT, b BIGINT, d DOUBLE, s VARCHAR, ok BOOLEAN)";
      await s.execute(`CREATE TABLE chunked ${ddl}`);
      await s.execute(`CREATE TABLE bound ${ddl}`);
      const rows = Array.from({ length: 5000 }, (_, k) => ({
        id: k,
        sm: k % 7 === 0 ? null : (k % 30000) - 15000,
        b: k % 2 ? 2 ** 53 - k : BigInt(k) * 1_000_000_000_000n,
        d: k / 3,
        s: k % 11 === 0 ? null : `s${k}é`,
        ok: k % 3 === 0,
      }));
      // Row 3000 (second block of 2,048) holds a fraction for SMALLINT: that block goes row by row.
      (rows[3000] as { sm: unknown }).sm = 2.5;
      const r = await s.loadRecords("chunked", rows);
      expect(r.rowsAffected).toBe(5000);
      expect(r.statement).toContain("APPEND INTO");
      for (let k = 0; k < rows.length; k += 500) {
        await s.execute(
          `INSERT INTO bound VALUES ${new Array(500).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`,
          rows.slice(k, k + 500).flatMap((o) => Object.values(o)),
        );
      }
      const diff = await s.selectValue(
        "SELECT count(*) FROM (SELECT * FROM chunked EXCEPT SELECT * FROM bound UNION ALL SELECT * FROM bound EXCEPT SELECT * FROM chunked)",
      );
      expect(diff).toBe(0);
      // The odd value took DuckDB's cast on both paths.
      const cast = await s.selectValue("SELECT sm FROM bound WHERE id = ?", [3000]);
      expect(cast).toBeTypeOf("number");
      expect(await s.selectValue("SELECT sm FROM chunked WHERE id = ?", [3000])).toBe(cast);
      expect(await s.selectValue("SELECT count(*) FROM chunked WHERE sm IS NULL")).toBe(715);
    });
  });

  test("rows for every column go straight into the table; a bad row anywhere fails the load whole with a typed error", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.executeScript(
        "CREATE TABLE lp (id INTEGER PRIMARY KEY); INSERT INTO lp VALUES (1);" +
          "CREATE TABLE lt (id INTEGER PRIMARY KEY, q INTEGER CHECK (q >= 0), n VARCHAR NOT NULL, pid INTEGER REFERENCES lp (id), d INTEGER DEFAULT 5)",
      );
      const good = Array.from({ length: 3000 }, (_, k) => ({ id: k + 10, q: k, n: `n${k}`, pid: 1, d: 0 }));
      const cases: [Record<string, unknown>, new (...a: never[]) => Error][] = [
        [{ id: 3, q: -1, n: "x", pid: 1, d: 0 }, CheckViolationError],
        [{ id: 3, q: 1, n: null, pid: 1, d: 0 }, NotNullViolationError],
        [{ id: 3, q: 1, n: "x", pid: 99, d: 0 }, ForeignKeyViolationError],
        [{ id: 10, q: 1, n: "x", pid: 1, d: 0 }, UniqueViolationError],
      ];
      for (const [bad, Cls] of cases) {
        const err = await s.loadRecords("lt", [...good, bad]).catch((e) => e);
        expect(err).toBeInstanceOf(Cls);
        expect(s.inTransaction).toBe(false);
        expect(await s.selectValue("SELECT count(*) FROM lt")).toBe(0);
      }
      const r = await s.loadRecords("lt", good);
      expect(r.rowsAffected).toBe(3000);
      expect(r.metadata.strategy).toBe("copy");
      expect(r.statement).toContain("APPEND INTO");
      expect(await s.selectValue("SELECT sum(q) FROM lt")).toBe((2999 * 3000) / 2);
    });
    // A column subset (the default fills the rest) goes through a stage; arrays and objects alike.
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE ls (id INTEGER PRIMARY KEY, n VARCHAR, d INTEGER DEFAULT 5)");
      const rows: Record<string, unknown>[] = Array.from({ length: 1500 }, (_, k) =>
        k % 2 ? { id: k, n: `n${k}` } : ([k, `n${k}`] as unknown as Record<string, unknown>),
      );
      const r = await s.loadRecords("ls", rows, { columns: ["id", "n"] });
      expect(r.rowsAffected).toBe(1500);
      expect(await s.selectOne("SELECT count(*) AS c, min(d) AS lo, max(d) AS hi FROM ls")).toEqual({
        c: 1500,
        lo: 5,
        hi: 5,
      });
    });
  });
});

test("a failed Appender leaves nothing for a later transaction: its buffered rows are dropped, not flushed at GC", async () => {
  // The cause of "a bad row anywhere fails the load whole" once reading sum(q) as NULL: the failed appender kept its
  // buffer and the garbage collector's destroy flushed it into the connection's next transaction. gc is forced here,
  // but when a collection lands is V8's choice: this did not fail before the fix; the next test pins the cause.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  await config().withSession(async (s) => {
    await s.execute("CREATE TABLE ga (id INTEGER PRIMARY KEY, q INTEGER CHECK (q >= 0), n VARCHAR NOT NULL)");
    const good = Array.from({ length: 3000 }, (_, k) => ({ id: k + 10, q: k, n: `n${k}` }));
    const cases: [Record<string, unknown>, new (...a: never[]) => Error][] = [
      [{ id: 3, q: -1, n: "x" }, CheckViolationError],
      [{ id: 3, q: 1, n: null }, NotNullViolationError],
      [{ id: 10, q: 1, n: "x" }, UniqueViolationError],
    ];
    for (const [bad, Cls] of cases) {
      await expect(s.loadRecords("ga", [...good, bad])).rejects.toBeInstanceOf(Cls);
      await s.begin();
      gc();
      await new Promise((r) => setTimeout(r, 20));
      gc();
      await s.loadRecords("ga", good);
      await s.commit();
      expect(await s.selectOne("SELECT count(*) AS c, sum(q) AS s FROM ga")).toEqual({ c: 3000, s: (2999 * 3000) / 2 });
      await s.execute("DELETE FROM ga");
    }
  });
});

test("why the adapter clears a failed Appender: @duckdb/node-api flushes a failed appender's rows when GC destroys it", async () => {
  // Pins the driver behaviour the adapter works around (copyIn's clear() before closeSync): should a driver upgrade
  // stop flushing at destroy, this test says so. Without clear() the next transaction is aborted once gc runs, and
  // its COMMIT still succeeds.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    await c.run("CREATE TABLE g (id INTEGER PRIMARY KEY, q INTEGER CHECK (q >= 0))");
    const attempt = async (clear: boolean): Promise<number> => {
      await c.run("BEGIN");
      await (async () => {
        const a = await c.createAppender("g");
        for (const [id, q] of [
          [1, 1],
          [2, -1],
        ] as const) {
          a.appendInteger(id);
          a.appendInteger(q);
          a.endRow();
        }
        expect(() => a.closeSync()).toThrow(/CHECK constraint/);
        if (clear) a.clear();
        try {
          a.closeSync();
        } catch {
          // Closing a failed appender fails again unless it was cleared.
        }
      })();
      await c.run("ROLLBACK");
      await c.run("BEGIN");
      await c.run("INSERT INTO g VALUES (3, 3)");
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      // DuckDB's COMMIT of a transaction aborted behind its back reports success and keeps nothing: the flaky
      // test's load returned 3,000 rows and sum(q) then read NULL.
      await c.run("COMMIT");
      const reader = await c.runAndReadAll("SELECT count(*)::INTEGER AS n FROM g");
      const n = (reader.getRowObjects()[0] as { n: number }).n;
      await c.run("DELETE FROM g");
      return n;
    };
    expect(await attempt(true)).toBe(1);
    expect(await attempt(false)).toBe(0);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
});

test("session.upsert above bulk.largeBatch.threshold rows takes the Appender stage the adapter declares", async () => {
  const db = config();
  const adapter = await db.getAdapter();
  const threshold = adapter.bulk?.largeBatch.threshold ?? 0;
  await db.withSession(async (s) => {
    await s.execute("CREATE TABLE ua (id INTEGER PRIMARY KEY, v VARCHAR)");
    await s.execute("INSERT INTO ua VALUES (1, 'old')");
    const rows = Array.from({ length: threshold + 1 }, (_, k) => ({ id: k + 1, v: `new${k}` }));
    const r = await s.upsert("ua", rows, { on: ["id"] });
    expect(r.metadata.strategy).toBe("copy");
    expect(r.rowsAffected).toBe(threshold + 1);
    expect(await s.selectValue("SELECT v FROM ua WHERE id = ?", [1])).toBe("new0");
  });
});

describe("duckdb: a string with a lone surrogate", () => {
  test("execute, upsert and loadRecords raise ParameterError before any I/O (DuckDB would store U+FFFD)", async () => {
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE ls (id INTEGER PRIMARY KEY, v VARCHAR, n INTEGER)");
      const exec = await s.execute("INSERT INTO ls VALUES (?, ?, 1)", [1, "a\uD800b"]).catch((e) => e);
      expect(exec).toBeInstanceOf(ParameterError);
      expect(exec.message).toContain("Parameter 2");
      const many = (bad: unknown) =>
        Array.from({ length: 3000 }, (_, i) => ({ id: 10 + i, v: i === 2999 ? bad : "ok", n: 1 }));
      for (const run of [
        () =>
          s.upsert(
            "ls",
            [
              { id: 2, v: "ok", n: 1 },
              { id: 3, v: "a\uDC00b", n: 1 },
            ],
            { on: ["id"] },
          ),
        () => s.upsert("ls", many("a\uD800"), { on: ["id"] }),
        () =>
          s.loadRecords("ls", [
            { id: 4, v: "x", n: 1 },
            { id: 5, v: "a\uD800b", n: 1 },
          ]),
        () => s.loadRecords("ls", many("\uDFFFz")),
        // A string into a non-VARCHAR column takes the generic path.
        () => s.loadRecords("ls", [{ id: 6, v: "x", n: "1\uD800" }]),
      ]) {
        const err = await run().catch((e) => e);
        expect(err).toBeInstanceOf(ParameterError);
      }
      expect(await s.selectValue("SELECT count(*) FROM ls")).toBe(0);
    });
  });
});
