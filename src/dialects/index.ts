/** One renderer instance per dialect; `getRenderer` is the only way builders reach them. */
import type { Dialect } from "../core/types.js";
import type { BaseRenderer } from "./base.js";
import { BigQueryRenderer } from "./bigquery.js";
import { DuckdbRenderer } from "./duckdb.js";
import { MysqlRenderer } from "./mysql.js";
import { OracleRenderer } from "./oracle.js";
import { PostgresRenderer } from "./postgres.js";
import { SqliteRenderer } from "./sqlite.js";

export { BaseRenderer, type RenderOptions } from "./base.js";
export { BigQueryRenderer, DuckdbRenderer, MysqlRenderer, OracleRenderer, PostgresRenderer, SqliteRenderer };

let renderers: Record<Dialect, BaseRenderer> | undefined;

export function getRenderer(dialect: Dialect): BaseRenderer {
  renderers ??= {
    postgres: new PostgresRenderer(),
    sqlite: new SqliteRenderer(),
    mysql: new MysqlRenderer(),
    duckdb: new DuckdbRenderer(),
    oracle: new OracleRenderer(),
    bigquery: new BigQueryRenderer(),
  };
  return renderers[dialect];
}
