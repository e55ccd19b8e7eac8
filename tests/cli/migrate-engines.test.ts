/**
 * `sqlspec migrate` spawned from a temp project folder on SQLite, DuckDB and MariaDB (the PostgreSQL path is in
 * migrate.test.ts): init → create → upgrade → current → downgrade -1 → upgrade, checksums exact, --dry-run changes
 * nothing. On SQLite, two processes upgrading one file at once apply each migration once.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import type { DatabaseConfig } from "../../src/driver/database-config.js";
import { expectedChecksum } from "../migrations/suite.js";
import { MYSQL_URL } from "../support/servers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "src/cli/index.ts");
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sqlspec(args: string[], cwd: string): Promise<Run> {
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

interface Engine {
  name: string;
  /** The module and class the project's config imports, and its poolConfig (as source text). */
  adapter: "sqlite" | "duckdb" | "mysql";
  className: string;
  pool(dir: string): string;
  /** A config of the test process on the same database (opened and closed around each look: DuckDB files are
   * opened by one process at a time). */
  open(dir: string): DatabaseConfig<any, any, any>;
}

const engines: Engine[] = [
  {
    name: "SQLite",
    adapter: "sqlite",
    className: "SqliteConfig",
    pool: (dir) => `{ database: ${JSON.stringify(join(dir, "app.sqlite"))} }`,
    open: (dir) => new SqliteConfig({ poolConfig: { database: join(dir, "app.sqlite") } }),
  },
  {
    name: "DuckDB",
    adapter: "duckdb",
    className: "DuckdbConfig",
    pool: (dir) => `{ database: ${JSON.stringify(join(dir, "app.duckdb"))} }`,
    open: (dir) => new DuckdbConfig({ poolConfig: { database: join(dir, "app.duckdb") } }),
  },
  {
    name: "MariaDB",
    adapter: "mysql",
    className: "MysqlConfig",
    pool: () => `{ connectionString: ${JSON.stringify(MYSQL_URL)}, maxSize: 2 }`,
    open: () => new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 1 } }),
  },
];

const roots: string[] = [];
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

function project(e: Engine): { dir: string; table: string; p: string } {
  const dir = mkdtempSync(join(tmpdir(), "sqlspec-migrate-engine-"));
  roots.push(dir);
  const pkg = join(dir, "node_modules", "sqlspec");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({
      name: "sqlspec",
      type: "module",
      exports: { ".": "./index.ts", [`./adapters/${e.adapter}`]: "./adapter.ts" },
    }),
  );
  writeFileSync(join(pkg, "index.ts"), `export * from ${JSON.stringify(join(ROOT, "src/index.ts"))};\n`);
  writeFileSync(
    join(pkg, "adapter.ts"),
    `export * from ${JSON.stringify(join(ROOT, `src/adapters/${e.adapter}/index.ts`))};\n`,
  );
  const id = randomBytes(4).toString("hex");
  const table = `cli_mig_${id}`;
  writeFileSync(
    join(dir, "sqlspec.config.ts"),
    `import { ${e.className} } from "sqlspec/adapters/${e.adapter}";

export default new ${e.className}({
  poolConfig: ${e.pool(dir)},
  migrationConfig: { scriptLocation: "db/migrations", versionTableName: "${table}" },
});
`,
  );
  return { dir, table, p: `c_${id}` };
}

async function look<T>(e: Engine, dir: string, fn: (db: DatabaseConfig<any, any, any>) => Promise<T>): Promise<T> {
  const db = e.open(dir);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const exists = (e: Engine, dir: string, table: string) =>
  look(e, dir, (db) =>
    db.withSession(async (s) => (await s.adapter.introspector!.getColumns(s.adapter, s.conn, table)).length > 0),
  );

describe.concurrent("sqlspec migrate on SQLite, DuckDB and MariaDB (spawned)", { timeout: 300_000 }, () => {
  test.each(engines)(
    "$name: init → create → upgrade → current → downgrade -1 → upgrade; --dry-run; checksums",
    async (e) => {
      const { dir, table, p } = project(e);
      const init = await sqlspec(["migrate", "init"], dir);
      expect(init).toMatchObject({ code: 0, stderr: "" });
      expect(init.stdout).toContain("Migrations folder ready: db/migrations");
      const created = await sqlspec(["migrate", "create", "add", "users"], dir);
      expect(created).toMatchObject({ code: 0, stdout: "Created db/migrations/0001_add_users.sql\n", stderr: "" });
      const f1 = join(dir, "db/migrations/0001_add_users.sql");
      expect(readFileSync(f1, "utf8")).toContain("-- name: migrate-0001-up");
      writeFileSync(
        f1,
        `-- name: migrate-0001-up\nCREATE TABLE ${p}_users (id INT PRIMARY KEY);\n\n-- name: migrate-0001-down\nDROP TABLE ${p}_users;\n`,
      );
      const f2 = join(dir, "db/migrations/0002_add_posts.sql");
      writeFileSync(
        f2,
        `-- name: migrate-0002-up\nCREATE TABLE ${p}_posts (id INT);\n\n-- name: migrate-0002-down\nDROP TABLE ${p}_posts;\n`,
      );

      const dry = await sqlspec(["migrate", "upgrade", "--dry-run"], dir);
      expect(dry).toMatchObject({ code: 0, stderr: "" });
      expect(dry.stdout).toBe(
        `-- 0001 add users: would apply${e.adapter === "mysql" ? " (not in a transaction)" : ""}\n` +
          `CREATE TABLE ${p}_users (id INT PRIMARY KEY);\n` +
          `-- 0002 add posts: would apply${e.adapter === "mysql" ? " (not in a transaction)" : ""}\n` +
          `CREATE TABLE ${p}_posts (id INT);\n` +
          "Dry run: 2 migration(s) would apply; nothing changed\n",
      );
      expect(await exists(e, dir, table)).toBe(false);
      expect(await exists(e, dir, `${p}_users`)).toBe(false);

      const up = await sqlspec(["migrate", "upgrade"], dir);
      expect(up.stderr).toBe("");
      expect(up.code).toBe(0);
      expect(up.stdout).toMatch(
        /^applied 0001 add users \(\d+ ms\)\napplied 0002 add posts \(\d+ ms\)\nApplied 2 in \d+\.\d s; database at 0002 add posts\n$/,
      );
      const current = await sqlspec(["migrate", "current", "--json"], dir);
      expect(JSON.parse(current.stdout)).toMatchObject({ version: "0002", description: "add posts", type: "sql" });

      const downDry = await sqlspec(["migrate", "downgrade", "-1", "--dry-run"], dir);
      expect(downDry.code).toBe(0);
      expect(downDry.stdout).toContain(
        `DROP TABLE ${p}_posts;\nDry run: 1 migration(s) would revert; nothing changed\n`,
      );
      expect(await exists(e, dir, `${p}_posts`)).toBe(true);

      const down = await sqlspec(["migrate", "downgrade", "-1", "--yes"], dir);
      expect(down.code).toBe(0);
      expect(down.stdout).toMatch(
        /^reverted 0002 add posts \(\d+ ms\)\nReverted 1 in .*; database at 0001 add users\n$/,
      );
      expect(await exists(e, dir, `${p}_posts`)).toBe(false);
      expect(await exists(e, dir, `${p}_users`)).toBe(true);

      expect((await sqlspec(["migrate", "upgrade"], dir)).code).toBe(0);
      const history = await sqlspec(["migrate", "history", "--json"], dir);
      expect(
        JSON.parse(history.stdout).map((r: Record<string, unknown>) => [r.version, r.executionSequence, r.checksum]),
      ).toEqual([
        ["0001", 1, expectedChecksum(f1)],
        ["0002", 2, expectedChecksum(f2)],
      ]);
      expect(await sqlspec(["migrate", "check"], dir)).toMatchObject({
        code: 0,
        stdout: "Migrations are up to date\n",
        stderr: "",
      });
      if (e.adapter === "mysql") {
        await look(e, dir, (db) =>
          db.withSession((s) => s.executeScript(`DROP TABLE ${p}_users; DROP TABLE ${p}_posts; DROP TABLE ${table}`)),
        );
      }
    },
  );

  test("SQLite: two processes upgrading one file at once apply each migration once", async () => {
    const e = engines[0] as Engine;
    const { dir, table, p } = project(e);
    mkdirSync(join(dir, "db/migrations"), { recursive: true });
    for (let i = 1; i <= 3; i++) {
      const v = String(i).padStart(4, "0");
      // a slow code migration holds the write lock (its transaction began IMMEDIATE) while the other process waits
      writeFileSync(
        join(dir, `db/migrations/${v}_m${i}.ts`),
        `export async function up(session: { execute(sql: string): Promise<unknown> }): Promise<void> {\n` +
          `  await session.execute("CREATE TABLE ${p}_${i} (id INT)");\n` +
          "  await new Promise((r) => setTimeout(r, 300));\n}\n",
      );
    }
    const [a, b] = await Promise.all([sqlspec(["migrate", "upgrade"], dir), sqlspec(["migrate", "upgrade"], dir)]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    const lines = (a.stdout + b.stdout).split("\n");
    expect(
      lines
        .filter((l) => l.startsWith("applied "))
        .map((l) => l.split(" ")[1])
        .sort(),
    ).toEqual(["0001", "0002", "0003"]);
    const rows = await look(e, dir, (db) =>
      db.withSession((s) => s.select(`SELECT version, execution_sequence FROM ${table} ORDER BY version`)),
    );
    expect(rows).toEqual([
      { version: "0001", execution_sequence: 1 },
      { version: "0002", execution_sequence: 2 },
      { version: "0003", execution_sequence: 3 },
    ]);
  });
});
