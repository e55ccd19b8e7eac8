import { describe, expect, test } from "vitest";
import { DialectNotSupportedError, ParameterError, sql } from "../../src/index.js";

describe("sql.explain renders per dialect (no I/O)", () => {
  const q = sql.select("id").from("t").where({ id: 7 });

  test("PostgreSQL: the options list, values of the wrapped builder kept", () => {
    const all = sql.explain(q, {
      analyze: true,
      verbose: true,
      costs: false,
      buffers: true,
      settings: true,
      format: "json",
    });
    expect(all.build("postgres")).toEqual({
      sql: 'EXPLAIN (ANALYZE, VERBOSE, COSTS FALSE, BUFFERS, SETTINGS, FORMAT JSON) SELECT "id" FROM "t" WHERE "id" = $1',
      parameters: [7],
    });
    expect(sql.explain(q).build("postgres").sql).toBe('EXPLAIN SELECT "id" FROM "t" WHERE "id" = $1');
    expect(sql.explain(sql`SELECT ${1} + ${2}`).build("postgres")).toEqual({
      sql: "EXPLAIN SELECT $1 + $2",
      parameters: [1, 2],
    });
  });

  test("MySQL / MariaDB, SQLite, DuckDB", () => {
    expect(sql.explain(q, { format: "json" }).build("mysql").sql).toBe(
      "EXPLAIN FORMAT=JSON SELECT `id` FROM `t` WHERE `id` = ?",
    );
    expect(sql.explain(q, { analyze: true, format: "json" }).build("mysql", { serverFlavor: "mariadb" }).sql).toBe(
      "ANALYZE FORMAT=JSON SELECT `id` FROM `t` WHERE `id` = ?",
    );
    expect(sql.explain(q, { analyze: true }).build("mysql", { serverFlavor: "mysql" }).sql).toMatch(
      /^EXPLAIN ANALYZE SELECT/,
    );
    expect(() => sql.explain(q, { analyze: true, format: "json" }).build("mysql", { serverFlavor: "mysql" })).toThrow(
      DialectNotSupportedError,
    );
    expect(sql.explain(q).build("sqlite")).toEqual({
      sql: 'EXPLAIN QUERY PLAN SELECT "id" FROM "t" WHERE "id" = ?',
      parameters: [7],
    });
    expect(() => sql.explain(q, { analyze: true }).build("sqlite")).toThrow(DialectNotSupportedError);
    expect(() => sql.explain(q, { format: "json" }).build("sqlite")).toThrow(DialectNotSupportedError);
    expect(sql.explain(q, { analyze: true, format: "json" }).build("duckdb").sql).toMatch(
      /^EXPLAIN \(ANALYZE, FORMAT JSON\) SELECT/,
    );
    expect(() => sql.explain(q, { verbose: true }).build("duckdb")).toThrow(DialectNotSupportedError);
  });

  test("bad options are ParameterError when the statement is made", () => {
    expect(() => sql.explain(q, { format: "yaml" as "json" })).toThrow(ParameterError);
    expect(() => sql.explain(q, { analyze: "yes" as unknown as boolean })).toThrow(ParameterError);
    expect(() => sql.explain(sql.explain(q) as never)).toThrow(ParameterError);
  });
});
