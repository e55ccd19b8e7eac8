/**
 * The @duckdb/node-api adapter: the conformance suite on an in-memory database, then what is DuckDB's own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig, type DuckdbConfigOptions } from "../../src/adapters/duckdb/index.js";
import { importDriver } from "../../src/driver/dependencies.js";
import {
  DatabaseConnectionError,
  DataError,
  ImproperConfigurationError,
  MissingDependencyError,
  OperationCancelledError,
  ParameterError,
  QueryTimeoutError,
  SerializationConflictError,
  SQLParsingError,
  SQLSpecError,
  sql,
  TransactionError,
  UniqueViolationError,
} from "../../src/index.js";
import { runConformance } from "../conformance/suite.js";

runConformance("duckdb", () => new DuckdbConfig({ poolConfig: { database: ":memory:" } }));

const opened: DuckdbConfig[] = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
});
function config(o: DuckdbConfigOptions = {}): DuckdbConfig {
  const c = new DuckdbConfig(o);
  opened.push(c);
  return c;
}

const dir = mkdtempSync(join(tmpdir(), "sqlspec-duckdb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("duckdb: values", () => {
  test("decoded like PostgreSQL: BIGINT by the int8 rule, DECIMAL exact, timestamps as Dates, LIST, STRUCT, UUID, BLOB", async () => {
    const tz = process.env.TZ;
    process.env.TZ = "Asia/Tokyo";
    try {
      await config().withSession(async (s) => {
        const row = await s.selectOne(
          `SELECT 42::BIGINT AS b, 12345678901234567890.123456789::DECIMAL(38,9) AS d,
             TIMESTAMP '2024-03-01 00:30:00.250' AS ts, TIMESTAMPTZ '2024-03-01 09:30:00.250+09:00' AS tz,
             DATE '2024-03-01' AS day, [1, 2] AS l, {'k': 'v', 'n': 1::BIGINT} AS st,
             'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, '\\x01\\xFF'::BLOB AS bl, '{"a":[1]}'::JSON AS j`,
        );
        expect(row).toEqual({
          b: 42,
          d: "12345678901234567890.123456789",
          ts: new Date("2024-03-01T00:30:00.250Z"),
          tz: new Date("2024-03-01T00:30:00.250Z"),
          day: new Date("2024-03-01T00:00:00.000Z"),
          l: [1, 2],
          st: { k: "v", n: 1 },
          u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          bl: Buffer.from([1, 255]),
          j: { a: [1] },
        });
        await expect(s.selectValue("SELECT 9007199254740993::BIGINT")).rejects.toBeInstanceOf(DataError);
        // A Date binds as TIMESTAMPTZ: the same instant back, whatever the process time zone.
        const at = new Date("2024-02-29T23:59:58.123Z");
        expect(((await s.selectValue("SELECT ?::TIMESTAMP", [at])) as Date).getTime()).toBe(at.getTime());
      });
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    await config({ driverFeatures: { int8: "bigint", timestamps: "string" } }).withSession(async (s) => {
      expect(await s.selectValue("SELECT 9007199254740993::BIGINT")).toBe(9007199254740993n);
      expect(await s.selectValue("SELECT TIMESTAMP '2024-03-01 00:30:00.123456'")).toBe("2024-03-01 00:30:00.123456");
    });
  });
});

describe("duckdb: statements and transactions", () => {
  test("a statement without parameters answers from the data as it is now, not as it was when first prepared", async () => {
    // DuckDB plans a statement without parameters once, with the table's statistics of that moment: a cached plan
    // pruned `n > 0` (max n was 0) and sorted strings compressed for the empty table's lengths.
    const db = config();
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE stale (v VARCHAR, n INTEGER)");
      const sorted = "SELECT v, n FROM stale ORDER BY n";
      const filtered = "SELECT v FROM stale WHERE n > 0";
      expect(await s.select(sorted)).toEqual([]);
      expect(await s.select(filtered)).toEqual([]);
      await s.execute("INSERT INTO stale VALUES ('a longer string than before', 100000), ('zero', 0)");
      expect(await s.select(sorted)).toEqual([
        { v: "zero", n: 0 },
        { v: "a longer string than before", n: 100000 },
      ]);
      expect(await s.select(filtered)).toEqual([{ v: "a longer string than before" }]);
      // with parameters DuckDB binds (and plans) again at every execution: those stay cached
      expect(await s.select("SELECT v FROM stale WHERE n > ?", [0])).toEqual([{ v: "a longer string than before" }]);
      const cached = s.adapter.state(s.conn).preparedStatements;
      await s.select("SELECT v FROM stale WHERE n > ?", [1]);
      await s.select(filtered);
      expect(s.adapter.state(s.conn).preparedStatements).toBe(cached);
    });
  });

  test("stacked statements are refused; syntax errors are SQLParsingError", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE st (id INTEGER)");
      await expect(s.execute("SELECT 1; DROP TABLE st")).rejects.toBeInstanceOf(SQLSpecError);
      expect(await s.selectValue("SELECT count(*) FROM st")).toBe(0);
      await expect(s.execute("SELEKT 1")).rejects.toBeInstanceOf(SQLParsingError);
    });
  });

  test("an error aborts the transaction: it reports failed and commit() raises instead of losing work silently", async () => {
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE ft (id INTEGER PRIMARY KEY)");
      await s.begin();
      await s.execute("INSERT INTO ft VALUES (1)");
      await expect(s.execute("INSERT INTO ft VALUES (1)")).rejects.toBeInstanceOf(UniqueViolationError);
      expect(s.adapter.state(s.conn).transaction).toBe("failed");
      await expect(s.commit()).rejects.toBeInstanceOf(TransactionError);
      expect(s.inTransaction).toBe(false);
      expect(await s.selectValue("SELECT count(*) FROM ft")).toBe(0);
    });
  });

  test("a BEGIN behind a comment is tracked: release rolls it back and the next session starts clean", async () => {
    const one = config({ poolConfig: { database: ":memory:", maxSize: 1 } });
    await one.withSession((s) => s.execute("CREATE TABLE cb (id INTEGER PRIMARY KEY)"));
    for (const begin of ["/* x */ BEGIN", "-- c\nBEGIN TRANSACTION", "  begin"]) {
      await one.withSession(async (s) => {
        await s.execute(begin);
        expect(s.inTransaction, begin).toBe(true);
        await s.execute("INSERT INTO cb VALUES (1)");
      });
      await one.withSession(async (s) => {
        expect(s.inTransaction, begin).toBe(false);
        expect(await s.selectValue("SELECT count(*) FROM cb"), begin).toBe(0);
        await s.transaction(async () => {
          await s.execute("INSERT INTO cb VALUES (2)");
        });
        await s.execute("DELETE FROM cb");
      });
    }
    // An error after a hidden BEGIN: the failed transaction is rolled back on release too.
    await one.withSession(async (s) => {
      await s.execute("/* hidden */ START TRANSACTION");
      await s.execute("INSERT INTO cb VALUES (3)");
      await expect(s.execute("INSERT INTO cb VALUES (3)")).rejects.toBeInstanceOf(UniqueViolationError);
    });
    expect(await one.withSession((s) => s.selectValue("SELECT count(*) FROM cb"))).toBe(0);
    // A hidden COMMIT ends the transaction as far as the session knows.
    await one.withSession(async (s) => {
      await s.execute("BEGIN");
      await s.execute("INSERT INTO cb VALUES (4)");
      await s.execute("/* done */ COMMIT");
      expect(s.inTransaction).toBe(false);
    });
    expect(await one.withSession((s) => s.selectValue("SELECT count(*) FROM cb"))).toBe(1);
  });

  test("timeoutMs and signal interrupt the statement; the next one on the connection runs", async () => {
    await config().withSession(async (s) => {
      const slow = "SELECT sum(a.range * b.range) FROM range(300000) a, range(300000) b";
      const t0 = performance.now();
      await expect(s.execute(slow, undefined, { timeoutMs: 50 })).rejects.toBeInstanceOf(QueryTimeoutError);
      expect(performance.now() - t0).toBeLessThan(5000);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await expect(s.execute(slow, undefined, { signal: ac.signal })).rejects.toBeInstanceOf(OperationCancelledError);
      // A timeout that fires after the statement finished interrupts nothing later.
      expect(await s.selectValue("SELECT 5", undefined, { timeoutMs: 10_000 })).toBe(5);
      expect(await s.selectValue("SELECT 6")).toBe(6);
    });
  });

  test("MERGE renders on this engine (1.4+) and sql.upsert with dialect duckdb still runs as ON CONFLICT", async () => {
    await config().withSession(async (s) => {
      expect(await s.dataDictionary.supports("merge")).toBe(true);
      await s.execute("CREATE TABLE kv (k VARCHAR PRIMARY KEY, v INTEGER)");
      await s.execute(
        sql
          .upsert("kv", { dialect: "duckdb" })
          .values([{ k: "a", v: 1 }])
          .onConflict("k")
          .doUpdate(["v"]),
      );
      const r = await s.execute(
        sql
          .merge()
          .into("kv", "t")
          .using(
            [
              { k: "a", v: 2 },
              { k: "b", v: 3 },
            ],
            "src",
          )
          .on("t.k = src.k")
          .whenMatchedThenUpdate({ v: "src.v" })
          .whenNotMatchedThenInsert({ k: "src.k", v: "src.v" }),
      );
      expect(r.rowsAffected).toBe(2);
      expect(await s.select("SELECT k, v FROM kv ORDER BY k")).toEqual([
        { k: "a", v: 2 },
        { k: "b", v: 3 },
      ]);
    });
  });

  test("a database file that cannot be opened (a missing folder, another process's lock) is DatabaseConnectionError", async () => {
    const missing = config({ poolConfig: { database: join(dir, "no-such-folder", "x.duckdb") } });
    const err = (await missing.withSession((s) => s.selectValue("SELECT 1")).catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(DatabaseConnectionError);
    expect(err.message).toMatch(/^DuckDB cannot open .*x\.duckdb: IO Error: /);
  });

  test("a repeated statement without parameters sees rows added since its first run (no stale cached plan)", async () => {
    // DuckDB plans a statement without parameters once, at prepare time, pruning filters by the table's statistics
    // then (an empty table: "no row can match"); a reused plan kept that answer (duckdb/duckdb#23704).
    const db = config({ poolConfig: { maxSize: 2 } });
    await db.withSession(async (s) => {
      await s.execute("CREATE TABLE sp (id INTEGER PRIMARY KEY, name VARCHAR)");
      const del = "DELETE FROM sp WHERE id BETWEEN 700 AND 799";
      const sel = "SELECT id FROM sp WHERE id > 0 ORDER BY id";
      const upd = "UPDATE sp SET name = 'x' WHERE id > 0";
      expect((await s.execute(del)).rowsAffected).toBe(0);
      expect(await s.select(sel)).toEqual([]);
      expect((await s.execute(upd)).rowsAffected).toBe(0);

      await s.execute("INSERT INTO sp VALUES (701, 'a'), (702, 'b')");
      expect(await s.select(sel)).toEqual([{ id: 701 }, { id: 702 }]);
      expect((await s.execute(upd)).rowsAffected).toBe(2);
      expect((await s.execute(del)).rowsAffected).toBe(2);
      expect(await s.selectValue("SELECT count(*) FROM sp")).toBe(0);

      // Rows written through another pooled connection widen the same statistics.
      expect(await s.select(sel)).toEqual([]);
      await db.withSession((other) => other.execute("INSERT INTO sp VALUES (703, 'c')"));
      expect(await s.select(sel)).toEqual([{ id: 703 }]);
      expect((await s.execute(del)).rowsAffected).toBe(1);
      expect(await s.selectValue("SELECT count(*) FROM sp")).toBe(0);
    });
  });

  test("a file database keeps its data across pools", async () => {
    const path = join(dir, "keep.duckdb");
    const a = config({ poolConfig: { database: path } });
    await a.withSession((s) => s.executeScript("CREATE TABLE k (v VARCHAR); INSERT INTO k VALUES ('kept')"));
    await a.close();
    const b = config({ poolConfig: { database: path } });
    expect(await b.withSession((s) => s.selectValue("SELECT v FROM k"))).toBe("kept");
  });

  test("two configs on one file share its instance: no committed row is lost; different `config` options raise", async () => {
    // Two DuckDB instances on one file each keep their own copy of the data: the last one closed wins.
    const path = join(dir, "shared.duckdb");
    const a = config({ poolConfig: { database: path } });
    const b = config({ poolConfig: { database: relative(process.cwd(), path) } });
    await a.withSession((s) => s.execute("CREATE TABLE sh (id INTEGER PRIMARY KEY, who VARCHAR)"));
    await b.withSession((s) => s.execute("INSERT INTO sh VALUES (1, 'b')"));
    await a.withSession((s) => s.execute("INSERT INTO sh VALUES (2, 'a')"));
    const all = [
      { id: 1, who: "b" },
      { id: 2, who: "a" },
    ];
    expect(await a.withSession((s) => s.select("SELECT * FROM sh ORDER BY id"))).toEqual(all);
    const other = config({ poolConfig: { database: path, config: { threads: "1" } } });
    const err = (await other.withSession((s) => s.selectValue("SELECT 1")).catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(ImproperConfigurationError);
    expect(err.message).toContain("different `config` options");
    // Closing one config keeps the instance open for the other.
    await a.close();
    await b.withSession((s) => s.execute("INSERT INTO sh VALUES (3, 'b')"));
    await b.close();
    const c = config({ poolConfig: { database: path } });
    expect(await c.withSession((s) => s.selectValue("SELECT count(*) FROM sh"))).toBe(3);
    // ":memory:" stays private to its config.
    const m1 = config();
    const m2 = config();
    await m1.withSession((s) => s.execute("CREATE TABLE mine (id INTEGER)"));
    await expect(m2.withSession((s) => s.select("SELECT * FROM mine"))).rejects.toBeInstanceOf(SQLSpecError);
  });
});

test("a missing @duckdb/node-api raises MissingDependencyError naming it", async () => {
  const err = await importDriver(
    "@duckdb/node-api",
    "DuckdbConfig",
    () => import(/* @vite-ignore */ `@duckdb/node-api-not-installed${""}`),
  ).catch((e) => e);
  expect(err).toBeInstanceOf(MissingDependencyError);
  expect(err.message).toContain("npm install @duckdb/node-api");
});

describe("duckdb: conflicts and nested values", () => {
  test("executeMany in a transaction runs in it: a failing set aborts the caller's transaction, a bad value raises first", async () => {
    // No SAVEPOINT: the sets cannot be undone apart from the caller's work, and DuckDB aborts the whole transaction.
    await config().withSession(async (s) => {
      await s.execute("CREATE TABLE emt (id INTEGER PRIMARY KEY, v VARCHAR)");
      const insert = "INSERT INTO emt VALUES (?, ?)";
      await s.begin();
      await s.execute("INSERT INTO emt VALUES (100, 'caller')");
      const dup = await s
        .executeMany(insert, [
          [1, "a"],
          [1, "b"],
        ])
        .catch((e) => e);
      expect(dup).toBeInstanceOf(UniqueViolationError);
      expect(s.adapter.state(s.conn).transaction).toBe("failed");
      await expect(s.commit()).rejects.toBeInstanceOf(TransactionError);
      expect(await s.selectValue("SELECT count(*) FROM emt")).toBe(0);
      // A value no set may bind is refused before the first set runs: the caller's transaction goes on, nothing of
      // the call is written.
      await s.begin();
      await s.execute("INSERT INTO emt VALUES (100, 'caller')");
      for (const bad of ["\ud800", Symbol("s"), 2n ** 200n]) {
        const err = await s
          .executeMany(insert, [
            [1, "a"],
            [2, bad],
          ])
          .catch((e) => e);
        expect(err).toBeInstanceOf(ParameterError);
        expect(s.adapter.state(s.conn).transaction).toBe("active");
      }
      await s.commit();
      expect(await s.select("SELECT id FROM emt")).toEqual([{ id: 100 }]);
    });
  });

  test("a COMMIT that fails (a key both transactions inserted) leaves the session idle: DuckDB rolled it back", async () => {
    const db = config({ poolConfig: { database: ":memory:", maxSize: 2 } });
    await db.withSession((s) => s.execute("CREATE TABLE fc (id INTEGER PRIMARY KEY, v VARCHAR)"));
    const a = await db.provideSession();
    const b = await db.provideSession();
    try {
      await a.begin();
      await b.begin();
      await a.execute("INSERT INTO fc VALUES (1, 'a')");
      await b.execute("INSERT INTO fc VALUES (1, 'b')");
      await a.commit();
      await expect(b.commit()).rejects.toBeInstanceOf(UniqueViolationError);
      expect(b.inTransaction).toBe(false);
      expect(b.adapter.state(b.conn).transaction).toBe("idle");
      // The session works as a fresh one: a transaction opens, rolls back, and a write outside one is kept.
      await b.transaction((tx) => tx.execute("INSERT INTO fc VALUES (2, 'b2')"));
      await b.begin();
      await b.execute("INSERT INTO fc VALUES (3, 'rolled back')");
      await b.rollback();
      expect(b.inTransaction).toBe(false);
      // The same through a COMMIT the session does not issue itself.
      await a.begin();
      await b.execute("BEGIN");
      await a.execute("INSERT INTO fc VALUES (4, 'a')");
      await b.execute("INSERT INTO fc VALUES (4, 'b')");
      await a.commit();
      await expect(b.execute("COMMIT")).rejects.toBeInstanceOf(UniqueViolationError);
      expect(b.inTransaction).toBe(false);
    } finally {
      await a.release();
      await b.release();
    }
    expect(await db.withSession((s) => s.select("SELECT id, v FROM fc ORDER BY id"))).toEqual([
      { id: 1, v: "a" },
      { id: 2, v: "b2" },
      { id: 4, v: "a" },
    ]);
  });

  test("a write-write conflict between two sessions is a SerializationConflictError; the loser's transaction is failed", async () => {
    const db = config({ poolConfig: { database: ":memory:" } });
    await db.withSession((s) =>
      s.executeScript("CREATE TABLE ww (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO ww VALUES (1, 0)"),
    );
    const a = await db.provideSession();
    const b = await db.provideSession();
    try {
      await a.begin();
      await b.begin();
      await a.execute("UPDATE ww SET v = 1 WHERE id = 1");
      const err = await b.execute("UPDATE ww SET v = 2 WHERE id = 1").catch((e) => e);
      expect(err).toBeInstanceOf(SerializationConflictError);
      expect(err).toBeInstanceOf(TransactionError);
      expect(err.message).toMatch(/conflict/i);
      await expect(b.commit()).rejects.toBeInstanceOf(TransactionError);
      await a.commit();
      await a.begin();
      await b.begin();
      await a.execute("DELETE FROM ww WHERE id = 1");
      await expect(b.execute("DELETE FROM ww WHERE id = 1")).rejects.toBeInstanceOf(SerializationConflictError);
      await b.rollback();
      await a.commit();
    } finally {
      await a.release();
      await b.release();
    }
    expect(await db.withSession((s) => s.selectValue("SELECT count(*) FROM ww"))).toBe(0);
  });

  test("INTERVAL is DuckDB's text, as PostgreSQL's interval is; JSON nested in STRUCT and LIST is parsed", async () => {
    await config().withSession(async (s) => {
      const row = await s.selectOne(
        `SELECT INTERVAL '1 day 2 hours 3.5 seconds' AS i, INTERVAL '14 months' AS m,
           {'doc': '{"x":[1,2]}'::JSON, 'n': 2} AS st, ['{"a":1}'::JSON, NULL] AS l,
           [{'j': 'true'::JSON}] AS ls, '{"t":"top"}'::JSON AS top, '{"x":1}' AS plain, '"text"'::JSON AS jstr`,
      );
      expect(row).toEqual({
        i: "1 day 02:00:03.5",
        m: "1 year 2 months",
        st: { doc: { x: [1, 2] }, n: 2 },
        l: [{ a: 1 }, null],
        ls: [{ j: true }],
        top: { t: "top" },
        plain: '{"x":1}',
        jstr: "text",
      });
      // Through a table and a stream too.
      await s.execute("CREATE TABLE nested (id INTEGER, s STRUCT(doc JSON, k VARCHAR), d INTERVAL)");
      await s.execute(`INSERT INTO nested VALUES (1, {'doc': '[1]', 'k': 'v'}, INTERVAL '90 minutes')`);
      const streamed: unknown[] = [];
      for await (const r of s.stream("SELECT s, d FROM nested")) streamed.push(r);
      expect(streamed).toEqual([{ s: { doc: [1], k: "v" }, d: "01:30:00" }]);
    });
  });
});
