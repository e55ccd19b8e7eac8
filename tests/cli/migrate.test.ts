/**
 * `sqlspec migrate` as a user runs it: the bin spawned from a temp project folder whose sqlspec.config.ts imports
 * "sqlspec", against the real PostgreSQL server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PG_URL } from "../support/servers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "src/cli/index.ts");
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
const NO_STACK = /^\s+at /m;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Run>; stderr(): string } {
  const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], { cwd, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => {
    stdout += d;
  });
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

const sqlspec = (args: string[], cwd: string, env?: Record<string, string>) => start(args, cwd, env).done;

const admin = new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } });
const roots: string[] = [];

/** A project folder: sqlspec.config.ts for PG_URL with its own tracking table; returns the folder and names. */
function project(): { dir: string; table: string; p: string } {
  const dir = mkdtempSync(join(tmpdir(), "sqlspec-migrate-cli-"));
  roots.push(dir);
  // "sqlspec" resolves to this checkout's sources (jiti loads them: a second copy beside the CLI's, as when a
  // project's config resolves the CommonJS build while the bin is the ES one).
  const pkg = join(dir, "node_modules", "sqlspec");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, "package.json"),
    JSON.stringify({ name: "sqlspec", type: "module", exports: { ".": "./index.ts", "./adapters/pg": "./pg.ts" } }),
  );
  writeFileSync(join(pkg, "index.ts"), `export * from ${JSON.stringify(join(ROOT, "src/index.ts"))};\n`);
  writeFileSync(join(pkg, "pg.ts"), `export * from ${JSON.stringify(join(ROOT, "src/adapters/pg/index.ts"))};\n`);
  const id = randomBytes(4).toString("hex");
  const table = `cli_mig_${id}`;
  writeFileSync(
    join(dir, "sqlspec.config.ts"),
    `import { SQLSpec } from "sqlspec";
import { PgConfig } from "sqlspec/adapters/pg";

const spec = new SQLSpec();
spec.addConfig(
  new PgConfig({
    poolConfig: { connectionString: ${JSON.stringify(PG_URL)}, maxSize: 2 },
    migrationConfig: { scriptLocation: "db/migrations", versionTableName: "${table}" },
    bindKey: "main",
  }),
);
export default spec;
`,
  );
  return { dir, table, p: `c_${id}` };
}

const q = <T>(sql: string) => admin.withSession((s) => s.select<T>(sql));

afterAll(async () => {
  await admin.close();
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

// Each test spawns the CLI several times; on a loaded machine one spawn can take seconds.
describe.concurrent("sqlspec migrate (spawned, PostgreSQL)", { timeout: 300_000 }, () => {
  test("init → create → upgrade → current → downgrade -1 → upgrade; --dry-run; history; check", async () => {
    const { dir, table, p } = project();
    const init = await sqlspec(["migrate", "init"], dir);
    expect(init).toMatchObject({ code: 0, stderr: "" });
    expect(init.stdout).toContain("Migrations folder ready: db/migrations");

    const created = await sqlspec(["migrate", "create", "add", "users"], dir);
    expect(created.code).toBe(0);
    expect(created.stdout).toBe("Created db/migrations/0001_add_users.sql\n");
    const f1 = join(dir, "db/migrations/0001_add_users.sql");
    expect(readFileSync(f1, "utf8")).toContain("-- name: migrate-0001-up");
    writeFileSync(
      f1,
      `-- name: migrate-0001-up\nCREATE TABLE ${p}_users (id int PRIMARY KEY);\n\n-- name: migrate-0001-down\nDROP TABLE ${p}_users;\n`,
    );
    writeFileSync(
      join(dir, "db/migrations/0002_add_posts.sql"),
      `-- name: migrate-0002-up\nCREATE TABLE ${p}_posts (id int);\n\n-- name: migrate-0002-down\nDROP TABLE ${p}_posts;\n`,
    );

    const pendingCheck = await sqlspec(["migrate", "check"], dir);
    expect(pendingCheck.code).toBe(2);
    expect(pendingCheck.stderr).toContain("pending: 0001 add users (db/migrations/0001_add_users.sql)");

    const dry = await sqlspec(["migrate", "upgrade", "--dry-run"], dir);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      `-- 0001 add users: would apply\nCREATE TABLE ${p}_users (id int PRIMARY KEY);\n` +
        `-- 0002 add posts: would apply\nCREATE TABLE ${p}_posts (id int);\n` +
        "Dry run: 2 migration(s) would apply; nothing changed\n",
    );
    expect(await q(`SELECT to_regclass('${table}') AS t`)).toEqual([{ t: null }]);

    const up = await sqlspec(["migrate", "upgrade"], dir);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(
      /^applied 0001 add users \(\d+ ms\)\napplied 0002 add posts \(\d+ ms\)\nApplied 2 in \d+\.\d s; database at 0002 add posts\n$/,
    );
    const current = await sqlspec(["migrate", "current", "--json"], dir);
    expect(JSON.parse(current.stdout)).toMatchObject({ version: "0002", description: "add posts", type: "sql" });

    const refused = await sqlspec(["migrate", "downgrade"], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "error: downgrade changes what the database records: pass --yes to confirm (stdin is not a terminal)\n",
    );
    const down = await sqlspec(["migrate", "downgrade", "-1", "--yes"], dir);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^reverted 0002 add posts \(\d+ ms\)\nReverted 1 in .*; database at 0001 add users\n$/);
    expect(await q(`SELECT to_regclass('${p}_posts') AS t`)).toEqual([{ t: null }]);

    expect((await sqlspec(["migrate", "upgrade"], dir)).code).toBe(0);
    const history = await sqlspec(["migrate", "history", "--json"], dir);
    expect(
      JSON.parse(history.stdout).map((r: { version: string; executionSequence: number }) => [
        r.version,
        r.executionSequence,
      ]),
    ).toEqual([
      ["0001", 1],
      ["0002", 2],
    ]);
    const ok = await sqlspec(["migrate", "check"], dir);
    expect(ok).toMatchObject({ code: 0, stdout: "Migrations are up to date\n", stderr: "" });

    // drift: check exits 2 naming the file
    writeFileSync(f1, readFileSync(f1, "utf8").replace("PRIMARY KEY", "PRIMARY KEY, name text"));
    const drift = await sqlspec(["migrate", "check"], dir);
    expect(drift.code).toBe(2);
    expect(drift.stderr).toContain(
      "drift: db/migrations/0001_add_users.sql changed after it was applied (version 0001)",
    );
    const stamp = await sqlspec(["migrate", "stamp", "0002", "--yes"], dir);
    expect(stamp).toMatchObject({ code: 0, stdout: "checksum updated: 0001\nStamped: database at 0002\n" });
    for (const r of [refused, drift]) expect(r.stderr).not.toMatch(NO_STACK);
  });

  test("two upgrade processes at once apply every migration once", async () => {
    const { dir, table, p } = project();
    mkdirSync(join(dir, "db/migrations"), { recursive: true });
    for (let i = 1; i <= 3; i++) {
      const v = String(i).padStart(4, "0");
      writeFileSync(
        join(dir, `db/migrations/${v}_m${i}.sql`),
        `-- name: migrate-${v}-up\nCREATE TABLE ${p}_${i} (id int);\nSELECT pg_sleep(1);\n`,
      );
    }
    // Hold the runners' lock so both must wait, then let them race for it.
    const holder = await admin.provideSession();
    const key = `('x' || substr(md5('sqlspec-migrations:${table}'), 1, 16))::bit(64)::bigint`;
    let released = false;
    let results: Run[];
    try {
      expect(await holder.selectValue(`SELECT pg_try_advisory_lock(${key})`)).toBe(true);
      const runners = [start(["migrate", "upgrade"], dir), start(["migrate", "upgrade"], dir)];
      const deadline = Date.now() + 120_000;
      while (
        !runners.every((r) => r.stderr().includes(`waiting for another runner's migration lock on "${table}"...`))
      ) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await holder.selectValue(`SELECT pg_advisory_unlock(${key})`)).toBe(true);
      released = true;
      results = await Promise.all(runners.map((r) => r.done));
    } finally {
      await holder.release(released ? undefined : new Error("lock held"));
    }
    const [a, b] = results as [Run, Run];
    expect([a.code, b.code]).toEqual([0, 0]);
    const appliedLines = (a.stdout + b.stdout).split("\n").filter((l) => l.startsWith("applied "));
    expect(appliedLines.map((l) => l.split(" ")[1]).sort()).toEqual(["0001", "0002", "0003"]);
    expect(await q(`SELECT version, execution_sequence FROM ${table} ORDER BY version`)).toEqual([
      { version: "0001", execution_sequence: 1 },
      { version: "0002", execution_sequence: 2 },
      { version: "0003", execution_sequence: 3 },
    ]);
  });

  test("SIGKILL during a slow migration leaves no row and no lock; a rerun converges", async () => {
    const { dir, table, p } = project();
    mkdirSync(join(dir, "db/migrations"), { recursive: true });
    writeFileSync(
      join(dir, "db/migrations/0001_fast.sql"),
      `-- name: migrate-0001-up\nCREATE TABLE ${p}_fast (id int);\n`,
    );
    const slow = join(dir, "db/migrations/0002_slow.sql");
    writeFileSync(slow, `-- name: migrate-0002-up\nCREATE TABLE ${p}_slow (id int);\nSELECT pg_sleep(30);\n`);
    const run = start(["migrate", "upgrade"], dir);
    // wait until the slow statement runs on the server
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [row] = await q<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'",
      );
      if (row!.n > 0) break;
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    run.child.kill("SIGKILL");
    const killed = await run.done;
    expect(killed.signal).toBe("SIGKILL");
    writeFileSync(slow, `-- name: migrate-0002-up\nCREATE TABLE ${p}_slow (id int);\n`);
    // the server notices the dead connection and rolls back: 0001 committed, 0002 neither table nor row
    const rerun = await sqlspec(["migrate", "upgrade", "--lock-timeout", "20000"], dir);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/^applied 0002 slow/);
    expect(await q(`SELECT version FROM ${table} ORDER BY version`)).toEqual([
      { version: "0001" },
      { version: "0002" },
    ]);
  });

  test("-- transactional: false runs CREATE INDEX CONCURRENTLY", async () => {
    const { dir, table, p } = project();
    mkdirSync(join(dir, "db/migrations"), { recursive: true });
    writeFileSync(join(dir, "db/migrations/0001_t.sql"), `-- name: migrate-0001-up\nCREATE TABLE ${p}_t (id int);\n`);
    writeFileSync(
      join(dir, "db/migrations/0002_idx.sql"),
      `-- transactional: false\n-- name: migrate-0002-up\nCREATE INDEX CONCURRENTLY ${p}_t_id ON ${p}_t (id);\n\n` +
        `-- name: migrate-0002-down\nDROP INDEX CONCURRENTLY ${p}_t_id;\n`,
    );
    const up = await sqlspec(["migrate", "upgrade"], dir);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(await q(`SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('${p}_t_id')`)).toEqual([
      { indisvalid: true },
    ]);
    expect((await sqlspec(["migrate", "downgrade", "--yes"], dir)).code).toBe(0);
    expect(await q(`SELECT to_regclass('${p}_t_id') AS i`)).toEqual([{ i: null }]);
    expect(await q(`SELECT version FROM ${table}`)).toEqual([{ version: "0001" }]);
  });

  test("timestamp versions are UTC whatever TZ says; bad names and mixed schemes exit 1 before any I/O", async () => {
    const { dir } = project();
    writeFileSync(
      join(dir, "sqlspec.config.ts"),
      readFileSync(join(dir, "sqlspec.config.ts"), "utf8").replace(
        'scriptLocation: "db/migrations"',
        'scriptLocation: "db/migrations", versionScheme: "timestamp"',
      ),
    );
    const before = Date.now();
    const r = await sqlspec(["migrate", "create", "first"], dir, { TZ: "Asia/Tokyo" });
    expect(r.code).toBe(0);
    const [name] = readdirSync(join(dir, "db/migrations"));
    const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)_first\.sql$/.exec(name!)!;
    const at = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    expect(at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(Date.now());

    writeFileSync(join(dir, "db/migrations/0001_old.sql"), "-- name: migrate-0001-up\nSELECT 1;\n");
    const mixed = await sqlspec(["migrate", "pending"], dir);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(
      "error: Migration versions mix two schemes: db/migrations/0001_old.sql is sequential",
    );
    rmSync(join(dir, "db/migrations/0001_old.sql"));
    writeFileSync(join(dir, "db/migrations/20261130-add.sql"), "-- name: x\nSELECT 1;\n");
    const bad = await sqlspec(["migrate", "upgrade"], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "error: db/migrations/20261130-add.sql: not a migration file name; use {version}_{description}.sql|.ts|.js, " +
        "e.g. 0001_add_users.sql (letters, digits, _ and - in the description)\n",
    );
  });

  test("config problems exit 1 with one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sqlspec-migrate-cli-"));
    roots.push(dir);
    const none = await sqlspec(["migrate", "current"], dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no sqlspec\.config\.ts \(or \.js\) in .*: create one whose default export/);
    writeFileSync(join(dir, "sqlspec.config.js"), "export default 42;\n");
    const wrong = await sqlspec(["migrate", "current"], dir);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("the default export must be a SQLSpec instance or a database config");
  });
});
