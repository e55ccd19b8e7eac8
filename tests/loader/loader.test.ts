import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { NamedSQL, SQLFileNotFoundError, SQLFileParseError, SQLSpec } from "../../src/index.js";
import { parseSqlText, SQLFileLoader } from "../../src/loader/index.js";

let root: string;
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, "t-"));
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}
function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error");
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sqlspec-loader-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("SQL file format", () => {
  test("name lines are case-insensitive, hyphens become underscores, operation suffixes stay out of the name", () => {
    const parsed = parseSqlText(
      "-- name: get-user-by-id\nSELECT 1\n--NAME:create_user<!\nINSERT INTO t VALUES (1)\n-- Name : list_all*\nSELECT 2\n",
      "f.sql",
    );
    expect(parsed.map((p) => [p.name, p.suffix, p.line])).toEqual([
      ["get_user_by_id", undefined, 1],
      ["create_user", "<!", 3],
      ["list_all", "*", 5],
    ]);
  });

  test("dialect lines and their aliases; an unknown dialect names the file and line", () => {
    const parsed = parseSqlText(
      [
        "-- name: a",
        "-- dialect: postgresql",
        "SELECT 1",
        "-- name: b",
        "-- dialect: pg",
        "SELECT 2",
        "-- name: c",
        "-- dialect: sqlite3",
        "SELECT 3",
        "-- name: d",
        "-- dialect: MariaDB",
        "SELECT 4",
        "-- name: e",
        "SELECT 5",
      ].join("\n"),
      "f.sql",
    );
    expect(parsed.map((p) => p.dialect)).toEqual(["postgres", "postgres", "sqlite", "mysql", undefined]);
    expect(parsed.map((p) => p.text)).toEqual(["SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4", "SELECT 5"]);
    const err = caught(() => parseSqlText("-- name: a\n-- dialect: cobol\nSELECT 1", "x/f.sql"));
    expect(err).toBeInstanceOf(SQLFileParseError);
    expect(err.message).toMatch(/^x\/f\.sql:2: Unknown dialect "cobol"/);
  });

  test("leading comments are dropped; comments and ; inside the body are kept; one trailing ; goes", () => {
    const body = [
      "SELECT 'a;b' AS s, -- a comment; with a semicolon",
      "       $$x;y$$ AS d /* block; comment */",
      "FROM (SELECT 1) AS t;",
    ];
    const [q] = parseSqlText(
      ["-- name: q", "-- what it does", "/* a header", "   comment */", "", ...body, ""].join("\n"),
      "f",
    );
    expect(q!.text).toBe(body.join("\n").slice(0, -1));
    expect(q!.bodyLine).toBe(6);
  });

  test("CRLF files parse like LF files", () => {
    const lf = "-- name: a\n-- dialect: pg\nSELECT 1\nFROM t\n\n-- name: b\nSELECT 2\n";
    const crlf = lf.replace(/\n/g, "\r\n");
    expect(parseSqlText(crlf, "f")).toEqual(parseSqlText(lf, "f"));
    expect(parseSqlText(crlf, "f")[0]!.text).toBe("SELECT 1\nFROM t");
  });

  test("a file with no named statement, SQL before the first name, an empty body and a bad name are errors", () => {
    expect(caught(() => parseSqlText("SELECT 1;\n", "a.sql")).message).toMatch(/^a\.sql: no named SQL statement/);
    expect(caught(() => parseSqlText("-- just a comment\n", "a.sql"))).toBeInstanceOf(SQLFileParseError);
    expect(caught(() => parseSqlText("-- header\nSELECT 0;\n-- name: a\nSELECT 1", "a.sql")).message).toMatch(
      /^a\.sql:2: SQL before the first "-- name:" line/,
    );
    expect(caught(() => parseSqlText("-- name: a\n-- nothing\n-- name: b\nSELECT 1", "a.sql")).message).toBe(
      'a.sql:1: query "a" has no SQL',
    );
    expect(caught(() => parseSqlText("-- name: two words\nSELECT 1", "a.sql")).message).toMatch(
      /^a\.sql:1: invalid query name "two words"/,
    );
    expect(caught(() => parseSqlText("-- name: a\nSELECT 1\n-- name: a\nSELECT 2", "a.sql")).message).toBe(
      'a.sql: duplicate query name "a" at lines 1 and 3',
    );
  });
});

describe("SQLFileLoader", () => {
  test("folders become dot namespaces, loaded recursively in a stable order; a file given directly has none", () => {
    const dir = tree({
      "users/lookups.sql": "-- name: get_by_id\nSELECT 1\n-- name: by-email\nSELECT 2",
      "reports/daily.sql": "-- name: totals\nSELECT 3",
      "reports/monthly-v2/summary.sql": "-- name: summary\nSELECT 4",
      "b.sql": "-- name: top_b\nSELECT 5",
      "a.sql": "-- name: top_a\nSELECT 6",
      "notes.txt": "-- name: ignored\nSELECT 7",
      ".hidden/x.sql": "-- name: hidden\nSELECT 8",
    });
    const loader = new SQLFileLoader().load(dir);
    expect(loader.listQueries()).toEqual([
      "top_a",
      "top_b",
      "reports.totals",
      "reports.monthly_v2.summary",
      "users.get_by_id",
      "users.by_email",
    ]);
    expect(loader.listQueries("reports")).toEqual(["reports.totals", "reports.monthly_v2.summary"]);
    const single = new SQLFileLoader().load(join(dir, "users", "lookups.sql"));
    expect(single.listQueries()).toEqual(["get_by_id", "by_email"]);
  });

  test("a duplicate name across files names both files and lines, and leaves the loader unchanged", () => {
    const dir = tree({
      "users/a.sql": "-- name: first\nSELECT 1\n\n-- name: get\nSELECT 1",
      "users/b.sql": "-- name: other\nSELECT 2\n-- name: get\nSELECT 2",
    });
    const loader = new SQLFileLoader();
    const err = caught(() => loader.load(dir));
    expect(err).toBeInstanceOf(SQLFileParseError);
    expect(err.message).toContain('Duplicate query name "users.get"');
    expect(err.message).toMatch(/users\/a\.sql:4 and .*users\/b\.sql:3/);
    expect(loader.listQueries()).toEqual([]);
    // the same across two load calls
    loader.load(join(dir, "users", "a.sql"));
    const again = caught(() => loader.load(join(dir, "users", "b.sql")));
    expect(again.message).toMatch(/Duplicate query name "get": .*a\.sql:4 and .*b\.sql:3/);
    expect(loader.listQueries()).toEqual(["first", "get"]);
  });

  test("an unknown name raises SQLFileNotFoundError listing the closest names", () => {
    const dir = tree({
      "users/q.sql": "-- name: get_by_id\nSELECT 1\n-- name: get_by_ids\nSELECT 2\n-- name: delete_all\nSELECT 3",
    });
    const loader = new SQLFileLoader().load(dir);
    const err = caught(() => loader.getSql("users.get_by_idd"));
    expect(err).toBeInstanceOf(SQLFileNotFoundError);
    expect(err.message).toBe(
      'Query "users.get_by_idd" not found. Did you mean: users.get_by_id, users.get_by_ids? (3 queries loaded)',
    );
    expect(caught(() => loader.getSql("nothing_like_it")).message).toBe(
      'Query "nothing_like_it" not found. (3 queries loaded)',
    );
    expect(caught(() => new SQLFileLoader().getSql("x")).message).toMatch(/no SQL files are loaded/);
    expect(caught(() => loader.load(join(dir, "missing")))).toBeInstanceOf(SQLFileNotFoundError);
  });

  test("a file reloaded with new content replaces its queries; unchanged content is not parsed again", () => {
    const dir = tree({ "q.sql": "-- name: a\nSELECT 'unique-content-1'\n-- name: b\nSELECT 2" });
    const loader = new SQLFileLoader().load(dir);
    expect(loader.stats).toEqual({ filesRead: 1, filesParsed: 1 });
    loader.load(dir);
    expect(loader.stats).toEqual({ filesRead: 2, filesParsed: 1 });
    writeFileSync(join(dir, "q.sql"), "-- name: a\nSELECT 'unique-content-2'\n-- name: c\nSELECT 3");
    loader.load(dir);
    expect(loader.listQueries()).toEqual(["a", "c"]);
    expect(loader.getQueryText("a")).toBe("SELECT 'unique-content-2'");
    expect(loader.hasQuery("b")).toBe(false);
  });

  test("a 5,000-query folder loaded twice: the second load parses nothing", () => {
    const files: Record<string, string> = {};
    for (let f = 0; f < 250; f++) {
      const blocks: string[] = [];
      for (let q = 0; q < 20; q++) {
        blocks.push(
          `-- name: q_${f}_${q}\n-- dialect: postgres\n-- returns one row\nSELECT id, name, '${f};${q}' AS tag\nFROM items\nWHERE id = :id AND name <> 'x;y';\n`,
        );
      }
      files[`ns${f % 25}/file_${f}.sql`] = blocks.join("\n");
    }
    const dir = tree(files);
    const loader = new SQLFileLoader();
    const t0 = performance.now();
    loader.load(dir);
    const first = performance.now() - t0;
    const afterFirst = { ...loader.stats };
    const t1 = performance.now();
    loader.load(dir);
    const second = performance.now() - t1;
    expect(loader.listQueries()).toHaveLength(5000);
    expect(afterFirst).toEqual({ filesRead: 250, filesParsed: 250 });
    expect(loader.stats).toEqual({ filesRead: 500, filesParsed: 250 });
    // A new loader (a new SQLSpec, say) shares the content cache: it reads and hashes, but parses nothing either.
    const fresh = new SQLFileLoader();
    const t2 = performance.now();
    fresh.load(dir);
    const third = performance.now() - t2;
    expect(fresh.stats).toEqual({ filesRead: 250, filesParsed: 0 });
    expect(fresh.listQueries()).toHaveLength(5000);
    console.log(
      `5,000 queries in 250 files: first load ${first.toFixed(1)} ms (250 files parsed), ` +
        `second load ${second.toFixed(1)} ms (0 parsed), new loader ${third.toFixed(1)} ms (0 parsed)`,
    );
  });
});

describe("SQLSpec.loadSqlFiles / getSql on PGlite", () => {
  const spec = new SQLSpec();
  const db = spec.addConfig(new PgliteConfig());
  afterAll(() => spec.closeAllPools());

  test("getSql returns a SQL object with the dialect attached that any session method runs", async () => {
    const dir = tree({
      "items/queries.sql": [
        "-- name: create",
        "-- dialect: postgresql",
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, note text)",
        "",
        "-- name: insert-item",
        "-- inserts one item; returns the id",
        'INSERT INTO items (id, name, note) VALUES (:id, :name, :note) RETURNING id AS "id!";',
        "",
        "-- name: get_by_id",
        'SELECT id, name AS "name!", note AS "note?", \'a;b\' AS semi, -- a comment; here',
        "       $$x;y$$ AS dollar /* ; */",
        "FROM items WHERE id = :id",
      ].join("\r\n"),
    });
    spec.loadSqlFiles(dir);
    expect(spec.listQueries()).toEqual(["items.create", "items.insert_item", "items.get_by_id"]);
    expect(spec.hasQuery("items.get_by_id")).toBe(true);
    const get = spec.getSql("items.get_by_id");
    expect(get).toBeInstanceOf(NamedSQL);
    expect(get.dialect).toBeUndefined();
    expect(spec.getSql("items.create").dialect).toBe("postgres");
    expect(get.name).toBe("items.get_by_id");
    expect(get.source?.line).toBe(9);
    // annotations come off the text that runs, so the returned keys are the bare names
    expect(spec.getQueryText("items.get_by_id")).toContain('name AS "name", note AS "note"');
    expect(spec.getQueryText("items.insert_item")).toBe(
      'INSERT INTO items (id, name, note) VALUES (:id, :name, :note) RETURNING id AS "id"',
    );
    await db.withSession(async (session) => {
      await session.execute(spec.getSql("items.create"));
      const inserted = await session.selectValue(spec.getSql("items.insert_item"), {
        id: 7,
        name: "seven",
        note: null,
      });
      expect(inserted).toBe(7);
      expect(await session.selectOne(get, { id: 7 })).toEqual({
        id: 7,
        name: "seven",
        note: null,
        semi: "a;b",
        dollar: "x;y",
      });
    });
  });
});
