import { quoteQualified } from "../../core/identifiers.js";
import type { Adapter, ColumnInfo, Introspector, ServerVersion, UniqueIndex } from "../../driver/adapter.js";

/**
 * A table name as to_regclass text: parsed like every table name (quoted parts understood, `"Record.Target"` one
 * part) and quoted part by part, so the lookup keeps the case the caller used.
 */
export function regclassLiteral(table: string): string {
  return quoteQualified(table, "postgres");
}

const VERSION_SQL =
  "SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS version";

const COLUMNS_SQL = `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
  NOT a.attnotnull AS nullable, a.atthasdef AS has_default
FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

// indnullsnotdistinct exists from PostgreSQL 15: read through the row's JSON, it is absent (false) before.
const UNIQUE_KEYS_SQL = `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols,
  coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY i.indexrelid, i.indisprimary, 2
ORDER BY i.indisprimary DESC`;

/** Catalog queries shared by the pg, postgres.js and PGlite adapters. */
export const postgresIntrospector: Introspector<unknown> = {
  async getVersion(adapter: Adapter<unknown>, conn: unknown): Promise<ServerVersion> {
    const r = await adapter.query(conn, VERSION_SQL, [], {});
    const row = r.rows[0] as { num: number | string; version: string };
    return { versionNum: Number(row.num), version: String(row.version) };
  },
  async getColumns(adapter: Adapter<unknown>, conn: unknown, table: string): Promise<ColumnInfo[]> {
    const r = await adapter.query(conn, COLUMNS_SQL, [regclassLiteral(table)], {});
    return r.rows.map((row) => ({
      name: String(row.name),
      type: String(row.type),
      nullable: Boolean(row.nullable),
      hasDefault: Boolean(row.has_default),
    }));
  },
  async getUniqueKeys(adapter: Adapter<unknown>, conn: unknown, table: string): Promise<string[][]> {
    return (await uniqueIndexes(adapter, conn, table)).map((k) => k.columns);
  },
  getUniqueIndexes: uniqueIndexes,
};

async function uniqueIndexes(adapter: Adapter<unknown>, conn: unknown, table: string): Promise<UniqueIndex[]> {
  const r = await adapter.query(conn, UNIQUE_KEYS_SQL, [regclassLiteral(table)], {});
  return r.rows.map((row) => ({
    columns: parseTextArray(row.cols),
    nullsNotDistinct: row.nulls_not_distinct === true || row.nulls_not_distinct === "t",
  }));
}

/** Drivers may or may not parse name[]/text[]; accept both shapes. */
function parseTextArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  const s = String(value);
  if (!s.startsWith("{")) return [s];
  return s
    .slice(1, -1)
    .split(",")
    .map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/\\(.)/g, "$1") : p));
}
