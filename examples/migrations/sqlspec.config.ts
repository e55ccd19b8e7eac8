/**
 * The project config the `sqlspec migrate` commands load (its default export: the SQLSpec, or one config).
 *   npx sqlspec migrate upgrade --config examples/migrations/sqlspec.config.ts
 * PGlite keeps its files in examples/migrations/.pglite-data between commands; DATABASE_URL=postgres://… uses a server.
 */
import { fileURLToPath } from "node:url";
import { PgConfig } from "../../src/adapters/pg/index.js";
import { PgliteConfig } from "../../src/adapters/pglite/index.js";
import { type DatabaseConfig, SQLSpec } from "../../src/index.js";

/** Absolute, so the commands work from any folder. */
export const migrationConfig = {
  scriptLocation: fileURLToPath(new URL("./migrations", import.meta.url)),
  versionTableName: "sqlspec_migrations",
};

export function makeConfig(dataDir?: string): DatabaseConfig<any, any, any> {
  const url = process.env.DATABASE_URL;
  if (url) return new PgConfig({ poolConfig: { connectionString: url, maxSize: 2 }, migrationConfig });
  return new PgliteConfig({ poolConfig: dataDir === undefined ? {} : { dataDir }, migrationConfig });
}

const spec = new SQLSpec();
spec.addConfig(makeConfig(fileURLToPath(new URL("./.pglite-data", import.meta.url))));
export default spec;
