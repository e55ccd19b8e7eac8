import type { Dialect } from "../../../src/index.js";
import { duckdbProfile } from "./duckdb.js";
import { mysqlProfile } from "./mysql.js";
import { postgresProfile } from "./postgres.js";
import { sqliteProfile } from "./sqlite.js";
import type { DialectProfile } from "./types.js";

export type { DialectProfile, Tables } from "./types.js";

/** One profile per dialect; a new adapter's dialect adds its file here. */
export const PROFILES: Partial<Record<Dialect, DialectProfile>> = {
  postgres: postgresProfile,
  sqlite: sqliteProfile,
  duckdb: duckdbProfile,
  mysql: mysqlProfile,
};
