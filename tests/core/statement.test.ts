import { describe, expect, it } from "vitest";
import { QUERY_BUILDER } from "../../src/core/builder-protocol.js";
import { ParameterError } from "../../src/core/errors.js";
import { JsonValue } from "../../src/core/json.js";
import { isSQL, RawFragment, RefFragment, SQL, sqlTag as sql, ValueFragment } from "../../src/core/statement.js";
import { ParameterStyle } from "../../src/core/types.js";

describe("SQL", () => {
  it("compiles to $n by default, to other styles on request", () => {
    const s = new SQL("SELECT * FROM t WHERE id = :id AND a = :a", { id: 1, a: "x" });
    expect(s.compile()).toEqual({ sql: "SELECT * FROM t WHERE id = $1 AND a = $2", parameters: [1, "x"] });
    expect(s.compile(ParameterStyle.QMARK, "sqlite")).toEqual({
      sql: "SELECT * FROM t WHERE id = ? AND a = ?",
      parameters: [1, "x"],
    });
    expect(s.text).toBe("SELECT * FROM t WHERE id = :id AND a = :a");
    expect(s.params).toEqual({ id: 1, a: "x" });
  });
  it("raises ParameterError from compile()", () => {
    expect(() => new SQL("SELECT $1").compile()).toThrow(ParameterError);
  });
  it("isSQL", () => {
    expect(isSQL(new SQL("SELECT 1"))).toBe(true);
    expect(isSQL(sql`SELECT 1`)).toBe(true);
    expect(isSQL("SELECT 1")).toBe(false);
    expect(isSQL({ text: "SELECT 1" })).toBe(false);
  });
});

describe("sql tagged template", () => {
  it("binds interpolations as $n", () => {
    const id = 5;
    const s = sql`SELECT * FROM t WHERE id = ${id} AND name = ${"o'reilly"}`;
    expect(s.text).toBe("SELECT * FROM t WHERE id = $1 AND name = $2");
    expect(s.params).toEqual([5, "o'reilly"]);
    expect(s.inputStyle).toBe(ParameterStyle.NUMERIC);
    expect(s.compile(ParameterStyle.QMARK, "sqlite").sql).toBe("SELECT * FROM t WHERE id = ? AND name = ?");
  });
  it("leaves literal placeholder-like text alone (only its own $n are placeholders)", () => {
    const s = sql`SELECT data ? 'k', ':x' FROM t WHERE a = :a AND id = ${1}`;
    expect(s.compile()).toEqual({ sql: "SELECT data ? 'k', ':x' FROM t WHERE a = :a AND id = $1", parameters: [1] });
  });
  it("binds arrays as ONE value", () => {
    const s = sql`SELECT * FROM t WHERE id = ANY(${[1, 2, 3]})`;
    expect(s.compile()).toEqual({ sql: "SELECT * FROM t WHERE id = ANY($1)", parameters: [[1, 2, 3]] });
  });
  it("sql.raw splices trusted text", () => {
    const dir = sql.raw("DESC");
    expect(dir).toBeInstanceOf(RawFragment);
    expect(sql`SELECT * FROM t ORDER BY a ${dir} LIMIT ${10}`.compile()).toEqual({
      sql: "SELECT * FROM t ORDER BY a DESC LIMIT $1",
      parameters: [10],
    });
  });
  it("sql.ref quotes identifiers per dialect", () => {
    const ref = sql.ref('t.we"ird');
    expect(ref).toBeInstanceOf(RefFragment);
    const s = sql`SELECT ${ref}, ${sql.ref("t.*")} FROM ${sql.ref(["public", "a.b"])} WHERE x = ${1}`;
    expect(s.compile().sql).toBe('SELECT "t"."we""ird", "t".* FROM "public"."a.b" WHERE x = $1');
    expect(s.compile(ParameterStyle.QMARK, "mysql").sql).toBe(
      'SELECT `t`.`we"ird`, `t`.* FROM `public`.`a.b` WHERE x = ?',
    );
  });
  it("sql.value forces a bound value, sql.json binds one JSON value", () => {
    const v = sql.value(sql.raw("x"));
    expect(v).toBeInstanceOf(ValueFragment);
    const j = sql.json({ a: [1, 2] });
    expect(j).toBeInstanceOf(JsonValue);
    const s = sql`SELECT ${v}, ${j}`;
    expect(s.text).toBe("SELECT $1, $2");
    expect(s.params).toEqual([v.value, j]);
  });
  it("merges nested SQL, renumbering its parameters", () => {
    const cond = sql`a = ${1} AND b = ${2}`;
    const s = sql`SELECT * FROM t WHERE x = ${0} AND ${cond} AND y = ${3}`;
    expect(s.compile()).toEqual({
      sql: "SELECT * FROM t WHERE x = $1 AND a = $2 AND b = $3 AND y = $4",
      parameters: [0, 1, 2, 3],
    });
    const twice = sql`${cond} OR ${cond}`;
    expect(twice.compile()).toEqual({ sql: "a = $1 AND b = $2 OR a = $3 AND b = $4", parameters: [1, 2, 1, 2] });
  });
  it("merges a nested plain SQL with named params", () => {
    const inner = new SQL("a = :a OR b = :b OR c = :a", { a: "A", b: "B" });
    const s = sql`SELECT * FROM t WHERE id = ${9} AND (${inner})`;
    expect(s.compile()).toEqual({
      sql: "SELECT * FROM t WHERE id = $1 AND (a = $2 OR b = $3 OR c = $2)",
      parameters: [9, "A", "B"],
    });
  });
  it("nested refs keep dialect-aware quoting", () => {
    const inner = sql`${sql.ref("c")} = ${1}`;
    expect(sql`SELECT 1 WHERE ${inner}`.compile(ParameterStyle.QMARK, "mysql").sql).toBe("SELECT 1 WHERE `c` = ?");
  });
  it("nests a query builder as a subquery", () => {
    const builder = {
      [QUERY_BUILDER]: true as const,
      build: () => ({ sql: "SELECT id FROM u WHERE a = $1 AND b = $2", parameters: ["A", "B"] }),
    };
    expect(sql`SELECT * FROM t WHERE x = ${1} AND id IN (${builder})`.compile()).toEqual({
      sql: "SELECT * FROM t WHERE x = $1 AND id IN (SELECT id FROM u WHERE a = $2 AND b = $3)",
      parameters: [1, "A", "B"],
    });
  });
  it("without interpolations", () => {
    expect(sql`SELECT 1`.compile()).toEqual({ sql: "SELECT 1", parameters: [] });
  });
});
