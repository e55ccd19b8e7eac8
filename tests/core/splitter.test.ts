import { describe, expect, it } from "vitest";
import { splitScript } from "../../src/core/splitter.js";

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
