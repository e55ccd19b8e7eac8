import { describe, expect, it } from "vitest";
import { compileStatement, getPlan } from "../../src/core/compiler.js";
import { ParameterError } from "../../src/core/errors.js";
import { detectParameterStyles, placeholderFor, splitPlaceholders } from "../../src/core/parameters.js";
import { type Dialect, ParameterStyle, type Params } from "../../src/core/types.js";

const S = ParameterStyle;

function conv(text: string, params: Params | undefined, target: ParameterStyle, dialect: Dialect = "postgres") {
  return compileStatement(text, params, target, dialect);
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

describe("every input style → $n and → ?", () => {
  const cases: [string, ParameterStyle, string, Params, Dialect?][] = [
    ["qmark", S.QMARK, "SELECT * FROM t WHERE a = ? AND b = ?", [1, 2], "sqlite"],
    ["numeric", S.NUMERIC, "SELECT * FROM t WHERE a = $1 AND b = $2", [1, 2]],
    ["positional_colon", S.POSITIONAL_COLON, "SELECT * FROM t WHERE a = :1 AND b = :2", [1, 2]],
    ["named_colon", S.NAMED_COLON, "SELECT * FROM t WHERE a = :a AND b = :b", { a: 1, b: 2 }],
    ["named_at", S.NAMED_AT, "SELECT * FROM t WHERE a = @a AND b = @b", { a: 1, b: 2 }],
    ["named_dollar", S.NAMED_DOLLAR, "SELECT * FROM t WHERE a = $a AND b = $b", { a: 1, b: 2 }, "sqlite"],
    ["pyformat_named", S.NAMED_PYFORMAT, "SELECT * FROM t WHERE a = %(a)s AND b = %(b)s", { a: 1, b: 2 }],
    ["pyformat_positional", S.POSITIONAL_PYFORMAT, "SELECT * FROM t WHERE a = %s AND b = %s", [1, 2]],
  ];
  for (const [label, style, text, params, dialect] of cases) {
    it(`${label}: detected, converted to $n and to ?`, () => {
      expect(detectParameterStyles(text, dialect)).toEqual([style]);
      const numeric = conv(text, params, S.NUMERIC, dialect);
      expect(numeric).toEqual({ sql: "SELECT * FROM t WHERE a = $1 AND b = $2", parameters: [1, 2] });
      const qmark = conv(text, params, S.QMARK, dialect);
      expect(qmark).toEqual({ sql: "SELECT * FROM t WHERE a = ? AND b = ?", parameters: [1, 2] });
    });
  }

  it("converts to every target style", () => {
    const text = "UPDATE t SET a = :a WHERE id = :id";
    const p = { a: "x", id: 7 };
    expect(conv(text, p, S.POSITIONAL_COLON).sql).toBe("UPDATE t SET a = :1 WHERE id = :2");
    expect(conv(text, p, S.NAMED_AT).sql).toBe("UPDATE t SET a = @a WHERE id = @id");
    expect(conv(text, p, S.NAMED_DOLLAR).sql).toBe("UPDATE t SET a = $a WHERE id = $id");
    expect(conv(text, p, S.NAMED_PYFORMAT).sql).toBe("UPDATE t SET a = %(a)s WHERE id = %(id)s");
    expect(conv(text, p, S.POSITIONAL_PYFORMAT)).toEqual({
      sql: "UPDATE t SET a = %s WHERE id = %s",
      parameters: ["x", 7],
    });
    const named = getPlan(text, S.NAMED_COLON, "postgres");
    expect(named.sql).toBe(text);
    expect(named.parameterNames).toEqual(["a", "id"]);
  });

  it("positional input to a named target gets p1, p2 … names", () => {
    const plan = getPlan("SELECT $2, $1", S.NAMED_COLON, "postgres");
    expect(plan.sql).toBe("SELECT :p2, :p1");
    expect(plan.parameterNames).toEqual(["p1", "p2"]);
    expect(plan.bind(["a", "b"])).toEqual(["a", "b"]);
  });
});

describe("deduplication and reuse", () => {
  it(":a, :b, :a → $1, $2, $1 with 2 values", () => {
    expect(conv("SELECT :a, :b, :a", { a: 1, b: 2 }, S.NUMERIC)).toEqual({
      sql: "SELECT $1, $2, $1",
      parameters: [1, 2],
    });
  });
  it(":a, :b, :a → ?, ?, ? with 3 values", () => {
    expect(conv("SELECT :a, :b, :a", { a: 1, b: 2 }, S.QMARK)).toEqual({
      sql: "SELECT ?, ?, ?",
      parameters: [1, 2, 1],
    });
  });
  it("$n reused and reordered → ? repeats values in text order", () => {
    expect(conv("SELECT $2, $1, $2", ["a", "b"], S.QMARK)).toEqual({
      sql: "SELECT ?, ?, ?",
      parameters: ["b", "a", "b"],
    });
  });
  it("named styles share one namespace", () => {
    expect(conv("SELECT :a, @a, %(b)s", { a: 1, b: 2 }, S.NUMERIC)).toEqual({
      sql: "SELECT $1, $1, $2",
      parameters: [1, 2],
    });
  });
  it("$1 and :1 mix as numbered placeholders", () => {
    expect(conv("SELECT $1, :2", [1, 2], S.QMARK).parameters).toEqual([1, 2]);
  });
  it("sqlite ?NNN is numbered", () => {
    expect(conv("SELECT ?2, ?1, ?2", ["a", "b"], S.NUMERIC, "sqlite")).toEqual({
      sql: "SELECT $2, $1, $2",
      parameters: ["a", "b"],
    });
    expect(conv("SELECT ?2, ?1", ["a", "b"], S.QMARK, "sqlite")).toEqual({
      sql: "SELECT ?, ?",
      parameters: ["b", "a"],
    });
  });
  it("? and %s mix as sequential placeholders", () => {
    expect(conv("SELECT ?, %s", [1, 2], S.NUMERIC, "sqlite").sql).toBe("SELECT $1, $2");
  });
});

describe("placeholder-like text that is not a placeholder", () => {
  const untouched: [string, string, Dialect?][] = [
    ["single-quoted string", "SELECT ':a ? $1 @b %s %(c)s' AS x"],
    ["doubled quote in string", "SELECT 'it''s :a' AS x"],
    ["E-string with backslash-escaped quote", "SELECT E'\\' :a ?' AS x"],
    ["quoted identifier", 'SELECT ":a?" FROM "$1"'],
    ["backtick identifier", "SELECT `:a` FROM `?`", "mysql"],
    ["bracket identifier on sqlite", "SELECT [:a] FROM t", "sqlite"],
    ["line comment", "SELECT 1 -- :a ? $1\n"],
    ["block comment", "SELECT 1 /* :a ? */"],
    ["nested block comment", "SELECT 1 /* outer /* :inner */ :still_comment ? */"],
    ["dollar-quoted body", "SELECT $$ :a ? $1 $$"],
    ["tagged dollar quote", "SELECT $fn$ :a $$ ? $fn$"],
    ["::cast", "SELECT '1'::int, x::text, y::varchar(3)"],
    ["jsonb ?| and ?&", "SELECT data ?| array['a'], data ?& array['b'] FROM t"],
    ["mysql backslash string", "SELECT 'a\\' :b' FROM t", "mysql"],
    ["mysql user variable", "SELECT @total := 1, @@version", "mysql"],
    ["mysql # comment", "SELECT 1 # :a ?\n", "mysql"],
    [":= assignment", "SELECT @x := 5", "mysql"],
    ["array slice", "SELECT arr[1:2], arr[lo:hi] FROM t"],
    ["<@ operator", "SELECT a <@b FROM t"],
    ["%% literal", "SELECT 10 %% 3"],
    ["identifier with $", "SELECT a$1 FROM t"],
  ];
  for (const [label, text, dialect] of untouched) {
    it(label, () => {
      const plan = getPlan(text, S.NUMERIC, dialect ?? "postgres");
      expect(plan.sql).toBe(text);
      expect(plan.placeholderCount).toBe(0);
      expect(plan.bind(undefined)).toEqual([]);
    });
  }

  it("placeholders next to strings, comments and casts are still found", () => {
    const text = "SELECT ':x' || :a::text /* :y */, $$:z$$ || :b -- :c\n FROM t";
    expect(conv(text, { a: 1, b: 2 }, S.NUMERIC).sql).toBe(
      "SELECT ':x' || $1::text /* :y */, $$:z$$ || $2 -- :c\n FROM t",
    );
  });

  it("postgres: a bare ? between two operands is the jsonb operator, beside placeholders of any style", () => {
    expect(conv("SELECT data ? 'k' FROM t WHERE id = $1", [1], S.NUMERIC).sql).toBe(
      "SELECT data ? 'k' FROM t WHERE id = $1",
    );
    expect(conv("SELECT data ? 'k' FROM t WHERE id = :id", { id: 1 }, S.NUMERIC).sql).toBe(
      "SELECT data ? 'k' FROM t WHERE id = $1",
    );
    // compiling that to ? style would put the operator beside a placeholder (tests/core/lexer-postgres.test.ts)
    raises(() => conv("SELECT data ? 'k' FROM t WHERE id = :id", { id: 1 }, S.QMARK), /Cannot compile to \?/);
  });

  it("postgres: a ? where a value goes is a QMARK placeholder (Python sqlspec's rule)", () => {
    expect(conv("SELECT * FROM t WHERE id = ?", [1], S.NUMERIC).sql).toBe("SELECT * FROM t WHERE id = $1");
  });

  it("postgres: a ? placeholder without params explains how ? is read", () => {
    raises(() => conv("SELECT * FROM t WHERE id = ?", undefined, S.NUMERIC), /jsonb operator/);
  });

  it("inputStyle restricts detection to that style", () => {
    const plan = getPlan("SELECT :a, ?, $1, @b", S.NUMERIC, "postgres", S.NUMERIC);
    expect(plan.sql).toBe("SELECT :a, ?, $1, @b");
    expect(plan.bind([5])).toEqual([5]);
    expect(getPlan("SELECT :a, $1, @b", S.QMARK, "postgres", S.NUMERIC).sql).toBe("SELECT :a, ?, @b");
  });

  it("@name on mysql only when it is the requested input style", () => {
    expect(getPlan("SELECT @a", S.QMARK, "mysql", S.NAMED_AT).sql).toBe("SELECT ?");
  });
});

describe("ParameterError for every mismatch, before any I/O", () => {
  it("missing name", () => {
    const e = raises(() => conv("SELECT :a, :b", { a: "secret-value" }, S.NUMERIC), /Missing named parameter "b"/);
    expect(e.message).toContain(":a, :b");
    expect(e.message).not.toContain("secret-value");
  });
  it("unused named value", () => {
    raises(() => conv("SELECT :a", { a: 1, extra: "secret-value" }, S.NUMERIC), /Unused named parameter "extra"/);
  });
  it("too few positional values", () => {
    raises(
      () => conv("SELECT $1, $2", [1], S.QMARK),
      /expects 2 positional parameters \(\$1\.\.\$2\) but 1 was given \(too few\)/,
    );
  });
  it("too many positional values", () => {
    const e = raises(
      () => conv("SELECT ?", [1, "secret-value"], S.NUMERIC, "sqlite"),
      /expects 1 positional parameter .* 2 were given \(too many\)/,
    );
    expect(e.message).not.toContain("secret-value");
  });
  it("object for positional SQL", () => {
    raises(
      () => conv("SELECT $1", { a: 1 }, S.NUMERIC),
      /positional placeholder .*expects an array, but an object was given/,
    );
  });
  it("array for named SQL", () => {
    raises(
      () => conv("SELECT :a", [1], S.NUMERIC),
      /named placeholders \(:a\) and expects an object.*array of 1 was given/,
    );
  });
  it("values for SQL without placeholders", () => {
    raises(() => conv("SELECT 1", [1], S.NUMERIC), /no placeholders, but 1 positional value was given/);
    raises(() => conv("SELECT 1", { a: 1 }, S.NUMERIC), /no placeholders, but named values were given for "a"/);
  });
  it("no params for SQL with placeholders", () => {
    raises(() => conv("SELECT $1", undefined, S.NUMERIC), /expects 1 positional parameter \(\$1\) but none were given/);
    raises(() => conv("SELECT :a", undefined, S.NUMERIC), /expects named parameters \(:a\) but none were given/);
  });
  it("a gap in $n numbering", () => {
    raises(() => conv("SELECT $1, $3", [1, 2, 3], S.NUMERIC), /never uses \$2/);
  });
  it("named mixed with positional, where the number contradicts the position (mixes resolve otherwise)", () => {
    raises(() => getPlan("SELECT :a, $1", S.NUMERIC, "postgres"), /\$1 cannot be read: this statement mixes/);
  });
  it("numbered mixed with sequential, where the number contradicts the position", () => {
    raises(() => getPlan("SELECT ?, $1", S.NUMERIC, "sqlite"), /\$1 cannot be read: this statement mixes/);
  });
  it("a scalar instead of params", () => {
    raises(() => getPlan("SELECT $1", S.NUMERIC, "postgres").bind(5 as never), /must be an array or an object/);
  });
  it("empty array or object is fine for SQL without placeholders", () => {
    expect(conv("SELECT 1", [], S.NUMERIC).parameters).toEqual([]);
    expect(conv("SELECT 1", {}, S.NUMERIC).parameters).toEqual([]);
  });
});

describe("splitPlaceholders / placeholderFor (builder API)", () => {
  it("splits positional text", () => {
    expect(splitPlaceholders("a = ? AND b = ?")).toEqual({
      parts: ["a = ", " AND b = ", ""],
      refs: [
        { kind: "positional", index: 0 },
        { kind: "positional", index: 1 },
      ],
      style: S.QMARK,
    });
    expect(splitPlaceholders("x = $2 OR y = $1").refs).toEqual([
      { kind: "positional", index: 1 },
      { kind: "positional", index: 0 },
    ]);
  });
  it("splits named text and skips strings", () => {
    const r = splitPlaceholders("id = :id AND s = ':no' AND n = :id");
    expect(r.parts).toEqual(["id = ", " AND s = ':no' AND n = ", ""]);
    expect(r.refs).toEqual([
      { kind: "named", name: "id" },
      { kind: "named", name: "id" },
    ]);
    expect(r.style).toBe(S.NAMED_COLON);
  });
  it("no placeholders", () => {
    expect(splitPlaceholders("a = 1")).toEqual({ parts: ["a = 1"], refs: [], style: undefined });
  });
  it("placeholderFor renders each style", () => {
    expect([S.QMARK, S.NUMERIC, S.POSITIONAL_COLON, S.POSITIONAL_PYFORMAT].map((s) => placeholderFor(s, 2))).toEqual([
      "?",
      "$3",
      ":3",
      "%s",
    ]);
    expect([S.NAMED_COLON, S.NAMED_AT, S.NAMED_DOLLAR, S.NAMED_PYFORMAT].map((s) => placeholderFor(s, 0, "x"))).toEqual(
      [":x", "@x", "$x", "%(x)s"],
    );
    expect(placeholderFor(S.NAMED_COLON, 1)).toBe(":p2");
  });
});
