import { describe, expect, it } from "vitest";
import { getPlan } from "../../src/core/compiler.js";
import { ParameterError } from "../../src/core/errors.js";
import { lex, TK_OP, TK_PLACEHOLDER, TK_QIDENT } from "../../src/core/lexer.js";
import { type Dialect, ParameterStyle, type Params } from "../../src/core/types.js";

/**
 * The classes of real-world PostgreSQL that the lexer refused or misread (issue 9, "The lexer against real-world
 * PostgreSQL"): one block per class, each with the neighbours that must stay as they were.
 */
const S = ParameterStyle;

function texts(text: string, dialect: Dialect = "postgres"): string[] {
  return lex(text, dialect).map((t) => text.slice(t.start, t.end));
}

function placeholders(text: string, dialect: Dialect = "postgres"): string[] {
  return lex(text, dialect)
    .filter((t) => t.kind === TK_PLACEHOLDER)
    .map((t) => text.slice(t.start, t.end));
}

/** The text compiles to $n unchanged, with no placeholder, and binds nothing. */
function unchanged(text: string): void {
  const plan = getPlan(text, S.NUMERIC, "postgres");
  expect(plan.sql).toBe(text);
  expect(plan.placeholderCount).toBe(0);
  expect(plan.bind(undefined)).toEqual([]);
}

function compiled(text: string, params: Params, target: ParameterStyle = S.NUMERIC) {
  const plan = getPlan(text, target, "postgres");
  return { sql: plan.sql, parameters: plan.bind(params) };
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

describe("operators made of operator characters are one token, as PostgreSQL reads them", () => {
  it("@? (jsonpath exists) is one operator, not @ plus a placeholder", () => {
    expect(texts("doc @? '$.a'")).toEqual(["doc", "@?", "'$.a'"]);
    unchanged("SELECT id FROM docs WHERE doc @? '$.tags[*] ? (@ == \"x\")'");
    expect(compiled("SELECT id FROM docs WHERE doc @? $1::jsonpath AND id > $2", ["$.a", 0])).toEqual({
      sql: "SELECT id FROM docs WHERE doc @? $1::jsonpath AND id > $2",
      parameters: ["$.a", 0],
    });
  });
  it("a wrong value count next to @? never suggests jsonb_exists", () => {
    const e = raises(() => compiled("SELECT doc @? '$.a' FROM docs", [1]), /no placeholders/);
    expect(e.message).not.toMatch(/jsonb_exists/);
  });
  it("the geometric operators ?-, ?-|, ?#, ?|| are single operators", () => {
    expect(texts("?- lseg '((0,0),(1,0))'")).toEqual(["?-", "lseg", "'((0,0),(1,0))'"]);
    expect(texts("a ?-| b")).toEqual(["a", "?-|", "b"]);
    expect(texts("a ?# b")).toEqual(["a", "?#", "b"]);
    expect(texts("a ?|| b")).toEqual(["a", "?||", "b"]);
    unchanged("SELECT ?- lseg '((0,0),(1,0))', lseg '((0,0),(0,1))' ?-| lseg '((0,0),(1,0))'");
    unchanged("SELECT lseg '((0,0),(1,1))' ?# box '((0,0),(2,2))', lseg '((0,0),(1,0))' ?|| lseg '((0,1),(1,1))'");
  });
  it("neighbours: ?| ?& <@ @> @@ stay operators; = ? and ||? keep their placeholder", () => {
    expect(texts("a ?| b ?& c <@ d @> e @@ f")).toEqual(["a", "?|", "b", "?&", "c", "<@", "d", "@>", "e", "@@", "f"]);
    expect(compiled("SELECT * FROM t WHERE id=? AND name LIKE '%'||?||'%'", [1, "x"])).toEqual({
      sql: "SELECT * FROM t WHERE id=$1 AND name LIKE '%'||$2||'%'",
      parameters: [1, "x"],
    });
    expect(compiled("SELECT * FROM t WHERE a<>?", [1]).sql).toBe("SELECT * FROM t WHERE a<>$1");
    expect(compiled("SELECT * FROM t WHERE a=@id", { id: 1 }).sql).toBe("SELECT * FROM t WHERE a=$1");
    expect(compiled("SELECT * FROM t WHERE a=%(id)s", { id: 1 }).sql).toBe("SELECT * FROM t WHERE a=$1");
    expect(texts("a>=-1")).toEqual(["a", ">=", "-", "1"]); // PostgreSQL's rule: no trailing - without a special char
  });
});

describe("a bare jsonb ? with no other placeholder", () => {
  it("is the operator where it sits between two operands", () => {
    unchanged("SELECT doc ? 'k' FROM t");
    unchanged("SELECT (doc -> 'a') ? 'k', doc->'b' ? 'x' FROM t WHERE doc ? 'z'");
    unchanged("SELECT \"doc\" ? 'k' FROM t");
  });
  it("is a placeholder where an operand is expected", () => {
    expect(compiled("SELECT doc ? ? FROM t", ["k"]).sql).toBe("SELECT doc ? $1 FROM t");
    expect(compiled("SELECT ?::jsonb ? 'k'", ["{}"]).sql).toBe("SELECT $1::jsonb ? 'k'");
    expect(compiled("SELECT doc ? 'k', ? FROM t", [1]).sql).toBe("SELECT doc ? 'k', $1 FROM t");
  });
  it("neighbours: ? after keywords, operators, ( and , stays a placeholder", () => {
    const cases: [string, number][] = [
      ["SELECT ?", 1],
      ["SELECT * FROM t WHERE a = ? AND b IN (?, ?) OR c BETWEEN ? AND ?", 5],
      ["SELECT * FROM t WHERE name ILIKE ? ESCAPE ? LIMIT ? OFFSET ?", 4],
      ["SELECT CASE WHEN ? THEN ? ELSE ? END", 3],
      ["SELECT * FROM t WHERE id = ANY(?) OR x IS DISTINCT FROM ?", 2],
      ["SELECT * FROM t ORDER BY id OFFSET ? ROWS FETCH FIRST ? ROWS ONLY", 2],
      ["INSERT INTO t VALUES (?, ?) RETURNING ?", 3],
      ["UPDATE t SET a = ?, b = NOT ? WHERE c = -?", 3],
      ["SELECT substring(? FROM ? FOR ?), position(? IN ?), ? AT TIME ZONE ?", 7],
    ];
    for (const [text, n] of cases) {
      const plan = getPlan(text, S.NUMERIC, "postgres");
      expect(plan.placeholderCount, text).toBe(n);
      expect(plan.sql, text).not.toContain("?");
    }
  });
  it("is refused only where it is truly ambiguous", () => {
    raises(() => getPlan("SELECT doc ? FROM t", S.NUMERIC, "postgres"), /ambiguous/);
  });
  it("compiling to ? style never puts an operator ? beside a ? placeholder", () => {
    raises(
      () => getPlan("SELECT * FROM t WHERE doc ? 'a' AND 1 = $1", S.QMARK, "postgres"),
      /operator .*\?.* placeholder/,
    );
    raises(() => getPlan("SELECT * FROM t WHERE doc ?| array['a'] AND id = :id", S.QMARK, "postgres"), /\?\|/);
    // the same statements are fine in $n style, and an operator alone is fine in ? style
    expect(getPlan("SELECT * FROM t WHERE doc ? 'a' AND 1 = $1", S.NUMERIC, "postgres").sql).toBe(
      "SELECT * FROM t WHERE doc ? 'a' AND 1 = $1",
    );
    expect(getPlan("SELECT doc ? 'a' FROM t", S.QMARK, "postgres").sql).toBe("SELECT doc ? 'a' FROM t");
  });
});

describe("array slices are not placeholders", () => {
  it("a[:3], a[:n], a[(1):2], a[array_lower(a,1):2], a[1 :2]", () => {
    for (const text of [
      "SELECT a[:3] FROM t",
      "SELECT a[:n] FROM t",
      "SELECT a[(1):2] FROM t",
      "SELECT a[array_lower(a,1):2] FROM t",
      "SELECT a[1 :2] FROM t",
      "SELECT a[1:2][:1], a[:], (f(x))[2:] FROM t",
    ]) {
      unchanged(text);
    }
  });
  it("neighbours: placeholders inside subscripts and array constructors", () => {
    expect(placeholders("SELECT a[$1:$2], a[1: :hi], ARRAY[:x, :y], ARRAY[[:z]] FROM t")).toEqual([
      "$1",
      "$2",
      ":hi",
      ":x",
      ":y",
      ":z",
    ]);
    expect(compiled("SELECT ARRAY[:x, :y] && a[:lo:], v FROM t WHERE v = :v", { x: 1, y: 2, v: 3 }).sql).toBe(
      "SELECT ARRAY[$1, $2] && a[:lo:], v FROM t WHERE v = $3",
    );
  });
});

describe("@f.f1 (absolute value of a qualified column) is not a named parameter", () => {
  it("@ before a qualified name is the operator", () => {
    unchanged("SELECT @f.f1 AS abs_f1 FROM float8_tbl f");
    unchanged('SELECT @f."f1", @ f.f1 FROM float8_tbl f');
  });
  it("neighbours: @name is still a placeholder, @@ and <@ are operators", () => {
    expect(placeholders("SELECT @id, x @@ y, a <@ b, @n")).toEqual(["@id", "@n"]);
  });
});

describe("comments ended by a lone carriage return", () => {
  it("the comment ends at \\r and the next line is SQL", () => {
    const text = "SELECT 1 -- note\rFROM t WHERE id = :id";
    expect(compiled(text, { id: 1 }).sql).toBe("SELECT 1 -- note\rFROM t WHERE id = $1");
  });
  it("neighbours: \\n and \\r\\n", () => {
    expect(compiled("SELECT 1 -- :no\r\nWHERE a = :id", { id: 1 }).sql).toBe("SELECT 1 -- :no\r\nWHERE a = $1");
    expect(compiled("SELECT 1 -- :no\nWHERE a = :id", { id: 1 }).sql).toBe("SELECT 1 -- :no\nWHERE a = $1");
  });
});

describe("the backtick quotes identifiers only on MySQL and SQLite (and BigQuery)", () => {
  it("PostgreSQL reads ` as an operator character", () => {
    expect(lex("`a;b`", "postgres").some((t) => t.kind === TK_QIDENT)).toBe(false);
    expect(lex("`a`", "postgres").every((t) => t.kind !== TK_QIDENT)).toBe(true);
    expect(placeholders("SELECT `:a`", "postgres")).toEqual([":a"]);
  });
  it("MySQL and SQLite read `…` as a quoted identifier", () => {
    for (const dialect of ["mysql", "sqlite"] as const) {
      expect(lex("`a;:b`", dialect).map((t) => t.kind)).toEqual([TK_QIDENT]);
    }
  });
  it("DuckDB does not: its parser rejects the backtick, so the lexer claims no identifier there", () => {
    expect(lex("`a`", "duckdb").some((t) => t.kind === TK_QIDENT)).toBe(false);
  });
  it("neighbours: double quotes are identifiers on PostgreSQL", () => {
    expect(lex('"a`b"', "postgres").map((t) => t.kind)).toEqual([TK_QIDENT]);
    expect(lex("a ~ b", "postgres").map((t) => t.kind)).toEqual([4, TK_OP, 4]);
  });
});

describe("compiling to ? next to a ?-operator: the hint fits the operator", () => {
  const refusal = (text: string): string => {
    try {
      getPlan(text, S.QMARK, "postgres");
    } catch (e) {
      expect(e).toBeInstanceOf(ParameterError);
      return (e as Error).message;
    }
    throw new Error(`compiled: ${text}`);
  };
  it("the jsonb key operators name their function", () => {
    expect(refusal("SELECT 1 FROM t WHERE d ? 'a' AND id = $1")).toMatch(
      /operator \? .*a \? b as jsonb_exists\(a, b\)/,
    );
    expect(refusal("SELECT 1 FROM t WHERE d ?| array['a'] AND id = $1")).toMatch(/as jsonb_exists_any\(a, b\)/);
    expect(refusal("SELECT 1 FROM t WHERE d ?& array['a'] AND id = $1")).toMatch(/as jsonb_exists_all\(a, b\)/);
  });
  it("other operators get no jsonb advice", () => {
    for (const [text, op] of [
      ["SELECT 1 FROM t WHERE d @? '$.a' AND id = $1", "@?"],
      ["SELECT 1 FROM t WHERE a ?-| b AND id = $1", "?-|"],
      ["SELECT 1 FROM t WHERE a ?# b AND id = $1", "?#"],
    ] as const) {
      const m = refusal(text);
      expect(m).toContain(`the operator ${op} at offset`);
      expect(m).toMatch(/Compile to \$n/);
      expect(m).not.toMatch(/jsonb_exists/);
    }
  });
});
