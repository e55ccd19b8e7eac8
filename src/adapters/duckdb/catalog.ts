/**
 * Catalog facts for DuckDB: the version from `version()`, columns from information_schema, unique keys from
 * `duckdb_constraints()` (PRIMARY KEY, UNIQUE) and `duckdb_indexes()` (CREATE UNIQUE INDEX), and how a key column
 * compares text, asked of the engine itself. A table name may carry a schema (`main.t`).
 */
import { parseName, quoteIdent, quotePath } from "../../core/identifiers.js";
import type { Adapter, ColumnInfo, Introspector, KeyFold, ServerVersion, UniqueIndex } from "../../driver/adapter.js";
import type { DuckdbConnection } from "./driver.js";

function splitTable(table: string): [string | null, string] {
  const parts = parseName(table, "table name");
  return [parts.length >= 2 ? (parts[parts.length - 2] as string) : null, parts[parts.length - 1] ?? table];
}

// Every read names the current database: an ATTACHed one may hold a table of the same schema and name.
const COLUMNS_SQL = `SELECT column_name AS name, data_type AS type, is_nullable AS nullable, column_default AS dflt
FROM information_schema.columns
WHERE table_catalog = current_database() AND table_schema = coalesce(?, current_schema()) AND table_name = ?
ORDER BY ordinal_position`;

const UNIQUE_SQL = `SELECT constraint_column_names AS cols FROM duckdb_constraints()
WHERE database_name = current_database() AND schema_name = coalesce(?, current_schema()) AND table_name = ?
  AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')
ORDER BY constraint_type = 'PRIMARY KEY' DESC, constraint_index`;

/**
 * A CREATE UNIQUE INDEX is an ON CONFLICT target too. Its key parts are listed only as expression texts in one
 * VARCHAR (`['"a b"', k]`), which DuckDB's own cast turns back into the list; a part that is a column is that column's
 * name as DuckDB writes it (bare, or double-quoted), anything else is an expression.
 */
const INDEX_SQL = `SELECT expressions::VARCHAR[] AS parts FROM duckdb_indexes()
WHERE database_name = current_database() AND schema_name = coalesce(?, current_schema()) AND table_name = ?
  AND is_unique
ORDER BY index_name`;

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
  getColumns: columns,
  async getUniqueKeys(adapter: Adapter<any>, conn: unknown, table: string): Promise<string[][]> {
    return (await uniqueIndexes(adapter, conn, table)).map((k) => k.columns);
  },
  getUniqueIndexes: uniqueIndexes,
  // Collations are probed on the connection: one whose settings changed (SET default_collation) reads its own.
  schemaStamp: (conn: DuckdbConnection) => conn.settingsEpoch,
};

async function columns(adapter: Adapter<any>, conn: unknown, table: string): Promise<ColumnInfo[]> {
  const r = await adapter.query(conn, COLUMNS_SQL, splitTable(table), {});
  return r.rows.map((row) => ({
    name: String(row.name),
    type: String(row.type),
    nullable: String(row.nullable) === "YES",
    hasDefault: row.dflt !== null && row.dflt !== undefined,
  }));
}

async function uniqueIndexes(adapter: Adapter<any>, conn: unknown, table: string): Promise<UniqueIndex[]> {
  const where = splitTable(table);
  const keys = (await adapter.query(conn, UNIQUE_SQL, where, {})).rows.map((row) =>
    (row.cols as unknown[]).map(String),
  );
  const indexes = (await adapter.query(conn, INDEX_SQL, where, {})).rows;
  if (keys.length === 0 && indexes.length === 0) return [];
  const cols = await columns(adapter, conn, table);
  for (const row of indexes) {
    const parts = (row.parts as unknown[]).map(String);
    const names = parts.map((p) => cols.find((c) => p === c.name || p === quoteIdent(c.name, "duckdb"))?.name);
    // An index on an expression (lower(k)) is no key of columns an upsert can name.
    if (names.every((n) => n !== undefined)) keys.push(names as string[]);
  }
  const text = new Set(cols.filter((c) => c.type === "VARCHAR").map((c) => c.name));
  const folds = await textFolds(
    adapter,
    conn,
    where,
    [...new Set(keys.flat())].filter((c) => text.has(c)),
  );
  return keys.map((columns) =>
    columns.some((c) => folds.has(c))
      ? { columns, nullsNotDistinct: false, folds: columns.map((c) => folds.get(c)) }
      : { columns, nullsNotDistinct: false },
  );
}

/**
 * How each text column compares, asked of the engine: a key conflict (ON CONFLICT included) compares by the column's
 * collation, and DuckDB's catalog does not report it (information_schema's collation_name, duckdb_columns() and
 * DESCRIBE leave it out; only the CREATE TABLE text spells it, and a `SET default_collation` not even there). A
 * column's NULL from an outer join that matches nothing keeps its type, collation included, so comparing it
 * (coalesced to a sample) with a sample of another case or accent answers with the engine's own rule.
 */
async function textFolds(
  adapter: Adapter<any>,
  conn: unknown,
  [schema, name]: [string | null, string],
  columns: readonly string[],
): Promise<Map<string, KeyFold>> {
  const out = new Map<string, KeyFold>();
  if (columns.length === 0) return out;
  const tests = columns.map((c, i) => {
    const ref = `t.${quoteIdent(c, "duckdb")}`;
    return `coalesce(${ref}, 'a') = 'A' AS c${i}, coalesce(${ref}, 'e') = 'é' AS a${i}`;
  });
  const path = quotePath(schema === null ? [name] : [schema, name], "duckdb");
  const r = await adapter.query(
    conn,
    `SELECT ${tests.join(", ")} FROM (SELECT 1) AS one LEFT JOIN ${path} AS t ON false`,
    [],
    {},
  );
  const row = r.rows[0] ?? {};
  columns.forEach((c, i) => {
    const nocase = row[`c${i}`] === true;
    const noaccent = row[`a${i}`] === true;
    const fold = nocase && noaccent ? "case-accents" : nocase ? "case" : noaccent ? "accents" : undefined;
    if (fold !== undefined) out.set(c, fold);
  });
  return out;
}
