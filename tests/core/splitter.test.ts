import { describe, expect, it } from "vitest";
import { parseScript, splitScript } from "../../src/core/splitter.js";

describe("splitScript", () => {
  it("splits on top-level ; and drops empty pieces", () => {
    expect(splitScript("SELECT 1; SELECT 2;;\n ; SELECT 3")).toEqual(["SELECT 1", "SELECT 2", "SELECT 3"]);
  });
  it("never splits inside strings, identifiers or comments", () => {
    const script = `INSERT INTO t VALUES ('a;b', E'c\\';d'); SELECT "x;y" FROM t -- c;d
; /* e; /* nested; */ f; */ SELECT 2`;
    expect(splitScript(script)).toEqual([
      "INSERT INTO t VALUES ('a;b', E'c\\';d')",
      'SELECT "x;y" FROM t -- c;d',
      "/* e; /* nested; */ f; */ SELECT 2",
    ]);
  });
  it("drops comment-only pieces", () => {
    expect(splitScript("-- header\n; /* nothing */ ; SELECT 1; -- trailing")).toEqual(["SELECT 1"]);
  });
  it("never splits inside dollar-quoted bodies", () => {
    const fn = `CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1;
  RETURN 2;
END;
$$`;
    const tagged = "DO $body$ BEGIN RAISE NOTICE 'x;$$'; END $body$";
    expect(splitScript(`${fn};\n${tagged};\nSELECT f();`)).toEqual([fn, tagged, "SELECT f()"]);
  });
  it("keeps BEGIN … END bodies of SQLite triggers together", () => {
    const trig = `CREATE TRIGGER tr AFTER INSERT ON t
BEGIN
  UPDATE c SET n = CASE WHEN n IS NULL THEN 1 ELSE n + 1 END;
  DELETE FROM log WHERE id < 0;
END`;
    expect(splitScript(`CREATE TABLE t (id int);\n${trig};\nINSERT INTO t VALUES (1);`, "sqlite")).toEqual([
      "CREATE TABLE t (id int)",
      trig,
      "INSERT INTO t VALUES (1)",
    ]);
  });
  it("keeps MySQL procedure bodies with IF/END IF and CASE/END CASE together", () => {
    const proc = `CREATE PROCEDURE p() BEGIN
  IF 1 THEN SELECT 1; END IF;
  CASE WHEN 1 THEN SELECT 2; END CASE;
  SELECT 3;
END`;
    expect(splitScript(`${proc}; SELECT 4`, "mysql")).toEqual([proc, "SELECT 4"]);
  });
  it("PostgreSQL BEGIN ATOMIC function bodies", () => {
    const fn = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END";
    expect(splitScript(`${fn}; SELECT 3`)).toEqual([fn, "SELECT 3"]);
  });
  it("a transaction BEGIN is an ordinary statement", () => {
    expect(splitScript("BEGIN; INSERT INTO t VALUES (1); COMMIT;")).toEqual([
      "BEGIN",
      "INSERT INTO t VALUES (1)",
      "COMMIT",
    ]);
  });
  it("CASE … END in a plain statement does not swallow the ;", () => {
    expect(splitScript("SELECT CASE WHEN a THEN 1 END FROM t; SELECT 2")).toEqual([
      "SELECT CASE WHEN a THEN 1 END FROM t",
      "SELECT 2",
    ]);
  });
});

describe("splitScript against real-world PostgreSQL (issue 9)", () => {
  it("honours backslash escapes in '…' after SET standard_conforming_strings = off, until it is on again", () => {
    const script = [
      "SET standard_conforming_strings = off;",
      "INSERT INTO t VALUES ('a\\'; b');",
      "SELECT 'c\\\\';",
      "SELECT 2;",
      "SET standard_conforming_strings TO 'on';",
      "SELECT 'd\\';",
      "SELECT 3;",
      "SET SESSION standard_conforming_strings = false;",
      "SELECT 'e\\';';",
      "RESET standard_conforming_strings;",
      "SELECT 'f\\';",
    ].join("\n");
    expect(splitScript(script)).toEqual([
      "SET standard_conforming_strings = off",
      "INSERT INTO t VALUES ('a\\'; b')",
      "SELECT 'c\\\\'",
      "SELECT 2",
      "SET standard_conforming_strings TO 'on'",
      "SELECT 'd\\'",
      "SELECT 3",
      "SET SESSION standard_conforming_strings = false",
      "SELECT 'e\\';'",
      "RESET standard_conforming_strings",
      "SELECT 'f\\'",
    ]);
  });
  it("neighbours: by default '…' ignores backslashes and E'…' honours them", () => {
    expect(splitScript("SELECT 'a\\'; SELECT E'b\\'; c'; SELECT 1")).toEqual([
      "SELECT 'a\\'",
      "SELECT E'b\\'; c'",
      "SELECT 1",
    ]);
    // MySQL strings always honour backslashes
    expect(splitScript("SELECT 'a\\'; b'; SELECT 1", "mysql")).toEqual(["SELECT 'a\\'; b'", "SELECT 1"]);
  });
  it("a -- comment ended by a lone \\r does not swallow the statements after it", () => {
    expect(splitScript("SELECT 1; -- first\rSELECT 2; SELECT 3;\r-- last\rSELECT 4")).toEqual([
      "SELECT 1",
      "-- first\rSELECT 2",
      "SELECT 3",
      "-- last\rSELECT 4",
    ]);
    // neighbours: MySQL and SQLite end comments at \n only, as their own lexers do
    expect(splitScript("SELECT 1 # c\rSELECT 2; SELECT 3", "mysql")).toEqual(["SELECT 1 # c\rSELECT 2; SELECT 3"]);
    expect(splitScript("SELECT 1 -- c\rSELECT 2; SELECT 3", "sqlite")).toEqual(["SELECT 1 -- c\rSELECT 2; SELECT 3"]);
  });
  it("the backtick is not a quote on PostgreSQL (it is on MySQL and SQLite)", () => {
    expect(splitScript("SELECT 1 `; SELECT 2 `; SELECT 3")).toEqual(["SELECT 1 `", "SELECT 2 `", "SELECT 3"]);
    expect(splitScript("SELECT `a;b` FROM t; SELECT 2", "mysql")).toEqual(["SELECT `a;b` FROM t", "SELECT 2"]);
    expect(splitScript("SELECT `a;b` FROM t; SELECT 2", "sqlite")).toEqual(["SELECT `a;b` FROM t", "SELECT 2"]);
  });
  it("keeps a pg_dump-style COPY … FROM stdin block together with its data", () => {
    const script = [
      "CREATE TABLE t (a int, b text);",
      "COPY public.t (a, b) FROM stdin;",
      "1\tx; DROP TABLE t;",
      "2\tit's 'quoted' $$ /* not a comment",
      "\\.",
      "SELECT count(*) FROM t;",
    ].join("\n");
    expect(splitScript(script)).toEqual([
      "CREATE TABLE t (a int, b text)",
      "COPY public.t (a, b) FROM stdin;\n1\tx; DROP TABLE t;\n2\tit's 'quoted' $$ /* not a comment\n\\.",
      "SELECT count(*) FROM t",
    ]);
    expect(parseScript(script)).toEqual([
      { sql: "CREATE TABLE t (a int, b text)" },
      {
        sql: "COPY public.t (a, b) FROM stdin",
        copyData: "1\tx; DROP TABLE t;\n2\tit's 'quoted' $$ /* not a comment\n",
      },
      { sql: "SELECT count(*) FROM t" },
    ]);
  });
  it("COPY data runs to the end of the script when \\. is missing; \\r\\n line ends work", () => {
    expect(parseScript("COPY t FROM STDIN WITH (FORMAT csv);\r\n1,2\r\n\\.\r\nSELECT 1;")).toEqual([
      { sql: "COPY t FROM STDIN WITH (FORMAT csv)", copyData: "1,2\r\n" },
      { sql: "SELECT 1" },
    ]);
    expect(parseScript("COPY t FROM stdin;\n1\n2")).toEqual([{ sql: "COPY t FROM stdin", copyData: "1\n2" }]);
  });
  it("neighbours: COPY … TO STDOUT and COPY FROM a file are ordinary statements", () => {
    expect(parseScript("COPY t TO STDOUT; COPY t FROM '/tmp/x'; SELECT 1")).toEqual([
      { sql: "COPY t TO STDOUT" },
      { sql: "COPY t FROM '/tmp/x'" },
      { sql: "SELECT 1" },
    ]);
  });
  it("psql meta-commands (pg_dump's \\restrict) are pieces of their own, never glued to SQL", () => {
    const script = "--\n-- dump\n--\n\\restrict Key1\n-- x\nSET a = 1;\nSELECT 1 \\unrestrict Key1\n;";
    expect(parseScript(script)).toEqual([
      { sql: "\\restrict Key1", metaCommand: true },
      { sql: "-- x\nSET a = 1" },
      { sql: "\\unrestrict Key1", metaCommand: true },
      { sql: "SELECT 1" },
    ]);
    // neighbours: a backslash inside a string, or on other dialects, is not a meta-command
    expect(parseScript("SELECT 'a\\b'; SELECT E'\\\\'")).toEqual([{ sql: "SELECT 'a\\b'" }, { sql: "SELECT E'\\\\'" }]);
    expect(splitScript("SELECT 1 \\x\n; SELECT 2", "mysql")).toEqual(["SELECT 1 \\x", "SELECT 2"]);
  });
  it("psql's \\g sends the statement, \\; separates, COPY … FROM STDOUT reads data, U&'…' never takes backslashes", () => {
    expect(parseScript("SELECT 1 \\g\nSELECT 2 \\gx\nSELECT 3\\; SELECT 4;")).toEqual([
      { sql: "SELECT 1" },
      { sql: "SELECT 2" },
      { sql: "SELECT 3" },
      { sql: "SELECT 4" },
    ]);
    expect(parseScript("copy t from stdout;\n1\n\\.\nSELECT 1")).toEqual([
      { sql: "copy t from stdout", copyData: "1\n" },
      { sql: "SELECT 1" },
    ]);
    // psql sets its lexer up per line: the new setting counts from the next line (checked against psql 15)
    const off = "SET standard_conforming_strings = off;\nSELECT U&'a\\'; SELECT 'b\\';';";
    expect(splitScript(off)).toEqual(["SET standard_conforming_strings = off", "SELECT U&'a\\'", "SELECT 'b\\';'"]);
    const sameLine = "SET standard_conforming_strings = off; SELECT 'b\\';';";
    expect(splitScript(sameLine)).toEqual(["SET standard_conforming_strings = off", "SELECT 'b\\'", "';"]);
  });
});
