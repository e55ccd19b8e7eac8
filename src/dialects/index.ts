/**
 * One renderer instance per dialect, registered with the registry in core/ast when this module loads (the package
 * entry point and the session import it). Builders reach renderers only through that registry.
 */
import { registerRenderer } from "../core/ast/render.js";
import type { BaseRenderer } from "./base.js";
import { BigQueryRenderer } from "./bigquery.js";
import { DuckdbRenderer } from "./duckdb.js";
import { MysqlRenderer } from "./mysql.js";
import { OracleRenderer } from "./oracle.js";
import { PG_TYPES, PostgresRenderer } from "./postgres.js";
import { SqliteRenderer } from "./sqlite.js";

export { BaseRenderer, type RenderOptions } from "./base.js";
export { BigQueryRenderer, DuckdbRenderer, MysqlRenderer, OracleRenderer, PG_TYPES, PostgresRenderer, SqliteRenderer };

const all: BaseRenderer[] = [
  new PostgresRenderer(),
  new SqliteRenderer(),
  new MysqlRenderer(),
  new DuckdbRenderer(),
  new OracleRenderer(),
  new BigQueryRenderer(),
];
for (const r of all) registerRenderer(r);
