/** Reading migration folders: every problem is a MigrationError naming the file, before any database I/O. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MigrationError } from "../../src/index.js";
import { checksumOf, nextVersion, readMigrations } from "../../src/migrations/files.js";
import { Migrator } from "../../src/migrations/migrator.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sqlspec-migfiles-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function fails(dir: string): string {
  try {
    readMigrations(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(MigrationError);
    return (err as Error).message.replaceAll(dir, "<dir>");
  }
  throw new Error("expected a MigrationError");
}

const up = (v: string, sql = "SELECT 1") => `-- name: migrate-${v}-up\n${sql};\n`;

describe("migration files", () => {
  test("ordered numerically, descriptions from the name, other files ignored, a missing folder is empty", () => {
    const dir = folder({
      "0010_ten.sql": up("0010"),
      "0002_add-users_table.sql": up("0002"),
      "README.md": "notes",
      "0003_types.d.ts": "export {};",
      ".0004_hidden.sql": "junk",
    });
    expect(readMigrations(dir).map((f) => [f.version, f.description, f.kind])).toEqual([
      ["0002", "add-users table", "sql"],
      ["0010", "ten", "sql"],
    ]);
    expect(readMigrations(join(dir, "nope"))).toEqual([]);
  });

  test("bad names, duplicate versions, mixed schemes, foreign blocks and broken links are refused", () => {
    expect(fails(folder({ "0001-add.sql": up("0001") }))).toBe(
      "<dir>/0001-add.sql: not a migration file name; use {version}_{description}.sql|.ts|.js, e.g. " +
        "0001_add_users.sql (letters, digits, _ and - in the description)",
    );
    expect(fails(folder({ "0001_add users.sql": up("0001") }))).toContain("not a migration file name");
    expect(fails(folder({ "0001_a.SQL": up("0001") }))).toContain("not a migration file name");
    expect(fails(folder({ "0001_a.sql": up("0001"), "1_b.sql": up("1") }))).toBe(
      "Two migrations have version 1: <dir>/0001_a.sql and <dir>/1_b.sql",
    );
    expect(fails(folder({ "0001_a.sql": up("0001"), "20261130101500_b.sql": up("20261130101500") }))).toMatch(
      /^Migration versions mix two schemes: <dir>\/0001_a\.sql is sequential and <dir>\/20261130101500_b\.sql is a UTC timestamp/,
    );
    expect(fails(folder({ "0002_a.sql": up("0001") }))).toBe(
      '<dir>/0002_a.sql:1: block "migrate_0001_up" does not belong to this file; name the blocks "migrate-0002-up" ' +
        'and "migrate-0002-down"',
    );
    expect(fails(folder({ "0001_a.sql": "-- name: migrate-0001-down\nDROP TABLE x;\n" }))).toBe(
      '<dir>/0001_a.sql: no "-- name: migrate-0001-up" block',
    );
    expect(fails(folder({ "0001_a.sql": `CREATE TABLE x (id int);\n${up("0001")}` }))).toContain(
      'SQL before the first "-- name:" line',
    );
    expect(fails(folder({ "0001_a.sql": `-- transactional: maybe\n${up("0001")}` }))).toBe(
      '<dir>/0001_a.sql:1: "-- transactional:" takes true or false, not "maybe"',
    );
    const linked = folder({});
    symlinkSync(join(linked, "gone.sql"), join(linked, "0001_a.sql"));
    expect(fails(linked)).toBe("<dir>/0001_a.sql: a broken link in the migrations folder");
  });

  test("-- transactional: false, checksums without name lines, empty blocks from create", async () => {
    const dir = folder({
      "0001_idx.sql": `-- transactional: false\n${up("0001", "CREATE INDEX CONCURRENTLY i ON t (id)")}`,
    });
    const [f] = readMigrations(dir);
    expect(f).toMatchObject({ transactional: false, upSql: "CREATE INDEX CONCURRENTLY i ON t (id)" });
    expect(f!.downSql).toBeUndefined();
    expect(checksumOf("-- name: a\r\nSELECT 1;\r\n")).toBe(checksumOf("-- name: b\nSELECT 1;\n"));
    expect(checksumOf("-- name: a\nSELECT 1;\n")).not.toBe(checksumOf("-- name: a\nSELECT 2;\n"));

    const m = new Migrator({
      migrationConfig: { scriptLocation: dir },
      provideSession: () => Promise.reject(new Error("no database in this test")),
    });
    const created = m.create("Add users!");
    expect(created).toBe(join(dir, "0002_add_users.sql"));
    const files = m.files();
    expect(files.map((x) => [x.version, x.upSql, x.downSql])).toEqual([
      ["0001", "CREATE INDEX CONCURRENTLY i ON t (id)", undefined],
      ["0002", "", undefined],
    ]);
    expect(() => m.create("!!")).toThrow('A migration needs a description with letters or digits, not "!!"');
    mkdirSync(join(dir, "sub"));
    expect(m.files()).toHaveLength(2);
  });

  test("next versions: sequential keeps the padding; timestamps are UTC and never repeat", () => {
    const seq = readMigrations(folder({ "000009_a.sql": up("000009") }));
    expect(nextVersion(seq, "timestamp", new Date())).toBe("000010");
    expect(nextVersion([], "sequential", new Date())).toBe("0001");
    const at = new Date(Date.UTC(2026, 10, 30, 1, 2, 3, 900));
    expect(nextVersion([], "timestamp", at)).toBe("20261130010203");
    const ts = readMigrations(folder({ "20261130010203_a.sql": up("20261130010203") }));
    expect(nextVersion(ts, "sequential", at)).toBe("20261130010204");
  });
});
