/**
 * Catalog facts for DuckDB: the version from `version()`, columns from information_schema, unique keys from
 * `duckdb_constraints()`. A table name may carry a schema (`main.t`).
 */
import { parseName } from "../../core/identifiers.js";
import type { Adapter, ColumnInfo, Introspector, KeyFold, ServerVersion, UniqueIndex } from "../../driver/adapter.js";

function splitTable(table: string): [string | null, string] {
  const parts = parseName(table, "table name");
  return [parts.length >= 2 ? (parts[parts.length - 2] as string) : null, parts[parts.length - 1] ?? table];
}

const COLUMNS_SQL = `SELECT column_name AS name, data_type AS type, is_nullable AS nullable, column_default AS dflt
FROM information_schema.columns
WHERE table_schema = coalesce(?, current_schema()) AND table_name = ?
ORDER BY ordinal_position`;

const UNIQUE_SQL = `SELECT constraint_column_names AS cols FROM duckdb_constraints()
WHERE schema_name = coalesce(?, current_schema()) AND table_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')
ORDER BY constraint_type = 'PRIMARY KEY' DESC, constraint_index`;

/** "v1.5.6" → 10506 (major·10000 + minor·100 + patch). */
export function parseDuckdbVersion(text: string): ServerVersion {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return {
    versionNum: m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : 0,
    version: m ? `${m[1]}.${m[2]}.${m[3]}` : text,
  };
}

export const duckdbIntrospector: Introspector<any> = {
  async getVersion(adapter: Adapter<any>, conn: unknown): Promise<ServerVersion> {
    const r = await adapter.query(conn, "SELECT version() AS v", [], {});
    return parseDuckdbVersion(String((r.rows[0] as { v: string }).v));
  },
  async getColumns(adapter: Adapter<any>, conn: unknown, table: string): Promise<ColumnInfo[]> {
    const r = await adapter.query(conn, COLUMNS_SQL, splitTable(table), {});
    return r.rows.map((row) => ({
      name: String(row.name),
      type: String(row.type),
      nullable: String(row.nullable) === "YES",
      hasDefault: row.dflt !== null && row.dflt !== undefined,
    }));
  },
  getUniqueKeys: uniqueKeys,
  async getUniqueIndexes(adapter: Adapter<any>, conn: unknown, table: string): Promise<UniqueIndex[]> {
    const keys = await uniqueKeys(adapter, conn, table);
    // DuckDB's catalog reports a column's collation only in the table's CREATE statement.
    const r = await adapter.query(conn, TABLE_SQL, splitTable(table), {});
    const ddl = r.rows.length > 0 ? String(r.rows[0]?.sql) : "";
    return keys.map((columns) => {
      const folds = columns.map((c) => collationFold(ddl, c));
      return folds.some((f) => f !== undefined)
        ? { columns, nullsNotDistinct: false, folds }
        : { columns, nullsNotDistinct: false };
    });
  },
};

async function uniqueKeys(adapter: Adapter<any>, conn: unknown, table: string): Promise<string[][]> {
  const r = await adapter.query(conn, UNIQUE_SQL, splitTable(table), {});
  return r.rows.map((row) => (row.cols as unknown[]).map(String));
}

const TABLE_SQL = `SELECT sql FROM duckdb_tables() WHERE schema_name = coalesce(?, current_schema()) AND table_name = ?`;

/** The fold of a column's `COLLATE` clause in DuckDB's CREATE TABLE text (nocase, noaccent, nocase.noaccent). */
function collationFold(ddl: string, column: string): KeyFold | undefined {
  const name = column.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const quoted = column.replace(/"/g, '""').replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`[(,]\\s*(?:"${quoted}"|${name})\\s+[^,()]*?\\bCOLLATE\\s+([A-Za-z_.]+)`, "i").exec(ddl);
  if (m === null) return undefined;
  const parts = new Set((m[1] as string).toLowerCase().split("."));
  const nocase = parts.has("nocase");
  const noaccent = parts.has("noaccent");
  return nocase && noaccent ? "case-accents" : nocase ? "case" : noaccent ? "accents" : undefined;
}
