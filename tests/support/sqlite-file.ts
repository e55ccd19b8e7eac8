/**
 * SQLite configs for tests: file databases in one temp dir per test file, and `:memory:` ones; every config made here
 * is closed and the dir removed after the file's tests. Call `sqliteConfigs()` at module level (it registers the
 * afterAll).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { SqliteConfig, type SqliteConfigOptions, type SqlitePoolConfig } from "../../src/adapters/sqlite/index.js";

export interface SqliteConfigs {
  /** A fresh file path in this test file's temp dir (nothing created yet). */
  path(): string;
  /** A config closed after this test file's tests. */
  config(options?: SqliteConfigOptions): SqliteConfig;
  /** A `:memory:` config (one shared connection). */
  memory(): SqliteConfig;
  /** A config on a fresh file; `setup` (a script, e.g. CREATE TABLE) runs first when given. */
  file(
    setup?: string,
    poolConfig?: Omit<SqlitePoolConfig, "database">,
    options?: Omit<SqliteConfigOptions, "poolConfig">,
  ): Promise<{ path: string; db: SqliteConfig }>;
}

export function sqliteConfigs(prefix = "sqlspec-sqlite-"): SqliteConfigs {
  const opened: SqliteConfig[] = [];
  let dir: string | undefined;
  let files = 0;
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const path = (): string => {
    dir ??= mkdtempSync(join(tmpdir(), prefix));
    return join(dir, `t${++files}.db`);
  };
  const config = (options: SqliteConfigOptions = {}): SqliteConfig => {
    const c = new SqliteConfig(options);
    opened.push(c);
    return c;
  };
  return {
    path,
    config,
    memory: () => config({ poolConfig: { database: ":memory:" } }),
    async file(setup, poolConfig = {}, options = {}) {
      const p = path();
      const db = config({ ...options, poolConfig: { ...poolConfig, database: p } });
      if (setup !== undefined) await db.withSession((s) => s.executeScript(setup));
      return { path: p, db };
    },
  };
}
