/** Result column types from DuckDB's own column types (what `session.selectToArrow` builds its schema from). */
import type * as DuckDB from "@duckdb/node-api";
import type { TimestampMode } from "../../core/values.js";
import type { ResultColumnKind, ResultColumnType } from "../../driver/adapter.js";

type DuckdbModule = typeof DuckDB;

/** The column types of a DuckDB result, for an adapter reading timestamps in `timestamps` mode. */
export function duckdbResultColumnTypes(
  duck: DuckdbModule,
  types: readonly DuckDB.DuckDBType[],
  timestamps: TimestampMode,
): ResultColumnType[] {
  const T = duck.DuckDBTypeId;
  const values = timestamps === "string" ? "text" : "date";
  const kinds: Partial<Record<number, ResultColumnKind>> = {
    [T.BOOLEAN]: "bool",
    [T.TINYINT]: "int16",
    [T.UTINYINT]: "int16",
    [T.SMALLINT]: "int16",
    [T.USMALLINT]: "int32",
    [T.INTEGER]: "int32",
    [T.UINTEGER]: "int64",
    [T.BIGINT]: "int64",
    // Beyond Int64's range: exact text (or Decimal128 by option), as numeric.
    [T.UBIGINT]: "numeric",
    [T.HUGEINT]: "numeric",
    [T.UHUGEINT]: "numeric",
    [T.BIGNUM]: "numeric",
    [T.DECIMAL]: "numeric",
    [T.FLOAT]: "float32",
    [T.DOUBLE]: "float64",
    [T.VARCHAR]: "text",
    [T.BLOB]: "binary",
    [T.DATE]: "date",
    [T.TIMESTAMP]: "timestamp",
    [T.TIMESTAMP_S]: "timestamp",
    [T.TIMESTAMP_MS]: "timestamp",
    [T.TIMESTAMP_NS]: "timestamp",
    [T.TIMESTAMP_TZ]: "timestamptz",
    // Objects: written as JSON text.
    [T.STRUCT]: "json",
    [T.MAP]: "json",
    [T.UNION]: "json",
  };
  const map = (t: DuckDB.DuckDBType): ResultColumnType => {
    const name = String(t);
    if (t.typeId === T.LIST || t.typeId === T.ARRAY) {
      return { kind: "list", name, element: map((t as DuckDB.DuckDBListType).valueType) };
    }
    if (t.typeId === T.VARCHAR && t.alias === "JSON") return { kind: "json", name };
    const kind = kinds[t.typeId] ?? "other";
    return kind === "date" || kind === "timestamp" || kind === "timestamptz" ? { kind, name, values } : { kind, name };
  };
  return types.map(map);
}
