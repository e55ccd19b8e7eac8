/**
 * What `dataDictionary.supports()` and `getOptimalType()` answer: SQL features per dialect (with the server version
 * that introduced them), and the column type to use for a kind of value. Facts that are the adapter's (savepoints,
 * COPY, transactional DDL) come from its declared capabilities.
 */
import { ParameterError } from "../core/errors.js";
import type { Dialect } from "../core/types.js";
import type { AdapterCapabilities, ServerVersion } from "./adapter.js";

/** Every feature name `dataDictionary.supports()` knows (a `supports_` prefix is accepted too). */
export const FEATURES = [
  "transactions",
  "savepoints",
  "transactional_ddl",
  "prepared_statements",
  "returning",
  "upsert",
  "on_conflict",
  "merge",
  "merge_returning",
  "merge_not_matched_by_source",
  "cte",
  "window_functions",
  "json",
  "jsonb",
  "uuid",
  "arrays",
  "schemas",
  "copy",
] as const;

/** A feature `supports()` answers; `supports_json` (sqlspec's spelling) is accepted too. */
export type Feature = (typeof FEATURES)[number];

/** Minimum version for a feature (`0` = every version), by server flavor where the dialect has several. */
type Gate = number | { readonly mysql: number; readonly mariadb: number };
type FeatureTable = Partial<Record<Feature, Gate>>;

const POSTGRES: FeatureTable = {
  transactions: 0,
  prepared_statements: 0,
  returning: 0,
  upsert: 90500,
  on_conflict: 90500,
  merge: 150000,
  merge_returning: 170000,
  merge_not_matched_by_source: 170000,
  cte: 0,
  window_functions: 0,
  json: 0,
  jsonb: 90400,
  uuid: 0,
  arrays: 0,
  schemas: 0,
};

const TABLES: Partial<Record<Dialect, FeatureTable>> = {
  postgres: POSTGRES,
  sqlite: {
    transactions: 0,
    prepared_statements: 0,
    returning: 0,
    upsert: 0,
    on_conflict: 0,
    cte: 0,
    window_functions: 0,
    json: 0,
  },
  duckdb: {
    transactions: 0,
    prepared_statements: 0,
    returning: 0,
    upsert: 0,
    on_conflict: 0,
    // MERGE INTO, WHEN NOT MATCHED BY SOURCE and MERGE … RETURNING arrived in DuckDB 1.4.
    merge: 10400,
    merge_returning: 10400,
    merge_not_matched_by_source: 10400,
    cte: 0,
    window_functions: 0,
    json: 0,
    uuid: 0,
    arrays: 0,
    schemas: 0,
  },
  mysql: {
    transactions: 0,
    prepared_statements: 0,
    upsert: 0,
    cte: { mysql: 80000, mariadb: 100200 },
    window_functions: { mysql: 80000, mariadb: 100200 },
    json: { mysql: 50708, mariadb: 100207 },
    // A MySQL schema is a database: qualified names `db.table` work.
    schemas: 0,
  },
};

const FROM_CAPABILITIES: Partial<Record<Feature, (c: AdapterCapabilities) => boolean>> = {
  savepoints: (c) => c.savepoints,
  transactional_ddl: (c) => c.transactionalDdl,
  copy: (c) => c.copy,
};

/** `supports_json` / `SUPPORTS_JSON` / `Json` → `json` (case-insensitive); undefined for a name no table knows. */
export function featureName(name: string): Feature | undefined {
  const lower = name.toLowerCase();
  const n = lower.startsWith("supports_") ? lower.slice(9) : lower;
  return (FEATURES as readonly string[]).includes(n) ? (n as Feature) : undefined;
}

/** Whether the feature is there; `version` is asked for only when the answer depends on it. */
export async function hasFeature(
  dialect: Dialect,
  capabilities: AdapterCapabilities,
  feature: Feature,
  version: () => Promise<ServerVersion>,
): Promise<boolean> {
  const fromAdapter = FROM_CAPABILITIES[feature];
  if (fromAdapter) return fromAdapter(capabilities);
  const gate = TABLES[dialect]?.[feature];
  if (gate === undefined) return false;
  if (gate === 0) return true;
  const v = await version();
  // An unknown version (0) cannot show a gated feature.
  const min = typeof gate === "number" ? gate : v.flavor === "mariadb" ? gate.mariadb : gate.mysql;
  return v.versionNum >= min;
}

/** Every kind of value `dataDictionary.getOptimalType()` can name a column type for. */
export const TYPE_CATEGORIES = [
  "uuid",
  "json",
  "boolean",
  "timestamp",
  "date",
  "text",
  "blob",
  "integer",
  "bigint",
  "decimal",
  "float",
] as const;

/** A kind of value `getOptimalType()` names the column type for. */
export type TypeCategory = (typeof TYPE_CATEGORIES)[number];

type TypeMap = Record<TypeCategory, string>;

const TYPES: Record<Dialect, TypeMap> = {
  postgres: {
    uuid: "uuid",
    json: "jsonb",
    boolean: "boolean",
    timestamp: "timestamptz",
    date: "date",
    text: "text",
    blob: "bytea",
    integer: "integer",
    bigint: "bigint",
    decimal: "numeric",
    float: "double precision",
  },
  sqlite: {
    uuid: "text",
    json: "text",
    boolean: "integer",
    timestamp: "text",
    date: "text",
    text: "text",
    blob: "blob",
    integer: "integer",
    bigint: "integer",
    decimal: "numeric",
    float: "real",
  },
  duckdb: {
    uuid: "uuid",
    json: "json",
    boolean: "boolean",
    timestamp: "timestamptz",
    date: "date",
    text: "varchar",
    blob: "blob",
    integer: "integer",
    bigint: "bigint",
    decimal: "decimal(38, 9)",
    float: "double",
  },
  mysql: {
    uuid: "char(36)",
    json: "json",
    boolean: "tinyint(1)",
    // DATETIME has no time zone conversion (TIMESTAMP follows the session time zone and ends in 2038).
    timestamp: "datetime(6)",
    date: "date",
    text: "text",
    blob: "longblob",
    integer: "int",
    bigint: "bigint",
    decimal: "decimal(38, 9)",
    float: "double",
  },
  oracle: {
    uuid: "raw(16)",
    json: "clob",
    boolean: "number(1)",
    timestamp: "timestamp with time zone",
    date: "date",
    text: "varchar2(4000)",
    blob: "blob",
    integer: "number(10)",
    bigint: "number(19)",
    decimal: "number",
    float: "binary_double",
  },
  bigquery: {
    uuid: "string",
    json: "json",
    boolean: "bool",
    timestamp: "timestamp",
    date: "date",
    text: "string",
    blob: "bytes",
    integer: "int64",
    bigint: "int64",
    decimal: "numeric",
    float: "float64",
  },
};

/**
 * The column type for a kind of value on this server: `json` is jsonb on PostgreSQL ≥ 9.4 (json before), JSON on
 * MySQL/MariaDB with JSON support (longtext before). An unknown category is a ParameterError naming the known ones.
 */
export async function optimalType(
  dialect: Dialect,
  capabilities: AdapterCapabilities,
  category: string,
  version: () => Promise<ServerVersion>,
): Promise<string> {
  const c = category.toLowerCase() as TypeCategory;
  if (!(TYPE_CATEGORIES as readonly string[]).includes(c)) {
    throw new ParameterError(`Unknown type category "${category}"; known: ${TYPE_CATEGORIES.join(", ")}`);
  }
  const older = c === "json" ? JSON_BEFORE[dialect] : undefined;
  if (older !== undefined && !(await hasFeature(dialect, capabilities, older.feature, version))) return older.type;
  return TYPES[dialect][c];
}

/** The json column type on servers older than the feature that brought the dialect's own JSON type. */
const JSON_BEFORE: Partial<Record<Dialect, { feature: Feature; type: string }>> = {
  postgres: { feature: "jsonb", type: "json" },
  mysql: { feature: "json", type: "longtext" },
};
