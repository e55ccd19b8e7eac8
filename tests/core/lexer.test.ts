import { describe, expect, it } from "vitest";
import {
  lex,
  TK_CAST,
  TK_COMMENT,
  TK_OP,
  TK_PLACEHOLDER,
  TK_QIDENT,
  TK_STRING,
  TK_WORD,
  type TokenKind,
} from "../../src/core/lexer.js";
import type { Dialect } from "../../src/core/types.js";

function kinds(text: string, dialect: Dialect = "postgres"): [TokenKind, string][] {
  return lex(text, dialect).map((t) => [t.kind, text.slice(t.start, t.end)]);
}

describe("lexer", () => {
  it("E-strings are one string token with backslash escapes", () => {
    expect(kinds("E'a\\'b' x")).toEqual([
      [TK_STRING, "E'a\\'b'"],
      [TK_WORD, "x"],
    ]);
    // a plain string on PostgreSQL does not honour backslashes
    expect(kinds("'a\\' x")).toEqual([
      [TK_STRING, "'a\\'"],
      [TK_WORD, "x"],
    ]);
  });
  it("MySQL strings honour backslashes, and double quotes are strings", () => {
    expect(kinds("'a\\'b' \"c\\\"d\"", "mysql")).toEqual([
      [TK_STRING, "'a\\'b'"],
      [TK_STRING, '"c\\"d"'],
    ]);
  });
  it("dollar quotes on postgres/duckdb only", () => {
    expect(kinds("$a$ x $$ y $a$", "postgres")).toEqual([[TK_STRING, "$a$ x $$ y $a$"]]);
    expect(kinds("$$x$$", "duckdb")).toEqual([[TK_STRING, "$$x$$"]]);
    expect(kinds("$a", "sqlite")[0]![0]).toBe(TK_PLACEHOLDER);
  });
  it("block comments nest on postgres only", () => {
    expect(kinds("/* a /* b */ c */ d")).toEqual([
      [TK_COMMENT, "/* a /* b */ c */"],
      [TK_WORD, "d"],
    ]);
    expect(kinds("/* a /* b */ c", "sqlite")).toEqual([
      [TK_COMMENT, "/* a /* b */"],
      [TK_WORD, "c"],
    ]);
  });
  it("MySQL: -- needs a following space; # starts a comment", () => {
    expect(kinds("1--1", "mysql").map((k) => k[1])).toEqual(["1", "-", "-", "1"]);
    expect(kinds("1 -- c", "mysql")[1]).toEqual([TK_COMMENT, "-- c"]);
    expect(kinds("1 # c\n2", "mysql")).toEqual([
      [TK_WORD, "1"],
      [TK_COMMENT, "# c"],
      [TK_WORD, "2"],
    ]);
    expect(kinds("1 # c")[1]).toEqual([TK_OP, "#"]);
  });
  it("quoted identifiers: double quotes, backticks (not on PostgreSQL), SQLite brackets", () => {
    expect(kinds('"a""b" `c``d`', "mysql")).toEqual([
      [TK_STRING, '"a""b"'],
      [TK_QIDENT, "`c``d`"],
    ]);
    expect(kinds('"a""b" `c``d`', "sqlite")).toEqual([
      [TK_QIDENT, '"a""b"'],
      [TK_QIDENT, "`c``d`"],
    ]);
    expect(kinds("[a b]", "sqlite")).toEqual([[TK_QIDENT, "[a b]"]]);
    expect(kinds("a[1]", "postgres").map((k) => k[1])).toEqual(["a", "[", "1", "]"]);
  });
  it("casts and jsonb operators", () => {
    expect(kinds("x::int ?| y ?& z")).toEqual([
      [TK_WORD, "x"],
      [TK_CAST, "::"],
      [TK_WORD, "int"],
      [TK_OP, "?|"],
      [TK_WORD, "y"],
      [TK_OP, "?&"],
      [TK_WORD, "z"],
    ]);
  });
  it("numbers with exponents are one token", () => {
    expect(kinds("1.5e-3+.5").map((k) => k[1])).toEqual(["1.5e-3", "+", ".5"]);
  });
  it("placeholder details", () => {
    const [num, named, py] = lex("$12 :name %(x)s").filter((t) => t.kind === TK_PLACEHOLDER);
    expect(num).toMatchObject({ style: "numeric", num: 12 });
    expect(named).toMatchObject({ style: "named_colon", name: "name" });
    expect(py).toMatchObject({ style: "pyformat_named", name: "x" });
  });
  it("unterminated strings and comments run to the end without throwing", () => {
    expect(kinds("'abc")).toEqual([[TK_STRING, "'abc"]]);
    expect(kinds("/* abc")).toEqual([[TK_COMMENT, "/* abc"]]);
    expect(kinds("$$ abc")).toEqual([[TK_STRING, "$$ abc"]]);
  });
});
