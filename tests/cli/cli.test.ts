import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "src/cli/index.ts");
/** The TypeScript loader, by absolute URL: the CLI also runs from folders without node_modules. */
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

/** Runs `sqlspec …` as a user would (a child process), from `cwd`. */
function sqlspec(args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], { cwd, env: { ...process.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const NO_STACK = /^\s+at /m;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sqlspec-cli-"));
  writeFileSync(join(dir, "schema.sql"), "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, tag text);\n");
  mkdirSync(join(dir, "sql", "notes"), { recursive: true });
  writeFileSync(
    join(dir, "sql", "notes", "q.sql"),
    "-- name: get\nSELECT id, body, tag FROM notes WHERE id = :id;\n\n-- name: all\nSELECT id FROM notes;\n",
  );
  mkdirSync(join(dir, "static"));
  writeFileSync(join(dir, "static", "q.sql"), "-- name: one\nSELECT 1 AS one;\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each test works in its own files, so they run side by side (most of their time is PGlite starting).
describe.concurrent("sqlspec CLI", () => {
  test("--help and --version exit 0", async () => {
    const help = await sqlspec(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("generate [options] <sql...>");
    const version = await sqlspec(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  test("usage errors exit 1 with a one-line message and no stack", async () => {
    const missing = await sqlspec(["generate", "sql"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error: required option '-o, --out <file.ts>' not specified");
    const unknown = await sqlspec(["frobnicate"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
    const noSchema = await sqlspec(["generate", "static", "--out", "x.ts"], dir);
    expect(noSchema.code).toBe(1);
    expect(noSchema.stderr).toBe(
      "error: Give --schema <file.sql | migrations folder> (embedded PGlite) or --database-url <url>\n",
    );
    const noFolder = await sqlspec(["generate", "nope", "--out", "x.ts", "--schema", "schema.sql"], dir);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toBe("error: SQL file or folder not found: nope\n");
    for (const r of [missing, unknown, noSchema, noFolder]) expect(r.stderr).not.toMatch(NO_STACK);
  });

  test("a query the database rejects exits 1 naming the file, line and query", async () => {
    const bad = join(dir, "bad");
    mkdirSync(join(bad, "notes"), { recursive: true });
    writeFileSync(
      join(bad, "notes", "q.sql"),
      "-- name: ok\nSELECT 1 AS one;\n\n-- name: broken\nSELECT id,\n  bodyy\nFROM notes;\n",
    );
    const r = await sqlspec(["generate", "bad", "--schema", "schema.sql", "--out", "bad.gen.ts"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 of 2 queries failed to describe:");
    expect(r.stderr).toContain(`${join("bad", "notes", "q.sql")}:6: notes.broken: column "bodyy" does not exist`);
    expect(r.stderr).not.toMatch(NO_STACK);
  });

  test("generate writes the module; --check exits 0 when fresh and 1 naming the queries that changed", async () => {
    const gen = await sqlspec(["generate", "sql", "--schema", "schema.sql", "--out", "src/q.gen.ts"], dir);
    expect(gen.stderr).toBe("");
    expect(gen.code).toBe(0);
    expect(gen.stdout).toMatch(/^Wrote src\/q\.gen\.ts: 2 queries \(\d+\.\d s\)\n$/);
    const code = readFileSync(join(dir, "src", "q.gen.ts"), "utf8");
    expect(code).toContain('import { typedQuery } from "sqlspec";');
    expect(code).toContain("  body: string;\n  tag: string | null;\n");

    const args = ["generate", "sql", "--schema", "schema.sql", "--out", "src/q.gen.ts", "--check"];
    const fresh = await sqlspec(args, dir);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toBe("src/q.gen.ts is up to date (2 queries)\n");

    writeFileSync(
      join(dir, "sql", "notes", "q.sql"),
      "-- name: get\nSELECT id, body FROM notes WHERE id = :id;\n\n-- name: count\nSELECT count(*) AS n FROM notes;\n",
    );
    const stale = await sqlspec(args, dir);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toBe(
      [
        "src/q.gen.ts is stale:",
        "  changed: notes.get",
        "  added: notes.count",
        "  removed: notes.all",
        "Run the same command without --check to update it.",
        "",
      ].join("\n"),
    );
    expect(readFileSync(join(dir, "src", "q.gen.ts"), "utf8")).toBe(code); // --check never writes
  });

  test("the worked example's generated module is up to date", async () => {
    const r = await sqlspec([
      "generate",
      "examples/typed-queries/sql",
      "--schema",
      "examples/typed-queries/schema.sql",
      "--out",
      "examples/typed-queries/queries.gen.ts",
      "--import-from",
      "../../src/index.js",
      "--check",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("--dialect sqlite describes with better-sqlite3", async () => {
    writeFileSync(
      join(dir, "lite.sql"),
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag TEXT, score REAL NOT NULL);\n" +
        "CREATE TABLE tags (name TEXT NOT NULL);\n" +
        "CREATE TABLE flags (on_ BOOLEAN NOT NULL, at DATETIME NOT NULL, doc JSON);\n",
    );
    mkdirSync(join(dir, "lite", "notes"), { recursive: true });
    writeFileSync(
      join(dir, "lite", "notes", "q.sql"),
      [
        "-- name: get",
        "-- dialect: sqlite",
        "SELECT id, body, tag, score FROM notes WHERE id = :id;",
        "-- name: with_tags",
        'SELECT n.body, t.name, count(*) AS "n!: number" FROM notes n LEFT JOIN tags t ON t.name = n.tag GROUP BY 1, 2;',
        "-- name: flags",
        "SELECT on_, at, doc FROM flags;",
        "-- name: pg_only",
        "-- dialect: postgres",
        "SELECT now();",
      ].join("\n"),
    );
    const r = await sqlspec(
      ["generate", "lite", "--dialect", "sqlite", "--schema", "lite.sql", "--out", "lite.gen.ts"],
      dir,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("note: skipped 1 queries written for another dialect: notes.pg_only\n");
    const code = readFileSync(join(dir, "lite.gen.ts"), "utf8");
    expect(code).toContain(
      "export interface NotesGetRow {\n  id: number;\n  body: string;\n  tag: string | null;\n  score: number;\n}",
    );
    expect(code).toContain(
      "export interface NotesWithTagsRow {\n  body: string;\n  name: string | null;\n  n: number;\n}",
    );
    // The types the SQLite adapter reads these declared types as (booleans, Dates, parsed JSON).
    expect(code).toContain("export interface NotesFlagsRow {\n  on_: boolean;\n  at: Date;\n  doc: unknown;\n}");
    expect(code).toContain('{ dialect: "sqlite" }');
  });

  test("an unreachable --database-url exits 1 without a stack", async () => {
    const r = await sqlspec(
      ["generate", "static", "--database-url", "postgres://app:secret@127.0.0.1:1/none", "--out", "x.ts"],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: Cannot connect to the --database-url server (postgres://app:***@127.0.0.1:1/none): connect ECONNREFUSED 127.0.0.1:1\n",
    );
    expect(r.stderr).not.toMatch(NO_STACK);
  });
});
