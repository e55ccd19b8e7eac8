import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { DuckdbConfig } from "../../src/adapters/duckdb/index.js";
import { MysqlConfig } from "../../src/adapters/mysql/index.js";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { PostgresJsConfig } from "../../src/adapters/postgresjs/index.js";
import { SqliteConfig } from "../../src/adapters/sqlite/index.js";
import { MYSQL_URL, PG_URL } from "../support/servers.js";
import { runMigrationSuite } from "./suite.js";

const pgSchemas = {
  to: (name: string) => `CREATE SCHEMA ${name};\nSET search_path = ${name}`,
  drop: (name: string) => `DROP SCHEMA IF EXISTS ${name} CASCADE`,
};

runMigrationSuite("pg", () => new PgConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }), {
  transactionalDdl: true,
  schemaSwitch: pgSchemas,
});
runMigrationSuite("postgresjs", () => new PostgresJsConfig({ poolConfig: { connectionString: PG_URL, maxSize: 2 } }), {
  transactionalDdl: true,
  schemaSwitch: pgSchemas,
});
// One in-memory database per config: two PGlite "runners" would not share a database (one process's sessions
// interleave on its single connection instead; see the sharedConnection capability).
runMigrationSuite("pglite", () => new PgliteConfig(), {
  transactionalDdl: true,
  separateRunners: false,
  schemaSwitch: pgSchemas,
});
runMigrationSuite(
  "mysql (MariaDB)",
  () => new MysqlConfig({ poolConfig: { connectionString: MYSQL_URL, maxSize: 2 } }),
  {
    transactionalDdl: false,
    schemaSwitch: {
      to: (name) => `CREATE DATABASE ${name};\nUSE ${name}`,
      drop: (name) => `DROP DATABASE IF EXISTS ${name}`,
    },
  },
);

// A file database, as migrations are run in practice (an in-memory one lives only as long as its config).
const sqliteDir = mkdtempSync(join(tmpdir(), "sqlspec-mig-sqlite-"));
afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));
runMigrationSuite("sqlite", () => new SqliteConfig({ poolConfig: { database: join(sqliteDir, "db.sqlite") } }), {
  transactionalDdl: true,
  separateRunners: false,
});
const duckDir = mkdtempSync(join(tmpdir(), "sqlspec-mig-duckdb-"));
afterAll(() => rmSync(duckDir, { recursive: true, force: true }));
runMigrationSuite("duckdb", () => new DuckdbConfig({ poolConfig: { database: join(duckDir, "db.duckdb") } }), {
  transactionalDdl: true,
  separateRunners: false,
  schemaSwitch: {
    to: (name) => `CREATE SCHEMA ${name};\nSET schema = '${name}'`,
    drop: (name) => `DROP SCHEMA IF EXISTS ${name} CASCADE`,
  },
});
