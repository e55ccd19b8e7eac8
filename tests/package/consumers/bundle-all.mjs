// Bundled by esbuild in a PGlite-only project (with an entry importing every subpath), so the bundle must build
// although no other driver is installed, and a missing driver must surface as MissingDependencyError naming it.
import { MissingDependencyError, SQLSpec } from "sqlspec";
import { DuckdbConfig } from "sqlspec/adapters/duckdb";
import { MysqlConfig } from "sqlspec/adapters/mysql";
import { PgConfig } from "sqlspec/adapters/pg";
import { PgliteConfig } from "sqlspec/adapters/pglite";
import { PostgresJsConfig } from "sqlspec/adapters/postgresjs";
import { SqliteConfig } from "sqlspec/adapters/sqlite";

const spec = new SQLSpec();
const lite = spec.addConfig(new PgliteConfig());
const answer = await lite.withSession((s) => s.selectValue("SELECT 40 + 2"));
const missing = [];
for (const config of [
  new PgConfig({ poolConfig: { connectionString: "postgres://x@127.0.0.1:1/x" } }),
  new PostgresJsConfig({ poolConfig: { connectionString: "postgres://x@127.0.0.1:1/x" } }),
  new MysqlConfig({ poolConfig: { connectionString: "mysql://x@127.0.0.1:1/x" } }),
  new SqliteConfig(),
  new DuckdbConfig(),
]) {
  const err = await spec
    .addConfig(config)
    .withSession((s) => s.selectValue("SELECT 1"))
    .catch((e) => e);
  missing.push(err instanceof MissingDependencyError ? err.packageName : String(err));
}
await spec.closeAllPools();
console.log(JSON.stringify({ answer, missing }));
