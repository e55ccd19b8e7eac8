import { afterEach, describe, expect, it } from "vitest";
import { clearStatementCache, getPlan, setStatementCacheSize, statementCacheStats } from "../../src/core/compiler.js";
import { SQLSpecError } from "../../src/core/errors.js";
import { SQL, sqlTag as sql } from "../../src/core/statement.js";
import { ParameterStyle } from "../../src/core/types.js";
import { sql as sqlNs } from "../../src/index.js";

const MiB = 2 ** 20;

afterEach(() => {
  setStatementCacheSize(1000, 32 * MiB);
  clearStatementCache();
});

function multiRowInsert(size: number): string {
  const rows = Array.from({ length: size }, (_, k) => ({ id: k, name: `n${k}`, price: k / 2, active: true }));
  return sqlNs.insertInto("items").values(rows).build("postgres").sql;
}

describe("plan cache memory", () => {
  it("is bounded by bytes, not only by entries: multi-row INSERTs of every batch size stay under the budget", () => {
    setStatementCacheSize(1000, 1 * MiB);
    clearStatementCache();
    for (let size = 1; size <= 250; size++) getPlan(multiRowInsert(size), ParameterStyle.NUMERIC, "postgres");
    const stats = statementCacheStats();
    expect(stats.maxBytes).toBe(1 * MiB);
    expect(stats.bytes).toBeLessThanOrEqual(1 * MiB);
    expect(stats.bytes).toBeGreaterThan(0.5 * MiB); // it did fill up, then evicted
    expect(stats.size).toBeLessThan(250);
    // the most recent plans are the ones kept
    const hitsBefore = stats.hits;
    getPlan(multiRowInsert(250), ParameterStyle.NUMERIC, "postgres");
    expect(statementCacheStats().hits).toBe(hitsBefore + 1);
  });

  it("does not cache a statement above a quarter of the budget, so one huge statement cannot flush the rest", () => {
    setStatementCacheSize(1000, 64 * 1024);
    clearStatementCache();
    getPlan("SELECT $1::int", ParameterStyle.NUMERIC, "postgres");
    const big = multiRowInsert(2000);
    const plan = getPlan(big, ParameterStyle.NUMERIC, "postgres");
    expect(plan.placeholderCount).toBe(8000);
    expect(statementCacheStats().size).toBe(1);
    getPlan("SELECT $1::int", ParameterStyle.NUMERIC, "postgres");
    expect(statementCacheStats().hits).toBe(1);
  });

  it("a smaller budget evicts at once; the defaults are 1000 plans and 32 MiB", () => {
    setStatementCacheSize(1000, 32 * MiB);
    for (let size = 1; size <= 50; size++) getPlan(multiRowInsert(size), ParameterStyle.NUMERIC, "postgres");
    expect(statementCacheStats().size).toBe(50);
    setStatementCacheSize(1000, 16 * 1024);
    expect(statementCacheStats().bytes).toBeLessThanOrEqual(16 * 1024);
    expect(statementCacheStats().size).toBeLessThan(50);
  });

  it("counting needs a SELECT: a typed error before any I/O, never the statement run twice", () => {
    const plan = getPlan("INSERT INTO t (a) VALUES ($1) RETURNING a", ParameterStyle.NUMERIC, "postgres");
    expect(() => plan.countPlan()).toThrow(SQLSpecError);
    expect(() => plan.countPlan()).toThrow(/INSERT statement: selectWithTotal needs a SELECT/);
    const select = getPlan("SELECT a FROM t WHERE b = $1 LIMIT $2", ParameterStyle.NUMERIC, "postgres");
    expect(select.countPlan().sql).toBe(
      "SELECT count(*) AS total FROM (SELECT a FROM t WHERE b = $1) AS _sqlspec_count",
    );
  });
});

describe("sql template per call site", () => {
  const site = (x: unknown) => sql`SELECT ${x} AS v FROM t WHERE k = ${"key"}`;

  it("renders the call site's text once, and switches to composing when a value shapes the text", () => {
    const a = site(1);
    const b = site(2);
    expect(a.text).toBe("SELECT $1 AS v FROM t WHERE k = $2");
    expect(b.text).toBe(a.text);
    expect(b.params).toEqual([2, "key"]);
    expect(site(sql.raw("now()")).text).toBe("SELECT now() AS v FROM t WHERE k = $1");
    expect(site(sql.ref("col")).compile()).toEqual({
      sql: 'SELECT "col" AS v FROM t WHERE k = $1',
      parameters: ["key"],
    });
    expect(site(sql`lower(${"X"})`).compile()).toEqual({
      sql: "SELECT lower($1) AS v FROM t WHERE k = $2",
      parameters: ["X", "key"],
    });
    expect(site(3).compile()).toEqual({ sql: "SELECT $1 AS v FROM t WHERE k = $2", parameters: [3, "key"] });
  });

  it("plain-site statements nest with their numbers shifted, and quote per dialect", () => {
    const inner = site(5);
    const outer = sql`SELECT * FROM (${inner}) s WHERE s.v > ${10}`;
    expect(outer.compile()).toEqual({
      sql: "SELECT * FROM (SELECT $1 AS v FROM t WHERE k = $2) s WHERE s.v > $3",
      parameters: [5, "key", 10],
    });
    const refd = sql`SELECT ${sql.ref("a.b")} FROM t WHERE x = ${1}`;
    expect(refd.textFor("mysql")).toBe("SELECT `a`.`b` FROM t WHERE x = $1");
  });

  it("a statement from elsewhere (not made by the template) nests by its text", () => {
    const other = new SQL("SELECT :a::int", { a: 7 });
    expect(sql`SELECT (${other}) + ${1}`.compile()).toEqual({
      sql: "SELECT (SELECT $1::int) + $2",
      parameters: [7, 1],
    });
  });
});
