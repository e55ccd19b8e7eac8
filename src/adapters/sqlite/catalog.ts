/**
 * Catalog facts for SQLite: the library version, a table's columns (`pragma_table_xinfo`, hidden and generated ones
 * included) and its unique keys (`pragma_index_list` / `pragma_index_info`). A table name may carry a schema
 * (`main.t`, an attached `aux.t`).
 */
import { parseName } from "../../core/identifiers.js";
import type { Adapter, ColumnInfo, Introspector, KeyFold, ServerVersion, UniqueIndex } from "../../driver/adapter.js";
import type { SqliteConnection } from "./connection.js";

function splitTable(table: string): [string, string] {
  const parts = parseName(table, "table name");
  const name = parts[parts.length - 1] ?? table;
  return [parts.length >= 2 ? (parts[parts.length - 2] as string) : "main", name];
}

const COLUMNS_SQL = `SELECT name, type, "notnull" AS nn, dflt_value AS dflt, pk, hidden
FROM pragma_table_xinfo(?, ?) ORDER BY cid`;

const UNIQUE_SQL = `SELECT il.name AS idx, ii.name AS col, ii.coll AS coll
FROM pragma_index_list(?, ?) AS il, pragma_index_xinfo(il.name, ?) AS ii
WHERE il."unique" = 1 AND il.partial = 0 AND ii."key" = 1 ORDER BY il.origin = 'pk' DESC, il.name, ii.seqno`;

/** SQLite's built-in collations that are looser than equality (a user-defined one is unknown: compared exactly). */
const FOLDS: Readonly<Record<string, KeyFold>> = { NOCASE: "ascii-case", RTRIM: "trailing-spaces" };

const PK_SQL = `SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk`;

interface XInfo {
  name: string;
  type: string;
  nn: number | bigint;
  dflt: unknown;
  pk: number | bigint;
  hidden: number | bigint;
}

export const sqliteIntrospector: Introspector<any> = {
  async getVersion(adapter: Adapter<any>, conn: unknown): Promise<ServerVersion> {
    const r = await adapter.query(conn, "SELECT sqlite_version() AS v", [], {});
    const version = String((r.rows[0] as { v: string }).v);
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
    const versionNum = m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : 0;
    return { versionNum, version };
  },
  async getColumns(adapter: Adapter<any>, conn: unknown, table: string): Promise<ColumnInfo[]> {
    const [schema, name] = splitTable(table);
    const rows = (await adapter.query(conn, COLUMNS_SQL, [name, schema], {})).rows as unknown as XInfo[];
    const pks = rows.filter((r) => Number(r.pk) > 0);
    // An INTEGER PRIMARY KEY is the rowid: never NULL, and filled in when omitted.
    const rowid = pks.length === 1 && pks[0]?.type.toUpperCase() === "INTEGER" ? pks[0].name : undefined;
    return rows
      .filter((r) => Number(r.hidden) !== 1)
      .map((r) => ({
        name: r.name,
        type: r.type,
        nullable: Number(r.nn) === 0 && r.name !== rowid,
        hasDefault: r.dflt !== null || r.name === rowid || Number(r.hidden) >= 2,
      }));
  },
  async getUniqueKeys(adapter: Adapter<any>, conn: unknown, table: string): Promise<string[][]> {
    return (await uniqueIndexes(adapter, conn, table)).map((k) => k.columns);
  },
  getUniqueIndexes: uniqueIndexes,
  // The schema cookie, re-read at most once a millisecond: DDL on the file by any connection moves it.
  schemaStamp: (conn: SqliteConnection, exact?: boolean) =>
    exact === true ? conn.handle.schemaVersion() : conn.handle.recentSchemaVersion(),
};

async function uniqueIndexes(adapter: Adapter<any>, conn: unknown, table: string): Promise<UniqueIndex[]> {
  const [schema, name] = splitTable(table);
  const r = await adapter.query(conn, UNIQUE_SQL, [name, schema, schema], {});
  const keys = new Map<string, { columns: string[]; folds: (KeyFold | undefined)[] }>();
  for (const row of r.rows) {
    const idx = String(row.idx);
    let k = keys.get(idx);
    if (k === undefined) {
      k = { columns: [], folds: [] };
      keys.set(idx, k);
    }
    k.columns.push(String(row.col));
    k.folds.push(FOLDS[String(row.coll).toUpperCase()]);
  }
  const out: UniqueIndex[] = [...keys.values()].map(({ columns, folds }) =>
    folds.some((f) => f !== undefined)
      ? { columns, nullsNotDistinct: false, folds }
      : { columns, nullsNotDistinct: false },
  );
  // A rowid primary key (INTEGER PRIMARY KEY) has no index of its own.
  const pk = (await adapter.query(conn, PK_SQL, [name, schema], {})).rows.map((x) => String(x.name));
  if (pk.length > 0 && !out.some((k) => k.columns.join("\0") === pk.join("\0"))) {
    out.unshift({ columns: pk, nullsNotDistinct: false });
  }
  return out;
}
