import { afterEach, describe, expect, it } from "vitest";
import {
  clearStatementCache,
  detectOperationType,
  getPlan,
  setStatementCacheSize,
  statementCacheStats,
} from "../../src/core/compiler.js";
import { ParameterStyle } from "../../src/core/types.js";

const S = ParameterStyle;

describe("detectOperationType", () => {
  const cases: [string, string][] = [
    ["SELECT 1", "SELECT"],
    ["  -- leading comment\n /* block */ select 1", "SELECT"],
    ["(SELECT 1) UNION (SELECT 2)", "SELECT"],
    ["INSERT INTO t VALUES (1)", "INSERT"],
    ["REPLACE INTO t VALUES (1)", "INSERT"],
    ["update t set a = 1", "UPDATE"],
    ["DELETE FROM t", "DELETE"],
    ["MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE"],
    ["WITH x AS (SELECT 1) SELECT * FROM x", "SELECT"],
    ["WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x) SELECT n FROM x", "SELECT"],
    ["WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "INSERT"],
    ["WITH x AS MATERIALIZED (SELECT 1), y AS (DELETE FROM t RETURNING *) UPDATE t SET a = 1", "UPDATE"],
    ["WITH d AS (SELECT 1) DELETE FROM t", "DELETE"],
    ["WITH s AS (SELECT 1) MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "MERGE"],
    ["EXPLAIN ANALYZE SELECT 1", "SELECT"],
    ["SHOW server_version", "SELECT"],
    ["VALUES (1), (2)", "SELECT"],
    ["TABLE products", "SELECT"],
    ["PRAGMA table_info(t)", "SELECT"],
    ["CREATE TABLE t (id int)", "DDL"],
    ["ALTER TABLE t ADD c int", "DDL"],
    ["DROP TABLE t", "DDL"],
    ["TRUNCATE t", "DDL"],
    ["COMMENT ON TABLE t IS 'x'", "DDL"],
    ["GRANT SELECT ON t TO u", "DDL"],
    ["REVOKE SELECT ON t FROM u", "DDL"],
    ["COPY t FROM STDIN", "COPY"],
    ["BEGIN", "EXECUTE"],
    ["SET search_path = x", "EXECUTE"],
    ["CALL p()", "EXECUTE"],
    ["", "EXECUTE"],
  ];
  for (const [text, op] of cases) {
    it(`${JSON.stringify(text)} → ${op}`, () => expect(detectOperationType(text)).toBe(op));
  }
});

describe("returnsRows", () => {
  it("SELECT-like statements and top-level RETURNING return rows", () => {
    expect(getPlan("SELECT 1", S.NUMERIC, "postgres").returnsRows).toBe(true);
    expect(getPlan("INSERT INTO t VALUES (1) RETURNING id", S.NUMERIC, "postgres").returnsRows).toBe(true);
    expect(getPlan("INSERT INTO t VALUES (1)", S.NUMERIC, "postgres").returnsRows).toBe(false);
    expect(getPlan("INSERT INTO t VALUES ('RETURNING')", S.NUMERIC, "postgres").returnsRows).toBe(false);
    expect(getPlan("CREATE TABLE t (id int)", S.NUMERIC, "postgres").returnsRows).toBe(false);
  });
});

describe("countPlan", () => {
  it("drops LIMIT $3 OFFSET $4 and their values", () => {
    const plan = getPlan(
      "SELECT * FROM t WHERE a = $1 AND b = $2 ORDER BY a LIMIT $3 OFFSET $4",
      S.NUMERIC,
      "postgres",
    );
    const count = plan.countPlan();
    expect(count.sql).toBe("SELECT count(*) AS total FROM (SELECT * FROM t WHERE a = $1 AND b = $2) AS _sqlspec_count");
    expect(count.bind([1, 2, 10, 20])).toEqual([1, 2]);
    expect(count.operationType).toBe("SELECT");
    expect(plan.countPlan()).toBe(count); // memoized
  });
  it("renumbers when the dropped clause used low numbers", () => {
    const count = getPlan("SELECT * FROM t WHERE b = $3 ORDER BY $2 LIMIT $1", S.NUMERIC, "postgres").countPlan();
    expect(count.sql).toBe("SELECT count(*) AS total FROM (SELECT * FROM t WHERE b = $1) AS _sqlspec_count");
    expect(count.bind(["lim", "ord", "b"])).toEqual(["b"]);
  });
  it("keeps LIMIT/ORDER BY inside subqueries, CTEs and window definitions", () => {
    const text =
      "WITH top AS (SELECT id FROM t ORDER BY id LIMIT $1) SELECT id, row_number() OVER (ORDER BY id) FROM top WHERE id IN (SELECT id FROM u LIMIT 5) ORDER BY id LIMIT $2";
    const count = getPlan(text, S.NUMERIC, "postgres").countPlan();
    expect(count.sql).toBe(
      "SELECT count(*) AS total FROM (WITH top AS (SELECT id FROM t ORDER BY id LIMIT $1) SELECT id, row_number() OVER (ORDER BY id) FROM top WHERE id IN (SELECT id FROM u LIMIT 5)) AS _sqlspec_count",
    );
    expect(count.bind([3, 4])).toEqual([3]);
  });
  it("FETCH FIRST … ROWS ONLY, named params, trailing ; and comment", () => {
    const plan = getPlan(
      "SELECT * FROM t WHERE a = :a ORDER BY a OFFSET :off ROWS FETCH FIRST :n ROWS ONLY; -- done",
      S.QMARK,
      "postgres",
    );
    const count = plan.countPlan();
    expect(count.sql).toBe("SELECT count(*) AS total FROM (SELECT * FROM t WHERE a = ?) AS _sqlspec_count");
    expect(count.bind({ a: 1, off: 0, n: 10 })).toEqual([1]);
    expect(count.parameterNames).toEqual(["a"]);
  });
  it("ORDER BY of a whole UNION is dropped; a branch's stays", () => {
    const count = getPlan(
      "(SELECT a FROM x ORDER BY a LIMIT 1) UNION SELECT a FROM y ORDER BY 1",
      S.NUMERIC,
      "postgres",
    ).countPlan();
    expect(count.sql).toBe(
      "SELECT count(*) AS total FROM ((SELECT a FROM x ORDER BY a LIMIT 1) UNION SELECT a FROM y) AS _sqlspec_count",
    );
  });
  it("a column named like a keyword after a dot is not a clause", () => {
    const count = getPlan("SELECT t.limit FROM t", S.NUMERIC, "postgres").countPlan();
    expect(count.sql).toBe("SELECT count(*) AS total FROM (SELECT t.limit FROM t) AS _sqlspec_count");
  });
  it("still validates the full params of the original statement", () => {
    const count = getPlan("SELECT * FROM t LIMIT $1", S.NUMERIC, "postgres").countPlan();
    expect(count.bind([5])).toEqual([]);
    expect(() => count.bind([])).toThrow(/expects 1 positional/);
  });
  it("MySQL LIMIT offset, count", () => {
    const count = getPlan("SELECT * FROM t WHERE a = ? LIMIT ?, ?", S.QMARK, "mysql").countPlan();
    expect(count.sql).toBe("SELECT count(*) AS total FROM (SELECT * FROM t WHERE a = ?) AS _sqlspec_count");
    expect(count.bind([1, 0, 10])).toEqual([1]);
  });
});

describe("totalPlan", () => {
  it("the page and a count without its LIMIT/OFFSET in one statement; $n slots shared by both parts", () => {
    const plan = getPlan("SELECT * FROM t WHERE a = $1 ORDER BY a LIMIT $2 OFFSET $3", S.NUMERIC, "postgres");
    const total = plan.totalPlan("_t");
    expect(total?.sql).toBe(
      "SELECT *, (SELECT count(*) FROM (SELECT * FROM t WHERE a = $1) AS _sqlspec_count) AS _t FROM " +
        "(SELECT * FROM t WHERE a = $1 ORDER BY a LIMIT $2 OFFSET $3) AS _sqlspec_page",
    );
    expect(total?.bind([1, 10, 20])).toEqual([1, 10, 20]);
    expect(plan.totalPlan("_t")).toBe(total); // memoized
  });
  it("sequential placeholders bind a value once per part; FOR UPDATE stays in both", () => {
    const total = getPlan("SELECT * FROM t WHERE a = ? LIMIT ?, ? FOR UPDATE", S.QMARK, "mysql").totalPlan("_t");
    expect(total?.sql).toBe(
      "SELECT *, (SELECT count(*) FROM (SELECT * FROM t WHERE a = ? FOR UPDATE) AS _sqlspec_count) AS _t FROM " +
        "(SELECT * FROM t WHERE a = ? LIMIT ?, ? FOR UPDATE) AS _sqlspec_page",
    );
    expect(total?.bind([1, 0, 10])).toEqual([1, 1, 0, 10]);
  });
  it("named input: one name used in the WHERE and the LIMIT", () => {
    const total = getPlan("SELECT * FROM t WHERE a > :n LIMIT :n", S.NUMERIC, "postgres").totalPlan("_t");
    expect(total?.sql).toBe(
      "SELECT *, (SELECT count(*) FROM (SELECT * FROM t WHERE a > $1) AS _sqlspec_count) AS _t FROM " +
        "(SELECT * FROM t WHERE a > $1 LIMIT $1) AS _sqlspec_page",
    );
    expect(total?.bind({ n: 3 })).toEqual([3]);
  });
  it("no top-level LIMIT/OFFSET/FETCH (ORDER BY only, a branch's or a subquery's LIMIT): undefined", () => {
    expect(getPlan("SELECT * FROM t ORDER BY a", S.NUMERIC, "postgres").totalPlan("_t")).toBeUndefined();
    expect(
      getPlan("(SELECT a FROM x LIMIT 1) UNION SELECT a FROM y ORDER BY 1", S.NUMERIC, "postgres").totalPlan("_t"),
    ).toBeUndefined();
    expect(getPlan("SELECT * FROM (SELECT a FROM x LIMIT 1) s", S.NUMERIC, "postgres").totalPlan("_t")).toBeUndefined();
    expect(getPlan("SELECT t.limit FROM t", S.NUMERIC, "postgres").totalPlan("_t")).toBeUndefined();
  });
  it("not a SELECT: the count's error", () => {
    expect(() => getPlan("DELETE FROM t LIMIT 1", S.QMARK, "mysql").totalPlan("_t")).toThrow(/needs a SELECT/);
  });
});

describe("statement cache", () => {
  afterEach(() => {
    setStatementCacheSize(1000);
    clearStatementCache();
  });

  it("counts hits and misses; values are not part of the key", () => {
    clearStatementCache();
    const text = "SELECT * FROM cache_test WHERE id = :id";
    const p1 = getPlan(text, S.NUMERIC, "postgres");
    expect(p1.bind({ id: 1 })).toEqual([1]);
    const p2 = getPlan(text, S.NUMERIC, "postgres");
    expect(p2).toBe(p1);
    expect(p2.bind({ id: 2 })).toEqual([2]);
    expect(statementCacheStats()).toMatchObject({ size: 1, hits: 1, misses: 1 });
  });

  it("keys on target style, dialect and input style", () => {
    clearStatementCache();
    const text = "SELECT $1";
    const a = getPlan(text, S.NUMERIC, "postgres");
    const b = getPlan(text, S.QMARK, "postgres");
    const c = getPlan(text, S.NUMERIC, "duckdb");
    const d = getPlan(text, S.NUMERIC, "postgres", S.NUMERIC);
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(getPlan(text, S.QMARK, "postgres")).toBe(b);
    expect(statementCacheStats()).toMatchObject({ size: 4, hits: 1, misses: 4 });
  });

  it("evicts the least recently used beyond capacity", () => {
    clearStatementCache();
    setStatementCacheSize(3);
    const a = getPlan("SELECT 'a'", S.NUMERIC, "postgres");
    getPlan("SELECT 'b'", S.NUMERIC, "postgres");
    getPlan("SELECT 'c'", S.NUMERIC, "postgres");
    getPlan("SELECT 'd'", S.NUMERIC, "postgres");
    expect(statementCacheStats().size).toBe(3);
    expect(getPlan("SELECT 'a'", S.NUMERIC, "postgres")).not.toBe(a); // evicted, recompiled
    expect(statementCacheStats().misses).toBe(5);
  });

  it("capacity 0 disables caching", () => {
    clearStatementCache();
    setStatementCacheSize(0);
    getPlan("SELECT 1", S.NUMERIC, "postgres");
    getPlan("SELECT 1", S.NUMERIC, "postgres");
    expect(statementCacheStats()).toMatchObject({ size: 0, hits: 0, misses: 2 });
  });

  it("a hot entry survives churn (recency refresh)", () => {
    clearStatementCache();
    setStatementCacheSize(10);
    const hot = getPlan("SELECT 'hot'", S.NUMERIC, "postgres");
    for (let k = 0; k < 100; k++) {
      getPlan(`SELECT ${k}`, S.NUMERIC, "postgres");
      expect(getPlan("SELECT 'hot'", S.NUMERIC, "postgres")).toBe(hot);
    }
  });
});
