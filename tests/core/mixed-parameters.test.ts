import { describe, expect, it } from "vitest";
import { compileStatement, getPlan } from "../../src/core/compiler.js";
import { ParameterError } from "../../src/core/errors.js";
import { type Dialect, ParameterStyle, type Params } from "../../src/core/types.js";

/**
 * Mixed placeholder kinds (issue 9) resolve as Python sqlspec resolves them; where sqlspec's answer would contradict
 * what the text says, ParameterError instead of a silent guess. The README section "Mixing placeholder styles" is the
 * contract these tests pin.
 */
const S = ParameterStyle;

function conv(text: string, params: Params | undefined, target: ParameterStyle = S.NUMERIC, dialect?: Dialect) {
  return compileStatement(text, params, target, dialect ?? "postgres");
}

function raises(fn: () => unknown, pattern: RegExp): ParameterError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ParameterError);
  expect((caught as Error).message).toMatch(pattern);
  return caught as ParameterError;
}

describe("named mixed with numbered (sqlspec's test_mixed_named_and_numeric_parameters and neighbours)", () => {
  it(":name::text with $2::int and an object", () => {
    expect(conv("SELECT :name::text AS name, $2::int AS age", { name: "Mixed", age: 25 })).toEqual({
      sql: "SELECT $1::text AS name, $2::int AS age",
      parameters: ["Mixed", 25],
    });
  });
  it("$1 … :middle … $3 with { first, middle, last }", () => {
    expect(
      conv("SELECT $1::text AS first, :middle::text AS mid, $3::int AS last", { first: "A", middle: "B", last: 3 }),
    ).toEqual({ sql: "SELECT $1::text AS first, $2::text AS mid, $3::int AS last", parameters: ["A", "B", 3] });
  });
  it("a repeated $2 is one value", () => {
    expect(conv("SELECT :name::text, $2::int, $2::int", { name: "User", age: 25 })).toEqual({
      sql: "SELECT $1::text, $2::int, $2::int",
      parameters: ["User", 25],
    });
  });
  it("the object's key order among named keys does not matter: only the other keys fill positions", () => {
    expect(conv("SELECT :name::text, $2::int", { age: 25, name: "Mixed" }).parameters).toEqual(["Mixed", 25]);
  });
  it("a key spelled as the placeholder ($2 or 2) binds it explicitly", () => {
    expect(conv("SELECT :name::text, $2::int", { $2: 25, name: "Mixed" }).parameters).toEqual(["Mixed", 25]);
    expect(conv("SELECT :name::text, $2::int", { 2: 25, name: "Mixed" }).parameters).toEqual(["Mixed", 25]);
    expect(conv("SELECT $1, :m, $3", { $3: "c", m: "b", $1: "a" }).parameters).toEqual(["a", "b", "c"]);
  });
  it("an array fills the distinct placeholders in order of first appearance", () => {
    expect(conv("SELECT :name::text, $2::int, :name", ["Mixed", 25])).toEqual({
      sql: "SELECT $1::text, $2::int, $1",
      parameters: ["Mixed", 25],
    });
  });
  it("to ? style, repeated placeholders repeat their value", () => {
    expect(conv("SELECT :name::text, $2::int, :name", { name: "M", age: 2 }, S.QMARK, "sqlite")).toEqual({
      sql: "SELECT ?::text, ?::int, ?",
      parameters: ["M", 2, "M"],
    });
  });
  it("to a named style, positional placeholders get p<n> names", () => {
    const plan = getPlan("SELECT :name, $2", S.NAMED_COLON, "postgres");
    expect(plan.sql).toBe("SELECT :name, :p2");
    expect(plan.parameterNames).toEqual(["name", "p2"]);
    expect(plan.bind({ name: "x", age: 1 })).toEqual(["x", 1]);
  });
});

describe("named mixed with ? (sqlspec's mixed_qmark_named_select)", () => {
  const text = "SELECT name FROM items WHERE value >= ? AND name <> :excluded ORDER BY value";
  it("positional values in order, on PostgreSQL too", () => {
    expect(conv(text, [20, "gamma"])).toEqual({
      sql: "SELECT name FROM items WHERE value >= $1 AND name <> $2 ORDER BY value",
      parameters: [20, "gamma"],
    });
  });
  it("on sqlite to ? style", () => {
    expect(conv(text, [20, "gamma"], S.QMARK, "sqlite")).toEqual({
      sql: "SELECT name FROM items WHERE value >= ? AND name <> ? ORDER BY value",
      parameters: [20, "gamma"],
    });
  });
  it("with an object: the name by name, the ? from the other key", () => {
    expect(conv(text, { excluded: "gamma", minimum: 20 }).parameters).toEqual([20, "gamma"]);
  });
  it("named styles mix with each other as before (@minimum, $excluded)", () => {
    expect(conv("SELECT 1 WHERE v >= @minimum AND n <> $excluded", { minimum: 20, excluded: "g" })).toEqual({
      sql: "SELECT 1 WHERE v >= $1 AND n <> $2",
      parameters: [20, "g"],
    });
  });
});

describe("numbered mixed with sequential", () => {
  it("$1 then ? → $1, $2", () => {
    expect(conv("SELECT $1, ?", [1, 2], S.NUMERIC, "sqlite")).toEqual({ sql: "SELECT $1, $2", parameters: [1, 2] });
  });
  it("an object is refused when the statement has no named placeholder", () => {
    raises(() => conv("SELECT $1, ?", { a: 1, b: 2 }, S.NUMERIC, "sqlite"), /expects an array/);
  });
});

describe("a positional array bound to :param_N names (sqlspec's generated names)", () => {
  it(":param_0 with one value", () => {
    const text = "SELECT * FROM users WHERE name = :param_0";
    expect(conv(text, ["john"])).toEqual({ sql: "SELECT * FROM users WHERE name = $1", parameters: ["john"] });
    expect(conv(text, ["john"], S.QMARK, "sqlite")).toEqual({
      sql: "SELECT * FROM users WHERE name = ?",
      parameters: ["john"],
    });
    expect(conv(text, { param_0: "john" }).parameters).toEqual(["john"]);
  });
  it("repeated names repeat for ?, dedupe for $n", () => {
    const text = "SELECT :param_0, :param_1, :param_0";
    expect(conv(text, ["a", "b"])).toEqual({ sql: "SELECT $1, $2, $1", parameters: ["a", "b"] });
    expect(conv(text, ["a", "b"], S.QMARK, "sqlite")).toEqual({ sql: "SELECT ?, ?, ?", parameters: ["a", "b", "a"] });
  });
  it("param_N out of order with an array is refused (the number and the position disagree)", () => {
    raises(() => conv("SELECT :param_1, :param_0", ["a", "b"]), /:param_1/);
  });
  it("other names still need an object", () => {
    raises(() => conv("SELECT :a", [1]), /named placeholders \(:a\) and expects an object/);
  });
});

describe("mixes still raise ParameterError on every mismatch, before any I/O", () => {
  it("a numbered placeholder whose number contradicts its position", () => {
    raises(() => getPlan("SELECT :b, $1", S.NUMERIC, "postgres"), /\$1 .*1st.*2nd/);
    raises(() => getPlan("SELECT ?, $1", S.NUMERIC, "sqlite"), /\$1/);
    raises(() => getPlan("SELECT :a, $3", S.NUMERIC, "postgres"), /\$3/);
  });
  it("too few and too many values in an array", () => {
    raises(() => conv("SELECT ? AND :x", [1]), /expects 2 values .* 1 was given \(too few\)/);
    const e = raises(() => conv("SELECT ? AND :x", [1, 2, "secret-value"]), /3 were given \(too many\)/);
    expect(e.message).not.toContain("secret-value");
  });
  it("a missing name", () => {
    raises(() => conv("SELECT :name, $2", { age: 25 }), /Missing named parameter "name"/);
  });
  it("a missing positional value", () => {
    raises(() => conv("SELECT :name, $2", { name: "x" }), /no value for \$2/);
  });
  it("an unused value", () => {
    const e = raises(() => conv("SELECT :name, $2", { name: "x", age: 1, extra: "secret-value" }), /"extra"/);
    expect(e.message).not.toContain("secret-value");
  });
  it("no params at all", () => {
    raises(() => conv("SELECT :name, $2", undefined), /expects 2 values .* none were given/);
  });
});

describe("?? is text (the JDBC-style escape sqlspec ignores)", () => {
  for (const dialect of ["postgres", "sqlite", "mysql", "duckdb"] as const) {
    it(dialect, () => {
      const plan = getPlan("SELECT data ?? 'key' FROM t", S.NUMERIC, dialect);
      expect(plan.sql).toBe("SELECT data ?? 'key' FROM t");
      expect(plan.placeholderCount).toBe(0);
      expect(plan.bind(undefined)).toEqual([]);
    });
  }
  it("beside a real placeholder", () => {
    expect(conv("SELECT data ?? 'key' FROM t WHERE id = $1", [1])).toEqual({
      sql: "SELECT data ?? 'key' FROM t WHERE id = $1",
      parameters: [1],
    });
    expect(conv("SELECT a ?? b, ? FROM t", [1], S.NUMERIC, "sqlite").sql).toBe("SELECT a ?? b, $1 FROM t");
  });
});
