/**
 * Migrations against a real database, the same suite for every adapter. Each test works in its own folder, tracking
 * table and table names, so suites of different adapters never see each other's rows.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { MigrationConfig } from "../../src/driver/config.js";
import type { DatabaseConfig } from "../../src/driver/database-config.js";
import { MigrationError, Migrator } from "../../src/index.js";

export type MakeConfig = () => DatabaseConfig<any, any, any>;

export interface Fixture {
  dir: string;
  table: string;
  /** A unique prefix for the tables the migrations create. */
  p: string;
  /** The suite's database (one per suite: PGlite takes seconds to start on a loaded machine). */
  db: DatabaseConfig<any, any, any>;
  /** Migrations of this fixture's folder and tracking table on `db`. */
  m: Migrator;
  write(name: string, text: string): string;
}

/** sha256 of the file without its `-- name:` lines: what the tracking table must hold. */
export function expectedChecksum(file: string): string {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => !/^\s*--\s*name\s*:/i.test(l));
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

export function sqlMigration(version: string, up: string, down?: string, extra = ""): string {
  return (
    `${extra}-- name: migrate-${version}-up\n${up}\n` +
    (down === undefined ? "" : `\n-- name: migrate-${version}-down\n${down}\n`)
  );
}

export function runMigrationSuite(
  label: string,
  make: MakeConfig,
  opts: {
    transactionalDdl: boolean;
    separateRunners?: boolean;
    /** SQL that creates schema `name` and makes it the session's default (SET search_path, USE), and drops it. */
    schemaSwitch?: { to(name: string): string; drop(name: string): string };
  },
): void {
  const opened: DatabaseConfig<any, any, any>[] = [];
  let shared: DatabaseConfig<any, any, any> | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function fixture(extra: Partial<MigrationConfig> = {}): Fixture {
    const dir = mkdtempSync(join(tmpdir(), "sqlspec-mig-"));
    dirs.push(dir);
    const id = randomBytes(4).toString("hex");
    const table = `mig_${id}`;
    if (shared === undefined) {
      shared = make();
      opened.push(shared);
    }
    const db = shared;
    const migrationConfig = { scriptLocation: dir, versionTableName: table, ...extra };
    return {
      dir,
      table,
      p: `t_${id}`,
      db,
      m: new Migrator({ migrationConfig, provideSession: () => db.provideSession() }),
      write(name, text) {
        const file = join(dir, name);
        writeFileSync(file, text);
        return file;
      },
    };
  }

  const tableExists = (f: Fixture, name: string) =>
    f.db.withSession(async (s) => {
      const cols = await s.adapter.introspector!.getColumns(s.adapter, s.conn, name);
      return cols.length > 0;
    });

  // the first test also starts the database (PGlite takes seconds, a minute on a loaded machine)
  describe(`migrations on ${label}`, { timeout: 180_000 }, () => {
    test("db.migrations reads the config's migrationConfig", async () => {
      const db = make();
      opened.push(db);
      expect(db.migrations).toBe(db.migrations);
      expect(db.migrations.directory).toBe(join(process.cwd(), "migrations"));
      expect(db.migrations.tableName).toBe("sqlspec_migrations");
    });

    test("upgrade → current → downgrade -1 → upgrade: schema and tracking rows exact", async () => {
      const f = fixture();
      const one = f.write(
        "0001_add_users.sql",
        sqlMigration(
          "0001",
          `CREATE TABLE ${f.p}_users (id INT PRIMARY KEY, name VARCHAR(50))`,
          `DROP TABLE ${f.p}_users`,
        ),
      );
      const two = f.write(
        "0002_add_posts.sql",
        sqlMigration(
          "0002",
          `CREATE TABLE ${f.p}_posts (id INT PRIMARY KEY);\nINSERT INTO ${f.p}_posts (id) VALUES (1), (2)`,
          `DROP TABLE ${f.p}_posts`,
        ),
      );
      const events: string[] = [];
      const up = await f.m.upgrade({
        onEvent: (e) => events.push(`${e.type}:${"migration" in e ? e.migration.version : ""}`),
      });
      expect(up.migrations.map((m) => m.version)).toEqual(["0001", "0002"]);
      expect(events).toEqual(["start:0001", "done:0001", "start:0002", "done:0002"]);
      expect(await f.db.withSession((s) => s.selectValue(`SELECT COUNT(*) FROM ${f.p}_posts`))).toEqual(
        expect.toSatisfy((v) => Number(v) === 2),
      );
      const rows = await f.m.history();
      const user = `${userInfo().username}@${hostname()}`;
      expect(rows.map((r) => ({ ...r, appliedAt: undefined, executionTimeMs: undefined }))).toEqual([
        {
          version: "0001",
          description: "add users",
          type: "sql",
          executionSequence: 1,
          checksum: expectedChecksum(one),
          appliedAt: undefined,
          executionTimeMs: undefined,
          appliedBy: user,
        },
        {
          version: "0002",
          description: "add posts",
          type: "sql",
          executionSequence: 2,
          checksum: expectedChecksum(two),
          appliedAt: undefined,
          executionTimeMs: undefined,
          appliedBy: user,
        },
      ]);
      for (const r of rows) {
        expect(r.executionTimeMs).toBeGreaterThanOrEqual(0);
        expect(Math.abs(r.appliedAt.getTime() - Date.now())).toBeLessThan(120_000);
      }
      expect((await f.m.current())?.version).toBe("0002");
      expect(await f.m.pending()).toEqual([]);

      const down = await f.m.downgrade("-1");
      expect(down.migrations.map((m) => m.version)).toEqual(["0002"]);
      expect(await tableExists(f, `${f.p}_posts`)).toBe(false);
      expect(await tableExists(f, `${f.p}_users`)).toBe(true);
      expect((await f.m.current())?.version).toBe("0001");
      expect((await f.m.pending()).map((m) => m.version)).toEqual(["0002"]);

      await f.m.upgrade();
      const again = await f.m.history();
      expect(again.map((r) => [r.version, r.executionSequence])).toEqual([
        ["0001", 1],
        ["0002", 2],
      ]);
      expect((await f.m.upgrade()).migrations).toEqual([]);

      // more steps than applied: an error naming the count, and nothing reverted
      const tooFar = (await f.m.downgrade("-3").catch((e) => e)) as MigrationError;
      expect(tooFar).toBeInstanceOf(MigrationError);
      expect(tooFar.message).toContain("only 2 migrations are applied");
      expect((await f.m.history()).map((r) => r.version)).toEqual(["0001", "0002"]);

      await f.m.downgrade("base");
      expect(await f.m.history()).toEqual([]);
      expect(await tableExists(f, `${f.p}_users`)).toBe(false);
    });

    test("dryRun returns the SQL and changes nothing (not even the tracking table)", async () => {
      const f = fixture();
      f.write("0001_a.sql", sqlMigration("0001", `CREATE TABLE ${f.p}_a (id INT)`, `DROP TABLE ${f.p}_a`));
      const plan = await f.m.upgrade({ dryRun: true });
      expect(plan).toMatchObject({ direction: "up", dryRun: true });
      expect(plan.migrations.map((m) => [m.version, m.sql, m.executionTimeMs])).toEqual([
        ["0001", `CREATE TABLE ${f.p}_a (id INT)`, undefined],
      ]);
      expect(await tableExists(f, f.table)).toBe(false);
      expect(await tableExists(f, `${f.p}_a`)).toBe(false);
      await f.m.upgrade();
      const downPlan = await f.m.downgrade("-1", { dryRun: true });
      expect(downPlan.migrations.map((m) => m.sql)).toEqual([`DROP TABLE ${f.p}_a`]);
      expect(await tableExists(f, `${f.p}_a`)).toBe(true);
      expect(await f.m.history()).toHaveLength(1);
    });

    test("a migration failing half-way: typed error naming the version; what stays is what the engine allows", async () => {
      const f = fixture();
      f.write("0001_ok.sql", sqlMigration("0001", `CREATE TABLE ${f.p}_ok (id INT)`));
      const file = f.write(
        "0002_half.sql",
        sqlMigration("0002", `CREATE TABLE ${f.p}_half (id INT);\nINSERT INTO ${f.p}_nope VALUES (1)`),
      );
      const err = (await f.m.upgrade().catch((e) => e)) as MigrationError;
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.version).toBe("0002");
      expect(err.file).toBe(file);
      expect(err.message).toContain("Migration 0002 (half) failed");
      expect(err.message).not.toMatch(/^\s+at /m);
      expect((await f.m.history()).map((r) => r.version)).toEqual(["0001"]);
      if (opts.transactionalDdl) {
        expect(err.message).toContain("rolled back; not recorded");
        expect(err.statementsRun).toEqual([`CREATE TABLE ${f.p}_half (id INT)`]);
        expect(await tableExists(f, `${f.p}_half`)).toBe(false);
      } else {
        // DDL commits at once: the error says exactly which statements ran and stayed.
        expect(err.statementsRun).toEqual([`CREATE TABLE ${f.p}_half (id INT)`]);
        expect(err.message).toContain(`these 1 statement(s) ran and stayed`);
        expect(err.message).toContain(`1. CREATE TABLE ${f.p}_half (id INT)`);
        expect(await tableExists(f, `${f.p}_half`)).toBe(true);
      }
    });

    test.skipIf(opts.schemaSwitch === undefined)(
      "a migration that switches the default schema (SET search_path, USE) is recorded in the tracking table the run started with",
      async () => {
        const f = fixture();
        const sw = opts.schemaSwitch!;
        const other = `${f.p}_other`;
        f.write("0001_switch.sql", sqlMigration("0001", sw.to(other)));
        f.write("0002_t.sql", sqlMigration("0002", `CREATE TABLE ${f.p}_t (id INT)`, `DROP TABLE ${f.p}_t`));
        try {
          const up = await f.m.upgrade();
          expect(up.migrations.map((m) => m.version)).toEqual(["0001", "0002"]);
          expect((await f.m.history()).map((r) => [r.version, r.executionSequence])).toEqual([
            ["0001", 1],
            ["0002", 2],
          ]);
          expect(await tableExists(f, `${other}.${f.table}`)).toBe(false);
          // later migrations of the run see the switch, as statements of one script would
          expect(await tableExists(f, `${other}.${f.p}_t`)).toBe(true);
          expect(await tableExists(f, `${f.p}_t`)).toBe(false);
          expect(await f.m.check()).toMatchObject({ ok: true, pending: [] });
        } finally {
          await f.db.withSession((s) => s.executeScript(sw.drop(other)));
        }
      },
    );

    test("a code migration failing half-way: statementsRun lists what up(session) itself ran", async () => {
      const f = fixture();
      f.write(
        "0001_code.ts",
        `type Session = {
  execute(sql: string): Promise<unknown>;
  executeScript(sql: string): Promise<unknown>;
  select(sql: string): Promise<unknown[]>;
};
export async function up(session: Session): Promise<void> {
  await session.execute("CREATE TABLE ${f.p}_c (id INT)");
  await session.select("SELECT id FROM ${f.p}_c");
  await session.executeScript("INSERT INTO ${f.p}_c (id) VALUES (1); INSERT INTO ${f.p}_nope (id) VALUES (1)");
}
`,
      );
      const err = (await f.m.upgrade().catch((e) => e)) as MigrationError;
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.version).toBe("0001");
      // reads change nothing and are not listed; a script's statements are listed up to the one that failed
      expect(err.statementsRun).toEqual([`CREATE TABLE ${f.p}_c (id INT)`, `INSERT INTO ${f.p}_c (id) VALUES (1)`]);
      expect(await f.m.history()).toEqual([]);
      if (opts.transactionalDdl) {
        expect(err.message).toContain("rolled back; not recorded");
        expect(await tableExists(f, `${f.p}_c`)).toBe(false);
      } else {
        expect(err.message).toContain("these 2 statement(s) ran and stayed");
        expect(err.message).toContain(`1. CREATE TABLE ${f.p}_c (id INT)\n  2. INSERT INTO ${f.p}_c (id) VALUES (1)\n`);
        expect(await tableExists(f, `${f.p}_c`)).toBe(true);
      }
    });

    test.skipIf(!opts.transactionalDdl)(
      "a migration that COMMITs its own transaction is refused, not recorded",
      async () => {
        const f = fixture();
        f.write(
          "0001_c.sql",
          sqlMigration("0001", `CREATE TABLE ${f.p}_c1 (id INT);\nCOMMIT;\nCREATE TABLE ${f.p}_c2 (id INT)`),
        );
        const err = (await f.m.upgrade().catch((e) => e)) as MigrationError;
        expect(err).toBeInstanceOf(MigrationError);
        expect(err.message).toContain("it ended its own transaction (a COMMIT or ROLLBACK in it)");
        expect(err.message).toContain("these 3 statement(s) ran and stayed");
        expect(err.statementsRun).toEqual([
          `CREATE TABLE ${f.p}_c1 (id INT)`,
          "COMMIT",
          `CREATE TABLE ${f.p}_c2 (id INT)`,
        ]);
        expect(await f.m.history()).toEqual([]);
        expect(await tableExists(f, `${f.p}_c1`)).toBe(true);
      },
    );

    test("drift: an applied file edited afterwards stops upgrade and check; allowDrift or stamp resolve it", async () => {
      const f = fixture();
      const file = f.write("0001_a.sql", sqlMigration("0001", `CREATE TABLE ${f.p}_a (id INT)`));
      await f.m.upgrade();
      f.write("0002_b.sql", sqlMigration("0002", `CREATE TABLE ${f.p}_b (id INT)`));
      // renaming blocks or switching line endings is no drift; a changed comment or statement is
      writeFileSync(
        file,
        readFileSync(file, "utf8").replace(/\n/g, "\r\n").replace("migrate-0001-up", "migrate_0001_up"),
      );
      expect((await f.m.check()).drift).toEqual([]);
      writeFileSync(file, sqlMigration("0001", `CREATE TABLE ${f.p}_a (id INT, x INT)`));
      const check = await f.m.check();
      expect(check.ok).toBe(false);
      expect(check.drift.map((d) => [d.version, d.file])).toEqual([["0001", file]]);
      const err = (await f.m.upgrade().catch((e) => e)) as MigrationError;
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.message).toContain("0001_a.sql changed after it was applied (version 0001)");
      expect(await tableExists(f, `${f.p}_b`)).toBe(false);
      await f.m.upgrade({ allowDrift: true });
      expect(await tableExists(f, `${f.p}_b`)).toBe(true);
      expect((await f.m.check()).drift).toHaveLength(1);
      const stamped = await f.m.stamp("0002");
      expect(stamped).toEqual({ version: "0002", added: [], updated: ["0001"], removed: [] });
      expect(await f.m.check()).toMatchObject({ ok: true, drift: [], pending: [] });
    });

    test("stamp marks a version and every earlier one applied without running them", async () => {
      const f = fixture();
      for (const v of ["0001", "0002", "0003"])
        f.write(`${v}_m.sql`, sqlMigration(v, `CREATE TABLE ${f.p}_${v} (id INT)`));
      expect(await f.m.stamp("0002")).toEqual({
        version: "0002",
        added: ["0001", "0002"],
        updated: [],
        removed: [],
      });
      const rows = await f.m.history();
      expect(rows.map((r) => [r.version, r.type, r.executionTimeMs])).toEqual([
        ["0001", "stamp", 0],
        ["0002", "stamp", 0],
      ]);
      expect(await tableExists(f, `${f.p}_0001`)).toBe(false);
      const up = await f.m.upgrade();
      expect(up.migrations.map((m) => m.version)).toEqual(["0003"]);
      expect(await tableExists(f, `${f.p}_0003`)).toBe(true);
      expect(await f.m.stamp("0001")).toEqual({
        version: "0001",
        added: [],
        updated: [],
        removed: ["0002", "0003"],
      });
      expect(await tableExists(f, `${f.p}_0003`)).toBe(true);
    });

    test.skipIf(opts.separateRunners === false)(
      "two runners at once (separate pools): each migration applied exactly once; the second waits",
      async () => {
        const f = fixture();
        for (let i = 1; i <= 4; i++) {
          const v = String(i).padStart(4, "0");
          f.write(`${v}_m.sql`, sqlMigration(v, `CREATE TABLE ${f.p}_${v} (id INT)`));
        }
        const other = make();
        opened.push(other);
        const otherM = new Migrator({
          migrationConfig: { scriptLocation: f.dir, versionTableName: f.table },
          provideSession: () => other.provideSession(),
        });
        const [a, b] = await Promise.all([f.m.upgrade(), otherM.upgrade()]);
        const applied = [...a.migrations, ...b.migrations].filter((m) => m.executionTimeMs !== undefined);
        expect(applied.map((m) => m.version).sort()).toEqual(["0001", "0002", "0003", "0004"]);
        const rows = await f.m.history();
        expect(rows.map((r) => [r.version, r.executionSequence])).toEqual([
          ["0001", 1],
          ["0002", 2],
          ["0003", 3],
          ["0004", 4],
        ]);
      },
    );

    test.skipIf(opts.separateRunners === false)(
      "a runner waits for the lock another connection holds, reports it, and gives up after lockTimeoutMs",
      async () => {
        const f = fixture();
        f.write("0001_a.sql", sqlMigration("0001", `CREATE TABLE ${f.p}_a (id INT)`));
        const holder = make();
        opened.push(holder);
        const session = await holder.provideSession();
        try {
          const lock = session.adapter.namedLock!;
          const name = `sqlspec-migrations:${f.table}`;
          expect(await session.selectValue(lock.tryAcquire, [name])).toBeTruthy();
          const timedOut = (await f.m.upgrade({ lockTimeoutMs: 300 }).catch((e) => e)) as MigrationError;
          expect(timedOut).toBeInstanceOf(MigrationError);
          expect(timedOut.message).toMatch(
            new RegExp(`^Another migration runner holds the lock on "${f.table}" \\(waited \\d+\\.\\d s\\)`),
          );
          expect(await f.m.history()).toEqual([]);
          const events: string[] = [];
          const run = f.m.upgrade({ onEvent: (e) => events.push(e.type) });
          for (let i = 0; i < 400 && !events.includes("lock-wait"); i++) await new Promise((r) => setTimeout(r, 25));
          expect(events).toEqual(["lock-wait"]);
          await session.selectValue(lock.release, [name]);
          expect((await run).migrations.map((m) => m.version)).toEqual(["0001"]);
          expect(events).toEqual(["lock-wait", "start", "done"]);
        } finally {
          await session.release();
        }
      },
    );

    test("two runners on one config at once: each migration applied exactly once, in order", async () => {
      const f = fixture();
      for (let i = 1; i <= 3; i++) {
        const v = String(i).padStart(4, "0");
        f.write(`${v}_m.sql`, sqlMigration(v, `CREATE TABLE ${f.p}_${v} (id INT)`));
      }
      const second = new Migrator({
        migrationConfig: { scriptLocation: f.dir, versionTableName: f.table },
        provideSession: () => f.db.provideSession(),
      });
      const ea: string[] = [];
      const eb: string[] = [];
      const [a, b] = await Promise.all([
        f.m.upgrade({ onEvent: (e) => ea.push(e.type) }),
        second.upgrade({ onEvent: (e) => eb.push(e.type) }),
      ]);
      const applied = [...a.migrations, ...b.migrations].filter((m) => m.executionTimeMs !== undefined);
      expect(applied.map((m) => m.version).sort()).toEqual(["0001", "0002", "0003"]);
      expect((await f.m.history()).map((r) => [r.version, r.executionSequence])).toEqual([
        ["0001", 1],
        ["0002", 2],
        ["0003", 3],
      ]);
      // Whichever came second either waited for the lock or, started after the first had finished (a loaded machine),
      // found everything applied: either way it applied nothing. (Waiting is asserted with a gate in the next test.)
      const [waited, ran] = ea[0] === "start" ? [b, a] : [a, b];
      const [late, first] = ea[0] === "start" ? [eb[0], ea[0]] : [ea[0], eb[0]];
      expect(first).toBe("start");
      expect([undefined, "lock-wait"]).toContain(late);
      expect(waited.migrations).toEqual([]);
      expect(ran.migrations.map((m) => m.version)).toEqual(["0001", "0002", "0003"]);
    });

    test("a runner waits for one running on the same config, reports it, and gives up after lockTimeoutMs", async () => {
      const f = fixture();
      const gate = `__sqlspec_gate_${f.table}`;
      let open!: () => void;
      (globalThis as Record<string, unknown>)[gate] = new Promise<void>((r) => {
        open = r;
      });
      f.write(
        "0001_slow.ts",
        `export async function up(): Promise<string> {\n  await (globalThis as any).${gate};\n  return "CREATE TABLE ${f.p}_slow (id INT)";\n}\n`,
      );
      const starts: string[] = [];
      const first = f.m.upgrade({ onEvent: (e) => starts.push(e.type) });
      for (let i = 0; i < 400 && !starts.includes("start"); i++) await new Promise((r) => setTimeout(r, 25));
      expect(starts).toEqual(["start"]);
      const timedOut = (await f.m.upgrade({ lockTimeoutMs: 200 }).catch((e) => e)) as MigrationError;
      expect(timedOut).toBeInstanceOf(MigrationError);
      expect(timedOut.message).toMatch(
        new RegExp(`^Another migration runner holds the lock on "${f.table}" \\(waited \\d+\\.\\d s\\)`),
      );
      const events: string[] = [];
      const waiting = f.m.upgrade({ onEvent: (e) => events.push(e.type) });
      for (let i = 0; i < 400 && !events.includes("lock-wait"); i++) await new Promise((r) => setTimeout(r, 25));
      expect(events).toEqual(["lock-wait"]);
      open();
      expect((await first).migrations.map((m) => m.version)).toEqual(["0001"]);
      expect((await waiting).migrations).toEqual([]);
      expect(events).toEqual(["lock-wait"]);
      expect((await f.m.history()).map((r) => r.version)).toEqual(["0001"]);
      delete (globalThis as Record<string, unknown>)[gate];
    });

    test("code migrations: up(session) may return SQL or run statements; transactional = false is honoured", async () => {
      const f = fixture();
      const file = f.write(
        "0001_code.ts",
        `type Session = { execute(sql: string): Promise<unknown> };
export async function up(session: Session): Promise<string> {
  await session.execute("CREATE TABLE ${f.p}_code (id INT)");
  return "INSERT INTO ${f.p}_code (id) VALUES (7); INSERT INTO ${f.p}_code (id) VALUES (8)";
}
export async function down(session: Session): Promise<void> {
  await session.execute("DROP TABLE ${f.p}_code");
}
`,
      );
      f.write(
        "0002_plain.js",
        `export const transactional = false;\nexport const up = () => ["CREATE TABLE ${f.p}_js (id INT)"];\n`,
      );
      const plan = await f.m.upgrade({ dryRun: true });
      expect(plan.migrations.map((m) => [m.version, m.kind, m.sql])).toEqual([
        ["0001", "ts", undefined],
        ["0002", "js", undefined],
      ]);
      const up = await f.m.upgrade();
      expect(up.migrations.map((m) => [m.version, m.transactional])).toEqual([
        ["0001", opts.transactionalDdl],
        ["0002", false],
      ]);
      expect(await f.db.withSession((s) => s.select(`SELECT id FROM ${f.p}_code ORDER BY id`))).toEqual([
        { id: 7 },
        { id: 8 },
      ]);
      const rows = await f.m.history();
      expect(rows.map((r) => [r.type, r.checksum])).toEqual([
        ["ts", expectedChecksum(file)],
        ["js", expect.any(String)],
      ]);
      // 0002 has no down: reverting it is refused before anything runs
      const err = (await f.m.downgrade("-1").catch((e) => e)) as MigrationError;
      expect(err).toBeInstanceOf(MigrationError);
      expect(err.message).toContain("exports no down(session)");
      expect((await f.m.history()).map((r) => r.version)).toEqual(["0001", "0002"]);
      await f.m.stamp("0001");
      await f.m.downgrade("-1");
      expect(await tableExists(f, `${f.p}_code`)).toBe(false);
    });
  });
}
